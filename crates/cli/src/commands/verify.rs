//! `exhibit verify`: the archivist's check of a whole case.

use std::process::ExitCode;

use exhibit_core::ids::CaseId;

use crate::EXIT_VERIFY_FAILED;
use crate::config::Config;
use crate::session::open_store;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Write the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: VerifyArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_store(&config)?;
    let report = exhibit_custody::verify_case(store.as_ref(), &args.case).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(if report.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_VERIFY_FAILED) })
}
