//! One module per subcommand.

mod bundle;
mod cases;
mod get;
mod hash;
mod ingest;
mod listing;
mod listing_dfxml;
mod listing_formats;
mod reproduce;
mod show;
mod verify;

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Acquire files and folders into a case, stamped with custody events.
    Ingest(ingest::IngestArgs),
    /// Re-hash every object and check every manifest, ledger link and signature.
    Verify(verify::VerifyArgs),
    /// List the artefacts of a case or exhibit.
    Show(show::ShowArgs),
    /// Stream an artefact out, checking its hash on the way.
    Get(get::GetArgs),
    /// Print digests in the format `sha256sum -c` and `md5sum -c` read.
    Hash(hash::HashArgs),
    /// List every entry found on an exhibit's images (DFXML, CSV or JSON).
    Listing(listing::ListingArgs),
    /// Re-run the derivation that made an artefact and compare the result.
    Reproduce(reproduce::ReproduceArgs),
    /// List the cases in the store.
    Cases,
}

pub async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Ingest(args) => ingest::run(args, config).await,
        Command::Verify(args) => verify::run(args, config).await,
        Command::Show(args) => show::run(args, config).await,
        Command::Get(args) => get::run(args, config).await,
        Command::Hash(args) => hash::run(args, config).await,
        Command::Listing(args) => listing::run(args, config).await,
        Command::Reproduce(args) => reproduce::run(args, config).await,
        Command::Cases => cases::run(config).await,
    }
}
