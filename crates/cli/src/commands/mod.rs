//! One module per subcommand.

mod admin;
mod anchor;
mod audit;
mod bundle;
mod cases;
mod completions;
mod export;
mod export_checks;
mod export_snapshot;
mod get;
mod hash;
mod ingest;
mod ingest_manifest;
mod introduce_key;
mod listing;
mod listing_dfxml;
mod listing_formats;
mod manifest_rows;
mod reproduce;
mod reproduce_bundle;
mod serve;
mod serve_uploads;
mod show;
mod show_flags;
mod show_tree;
mod status;
mod submit;
mod summary;
mod summary_attention;
mod summary_facts;
mod summary_print;
mod truncation;
mod verify;
mod verify_all;
mod verify_names;
mod worker;

pub use ingest::transcode_stage;

use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;
use crate::help;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Acquire files and folders into a case, stamped with custody events.
    #[command(after_help = help::INGEST)]
    Ingest(ingest::IngestArgs),
    /// Re-hash every object and check every manifest, ledger link and signature.
    #[command(after_help = help::VERIFY)]
    Verify(verify::VerifyArgs),
    /// Fixity audit: re-hash stored objects, oldest checks first, and record it.
    #[command(after_help = help::AUDIT)]
    Audit(audit::AuditArgs),
    /// List the artefacts of a case or exhibit.
    #[command(after_help = help::SHOW)]
    Show(show::ShowArgs),
    /// Each exhibit's jobs, done or failed, as the ledger records them.
    #[command(after_help = help::STATUS)]
    Status(status::StatusArgs),
    /// Stream an artefact out, checking its hash on the way.
    #[command(after_help = help::GET)]
    Get(get::GetArgs),
    /// Print digests in the format `sha256sum -c` and `md5sum -c` read.
    #[command(after_help = help::HASH)]
    Hash(hash::HashArgs),
    /// List every entry found on an exhibit's images (DFXML, CSV or JSON).
    #[command(after_help = help::LISTING)]
    Listing(listing::ListingArgs),
    /// Re-run the derivation that made an artefact and compare the result.
    #[command(after_help = help::REPRODUCE)]
    Reproduce(reproduce::ReproduceArgs),
    /// List the cases in the store.
    #[command(after_help = help::CASES)]
    Cases,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = help::COMPLETIONS)]
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff), for `man -l -` or a man1 folder.
    #[command(after_help = help::MAN)]
    Man(completions::ManArgs),
    /// Export a case or exhibit: a BagIt bag with an offline checker, or CASE/UCO JSON-LD.
    #[command(after_help = help::EXPORT)]
    Export(export::ExportArgs),
    /// Key rotation: the configured key records another public key in the case.
    #[command(after_help = help::INTRODUCE_KEY)]
    IntroduceKey(introduce_key::IntroduceKeyArgs),
    /// Cluster mode: take jobs of any case off the queue until SIGTERM.
    #[command(after_help = help::WORKER)]
    Worker(worker::WorkerArgs),
    /// The HTTP API: cases, artefacts and downloads for forces, prosecutors and the defence.
    #[command(after_help = help::SERVE)]
    Serve(serve::ServeArgs),
    /// Organisations, API tokens and case ownership for `serve`.
    #[command(subcommand, after_help = help::ADMIN)]
    Admin(admin::AdminCommand),
    /// Send an item manifest's files to `exhibit serve` (tus, resumable), then the manifest.
    #[command(after_help = help::SUBMIT)]
    Submit(submit::SubmitArgs),
}

impl Command {
    /// Whether the command runs as a service (`serve`, `worker`), whose log
    /// is its report, rather than for a person at a terminal.
    pub fn is_service(&self) -> bool {
        matches!(self, Command::Serve(_) | Command::Worker(_))
    }
}

pub async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Ingest(args) => ingest::run(args, config).await,
        Command::Verify(args) => verify::run(args, config).await,
        Command::Audit(args) => audit::run(args, config).await,
        Command::Show(args) => show::run(args, config).await,
        Command::Status(args) => status::run(args, config).await,
        Command::Get(args) => get::run(args, config).await,
        Command::Hash(args) => hash::run(args, config).await,
        Command::Listing(args) => listing::run(args, config).await,
        Command::Reproduce(args) => reproduce::run(args, config).await,
        Command::Cases => cases::run(config).await,
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::IntroduceKey(args) => introduce_key::run(args, config).await,
        Command::Export(args) => export::run(args, config).await,
        Command::Worker(args) => worker::run(args, config).await,
        Command::Serve(args) => serve::run(args, config).await,
        Command::Admin(command) => admin::run(command, config).await,
        Command::Submit(args) => submit::run(args, config).await,
    }
}
