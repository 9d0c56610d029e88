//! `exhibit listing`: every entry found on an exhibit's images, as DFXML
//! (the schema fiwalk writes), CSV or JSON, read from the stored listings.

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_core::event::{Action, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::object_key;
use exhibit_core::params::EventParams;
use exhibit_intake::explore::listing::ListingLine;

use super::listing_formats::{Csv, Dfxml, Json, Renderer};
use crate::config::Config;
use crate::session::{case_events, open_existing_store};

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

/// A stored listing: the image it describes and the listing object.
struct Stored {
    image_path: String,
    sha256: exhibit_core::Sha256Digest,
}

pub async fn run(mut args: ListingArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let events = case_events(store.as_ref(), &args.case).await?;
    let mut out = std::io::BufWriter::new(crate::terminal::stdout_for_people());
    if !render(store.as_ref(), &events, &args.case, &args.exhibit, args.format, &mut out).await? {
        anyhow::bail!("exhibit {} of case {} holds nothing; ingest its files or images first", args.exhibit, args.case);
    }
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
    render(store, events, case, exhibit, Format::Dfxml, out).await
}

async fn render(
    store: &dyn exhibit_store::ObjectStore,
    events: &[exhibit_core::event::CustodyEvent],
    case: &CaseId,
    exhibit: &ExhibitRef,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let stored = listings(events, exhibit);
    // An exhibit of files and folders has no image listing: its originals
    // are its entries.
    let folder = match stored.is_empty() {
        true => super::listing_folder::originals_as_listing(store, case, exhibit).await?,
        false => Vec::new(),
    };
    if stored.is_empty() && folder.is_empty() {
        return Ok(false);
    }
    let mut renderer: Box<dyn Renderer> = match format {
        Format::Dfxml => Box::new(Dfxml::with_item(latest_item(events, exhibit))),
        Format::Csv => Box::new(Csv),
        Format::Json => Box::new(Json::with_item(latest_item(events, exhibit))),
    };
    renderer.begin(out, case, exhibit, &stored.iter().map(|s| s.image_path.clone()).collect::<Vec<_>>())?;
    for line in &folder {
        renderer.line(out, line)?;
    }
    for listing in &stored {
        let reader = store.get(&object_key(case, &listing.sha256), Some(listing.sha256)).await?;
        for line in BufReader::new(reader).lines() {
            let line = line.with_context(|| {
                format!("the stored listing {} failed its hash check or could not be read", listing.sha256)
            })?;
            let parsed: ListingLine =
                serde_json::from_str(&line).context("a stored listing line does not parse; run `exhibit verify`")?;
            renderer.line(out, &parsed)?;
        }
    }
    renderer.end(out)?;
    Ok(true)
}

/// The exhibit's metadata from the latest item manifest row describing it.
fn latest_item(
    events: &[exhibit_core::event::CustodyEvent],
    exhibit: &ExhibitRef,
) -> Option<exhibit_core::item::ItemRecord> {
    events
        .iter()
        .rev()
        .filter(|e| e.action == Action::Described && e.outcome == Outcome::Ok && e.exhibit.as_ref() == Some(exhibit))
        .find_map(|e| e.described_params()?.item_record())
}

/// Listings recorded by successful `explored` events of this exhibit, with
/// the path of the image each describes.
fn listings(events: &[exhibit_core::event::CustodyEvent], exhibit: &ExhibitRef) -> Vec<Stored> {
    events
        .iter()
        .filter(|e| e.action == Action::Explored && e.outcome == Outcome::Ok && e.exhibit.as_ref() == Some(exhibit))
        .filter_map(|e| {
            let artefact = e.artefact.as_ref()?;
            let image = e.inputs.first()?;
            let image_path = events
                .iter()
                .filter(|a| a.action == Action::Acquired || a.action == Action::Extracted)
                .find(|a| a.artefact.as_ref().and_then(|x| x.id.as_ref()) == Some(&image.id))
                .and_then(|a| match a.typed_params().ok()? {
                    EventParams::Acquired(p) => p.source_display().map(str::to_owned),
                    EventParams::Extracted(p) => p.facts?.pointer("/source/path/display")?.as_str().map(str::to_owned),
                    _ => None,
                })
                .unwrap_or_else(|| image.id.to_string());
            Some(Stored { image_path, sha256: artefact.sha256 })
        })
        .collect()
}
