//! `exhibit listing`: every entry found on an exhibit's images, as DFXML
//! (the schema fiwalk writes), CSV or JSON, read from the stored listings
//! by the application layer's `listing` use case (`exhibit_app::listing`).

use std::io::Write;
use std::process::ExitCode;

use exhibit_app::listing::ExhibitListing;
use exhibit_core::ids::{CaseId, ExhibitRef};

use super::listing_formats::{Csv, Dfxml, Json, Renderer};
use crate::config::Config;
use crate::session::{app_error, open_existing_store};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Dfxml,
    Csv,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ListingArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Exhibit reference.
    #[arg(long)]
    exhibit: ExhibitRef,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub async fn run(mut args: ListingArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let listing = exhibit_app::listing::listing(store.as_ref(), &args.case, &args.exhibit).await.map_err(app_error)?;
    let Some(listing) = listing else {
        anyhow::bail!("exhibit {} of case {} holds nothing; ingest its files or images first", args.exhibit, args.case);
    };
    let mut out = std::io::BufWriter::new(crate::terminal::stdout_for_people());
    render(listing, &args.case, &args.exhibit, args.format, &mut out).await?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the listing of `exhibit` to `out` as DFXML; false (and nothing
/// written) when it holds nothing. `export` puts it into bags.
pub async fn write_dfxml(
    store: &dyn exhibit_store::ObjectStore,
    events: &[exhibit_core::event::CustodyEvent],
    case: &CaseId,
    exhibit: &ExhibitRef,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let listing = ExhibitListing::from_events(store, events, case, exhibit).await.map_err(app_error)?;
    let Some(listing) = listing else { return Ok(false) };
    render(listing, case, exhibit, Format::Dfxml, out).await?;
    Ok(true)
}

async fn render(
    mut listing: ExhibitListing<'_>,
    case: &CaseId,
    exhibit: &ExhibitRef,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut renderer: Box<dyn Renderer> = match format {
        Format::Dfxml => Box::new(Dfxml::with_item(listing.item.clone())),
        Format::Csv => Box::new(Csv),
        Format::Json => Box::new(Json::with_item(listing.item.clone())),
    };
    renderer.begin(out, case, exhibit, &listing.images)?;
    while let Some(line) = listing.next_line().await.map_err(app_error)? {
        renderer.line(out, &line)?;
    }
    renderer.end(out)
}
