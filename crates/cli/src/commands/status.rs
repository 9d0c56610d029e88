//! `exhibit status`: each exhibit's jobs, as the ledger records them
//! (done or failed), from the read model.

use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_app::readmodel::JobStatus;
use exhibit_core::ids::CaseId;

use crate::config::Config;
use crate::session::{case_reader, open_existing_store};
use crate::terminal::{escape_message, escape_name};

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Write JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints the jobs; exits 1 when any failed, 3 when the ledger has
/// problems, else 0.
pub async fn run(mut args: StatusArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::existing_case(store.as_ref(), &args.case).await?;
    let reader = case_reader(&config, store).await?;
    let status =
        reader.status(&args.case).await.with_context(|| format!("cannot read the ledger of case {}", args.case))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("case {}: ledger head {}", escape_name(status.case.as_str()), status.head_seq);
        for job in &status.jobs {
            let exhibit = job.exhibit.as_ref().map_or("-", |e| e.as_str());
            println!("{}\t{}\t{}\t{}", escape_name(exhibit), job.action, job.status.as_str(), job.count);
        }
    }
    for problem in &status.problems {
        crate::logging::notice(&escape_message(&problem.text));
    }
    let failed = status.jobs.iter().any(|j| j.status == JobStatus::Failed);
    Ok(ExitCode::from(match (failed, status.problems.is_empty()) {
        (true, _) => 1,
        (false, false) => 3,
        (false, true) => 0,
    }))
}
