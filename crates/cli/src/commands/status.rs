//! `exhibit status`: each exhibit's jobs, as the ledger records them
//! (done or failed), from the read model; and for ingests that handed
//! their jobs to `exhibit worker` processes, each run's jobs queued,
//! running, done and failed, from the run's records. `--wait` returns once
//! none is queued or running.

use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_app::readmodel::JobStatus;
use exhibit_core::ids::CaseId;
use exhibit_pipeline::RunProgress;

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
    /// Wait until no job of the case's runs is queued or running (or its
    /// run is abandoned), then report: exit 0 if none failed and no run
    /// was abandoned, else 1.
    #[arg(long)]
    wait: bool,
}

/// How often `--wait` looks at the run records again.
const WAIT_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Prints the jobs; exits 1 when any failed, 3 when the ledger has
/// problems, else 0.
pub async fn run(mut args: StatusArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::existing_case(store.as_ref(), &args.case).await?;
    let runs = loop {
        let runs = exhibit_pipeline::run_progress(store.clone(), &args.case)
            .await
            .with_context(|| format!("cannot read the runs of case {}", args.case))?;
        if !args.wait || !runs.iter().any(RunProgress::outstanding) {
            break runs;
        }
        tokio::time::sleep(WAIT_POLL).await;
    };
    let reader = case_reader(&config, store).await?;
    let status =
        reader.status(&args.case).await.with_context(|| format!("cannot read the ledger of case {}", args.case))?;
    if args.json {
        let mut value = serde_json::to_value(&status)?;
        value["runs"] = serde_json::to_value(&runs)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("case {}: ledger head {}", escape_name(status.case.as_str()), status.head_seq);
        for job in &status.jobs {
            let exhibit = job.exhibit.as_ref().map_or("-", |e| e.as_str());
            println!("{}\t{}\t{}\t{}", escape_name(exhibit), job.action, job.status.as_str(), job.count);
        }
        print_runs(&runs);
    }
    for problem in &status.problems {
        crate::logging::notice(&escape_message(&problem.text));
    }
    let failed = status.jobs.iter().any(|j| j.status == JobStatus::Failed) || runs.iter().any(RunProgress::failed);
    Ok(ExitCode::from(match (failed, status.problems.is_empty()) {
        (true, _) => 1,
        (false, false) => 3,
        (false, true) => 0,
    }))
}

fn print_runs(runs: &[RunProgress]) {
    for run in runs {
        if run.abandoned {
            println!(
                "run {}	abandoned: its ingest stopped before handing its jobs to the workers; rerun the same ingest to complete it",
                run.run
            );
        }
        for dead in &run.dead_letters {
            println!(
                "run {}	{}	dead-lettered {} ({}): {}",
                run.run,
                escape_name(&dead.exhibit),
                dead.job_id,
                dead.stage,
                escape_message(&dead.reason)
            );
        }
        for (exhibit, c) in &run.exhibits {
            println!(
                "run {}\t{}\tqueued {}\trunning {}\tdone {}\tfailed {}",
                run.run,
                escape_name(exhibit),
                c.queued,
                c.running,
                c.done,
                c.failed
            );
        }
    }
}
