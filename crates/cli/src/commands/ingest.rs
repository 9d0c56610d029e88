//! `exhibit ingest`: plan, then run acquire and identify over the queue.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_intake::{AcquireStage, ExploreStage, IdentifyStage, acquire_jobs, plan_sources};
use exhibit_ocr::OcrStage;
use exhibit_pipeline::{Runner, Stage, StageContext, Tally};
use exhibit_transcode::{DEFAULT_POLICY, Policy, TranscodeStage};

use super::summary::Summary;
use super::summary_facts::LedgerFacts;
use super::summary_print;
use crate::config::Config;
use crate::progress::{Phase, Progress};
use crate::session::{actor, check_operator, open_case_reading, open_signer, open_store};
use crate::trust::KeyArgs;

#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Case ID, e.g. 42AB1234520 or T20247001.
    #[arg(long)]
    case: CaseId,
    /// Exhibit reference, e.g. JS/1.
    #[arg(long)]
    exhibit: ExhibitRef,
    /// Name of the person responsible for this acquisition.
    #[arg(long)]
    operator: String,
    /// Pages the paper bundle should have; a different count of scanned
    /// pages is flagged on the exhibit.
    #[arg(long, value_name = "N")]
    pages: Option<u32>,
    /// Files acquired at once (overrides ingest.workers).
    #[arg(long)]
    workers: Option<usize>,
    /// Print one JSON document on stdout instead of the table: every
    /// artefact ID of the exhibit with its path, the counts, what needs
    /// attention and the exit status.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    keys: KeyArgs,
    /// Files and folders to acquire. Folders are walked; symlinks are
    /// recorded, not followed.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub async fn run(args: IngestArgs, config: Config) -> anyhow::Result<ExitCode> {
    let operator = check_operator(&args.operator)?;
    let transcode = transcode_stage(&config)?;
    config.ocr.validate()?;
    let plan = plan_sources(&args.paths)?;
    let store = open_store(&config)?;
    let signer = open_signer(&config)?;
    let (ledger, index, entries) =
        open_case_reading(store.clone(), &args.case, signer.clone(), (&args.keys, &config)).await?;
    let mut facts = LedgerFacts::new(&args.exhibit, entries);
    // Fail on a bad queue URI before anything is written.
    exhibit_queue::open_queue(&config.queue.uri, config.queue.capacity).context("cannot open the job queue")?;
    let progress = Arc::new(Progress::new());
    let mut ctx = StageContext::new(args.case.clone(), store, ledger, actor(&operator, &signer), index);
    ctx.hashes = config.hashing;
    ctx.progress = progress.clone();
    let ctx = Arc::new(ctx);
    let workers = args.workers.unwrap_or(config.ingest.workers);
    let started = Instant::now();
    // Phase 1 acquires and identifies every source; phase 2 explores the
    // media among them, once every member of a set (E01 segments, the .bin
    // files of a cue sheet) is in the store.
    let acquire: Vec<Arc<dyn Stage>> = vec![Arc::new(AcquireStage), Arc::new(IdentifyStage)];
    let explore: Vec<Arc<dyn Stage>> = vec![Arc::new(ExploreStage { limits: config.limits })];
    let derive: Vec<Arc<dyn Stage>> = vec![Arc::new(transcode), Arc::new(OcrStage { policy: config.ocr.clone() })];
    let mut jobs = acquire_jobs(&plan, &args.case, &args.exhibit);
    for (phase, stages) in [(Phase::Acquire, acquire), (Phase::Explore, explore), (Phase::Derive, derive)] {
        let stages = progress.begin(phase, stages, &jobs, (plan.items.len() as u64, plan.total_bytes));
        let queue =
            exhibit_queue::open_queue(&config.queue.uri, config.queue.capacity).context("cannot open the job queue")?;
        let summary = Runner::new(ctx.clone(), queue, stages, workers)
            .with_max_attempts(config.ingest.max_attempts)
            .run(jobs)
            .await
            .context("ingest stopped; rerun the same command to resume")?;
        progress.end();
        tracing::info!(jobs = summary.jobs, retries = summary.retries, "phase finished");
        jobs = summary.deferred;
    }
    facts.catch_up(&ctx).await?;
    if let Some(expected) = args.pages {
        super::bundle::reconcile_pages(&ctx, &facts.events, &args.exhibit, expected).await?;
        facts.catch_up(&ctx).await?;
    }
    report(&ctx, &args, &facts, (plan.items.len(), started)).await
}

/// The transcode stage with the configured (or built-in) policy.
pub fn transcode_stage(config: &Config) -> anyhow::Result<TranscodeStage> {
    let policy = match &config.transcode.policy_file {
        Some(path) => exhibit_transcode::load_policy(path)?,
        None => Policy::from_toml(DEFAULT_POLICY)?,
    };
    Ok(TranscodeStage { policy, limits: exhibit_transcode::Limits::default() })
}

/// Prints the run's line, then the summary (table or JSON), and picks the
/// exit code: 0 clean, 3 needs attention, 2 failures a rerun could fix.
async fn report(
    ctx: &StageContext,
    args: &IngestArgs,
    facts: &LedgerFacts,
    (files, started): (usize, Instant),
) -> anyhow::Result<ExitCode> {
    let summary = Summary::gather(ctx, facts, args.paths.len()).await?;
    if args.json {
        summary_print::print_json(&summary)?;
    } else {
        print_run_line(ctx, args, files, started);
        summary_print::print_table(&summary);
    }
    summary_print::print_failures(&summary);
    if summary.exit == 0 && !args.json && !crate::logging::quiet() {
        println!("next: exhibit verify --case {}", args.case);
    }
    Ok(ExitCode::from(summary.exit))
}

fn print_run_line(ctx: &StageContext, args: &IngestArgs, files: usize, started: Instant) {
    let tally = &ctx.tally;
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    let bytes = Tally::get(&tally.bytes);
    println!(
        "case {} exhibit {}: {} files: {} stored, {} already recorded, {} failed; {} bytes in {:.1} s ({:.1} MB/s, {:.0} files/s)",
        args.case,
        args.exhibit,
        files,
        Tally::get(&tally.stored),
        Tally::get(&tally.skipped),
        tally.failures().len(),
        bytes,
        secs,
        bytes as f64 / secs / 1e6,
        files as f64 / secs,
    );
}
