//! `exhibit ingest`: plan, then run acquire and identify over the queue.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_intake::{AcquireStage, ExploreStage, IdentifyStage, acquire_jobs, plan_sources};
use exhibit_ocr::{OcrBundleStage, OcrStage};
use exhibit_pipeline::derive::DerivePolicies;
use exhibit_pipeline::{Completions, RunId, Stage, StageContext, Tally, WorkerConfig, run_in_process};
use exhibit_transcode::{DEFAULT_POLICY, Policy, TranscodeStage};

use super::summary::Summary;
use super::summary_facts::LedgerFacts;
use super::summary_print;
use crate::cluster::remote::{in_run, wait_for_workers};
use crate::config::Config;
use crate::progress::{Phase, Progress};
use crate::session::{actor, check_operator, open_case, open_signer, open_store};
use crate::trust::KeyArgs;

/// Most workers one ingest runs per stage. Each holds read buffers and
/// hashing threads, so an unbounded count exhausts memory long before it
/// helps: `--workers 1000000` used 10.6 GB.
pub const MAX_WORKERS: usize = 64;

#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    /// Case ID, e.g. 42AB1234520 or T20247001.
    #[arg(long)]
    case: CaseId,
    /// Exhibit reference, e.g. JS/1 or SB 1.
    #[arg(long, required_unless_present = "manifest")]
    pub(super) exhibit: Option<ExhibitRef>,
    /// Item manifest (CSV, or JSON if named *.json): one row per exhibit
    /// with its path and metadata (see `exhibit ingest --help`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["exhibit", "paths", "pages"])]
    pub(super) manifest: Option<PathBuf>,
    /// The manifest row this run ingests, recorded as a `described` event.
    #[arg(skip)]
    pub(super) item: Option<Box<super::ingest_manifest::DescribedItem>>,
    /// Name of the person responsible for this acquisition.
    #[arg(long)]
    operator: String,
    /// Pages the paper bundle should have; a different count of scanned
    /// pages is flagged on the exhibit. At least 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) pages: Option<u32>,
    /// Files acquired at once (overrides ingest.workers), 1 to 64.
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_WORKERS as u64))]
    workers: Option<usize>,
    /// Print one JSON document on stdout instead of the table: every
    /// artefact ID of the exhibit with its path, the counts, what needs
    /// attention and the exit status.
    #[arg(long)]
    pub(super) json: bool,
    /// With a shared queue (--queue amqp://...): return once the sources
    /// are acquired and identified and the later jobs queued, without
    /// waiting for the workers; follow with `exhibit status --case C --wait`.
    #[arg(long)]
    pub(super) detach: bool,
    #[command(flatten)]
    keys: KeyArgs,
    /// Files and folders to acquire. Folders are walked; symlinks are
    /// recorded, not followed.
    #[arg(required_unless_present = "manifest", value_name = "PATH")]
    pub(super) paths: Vec<PathBuf>,
}

pub async fn run(mut args: IngestArgs, config: Config) -> anyhow::Result<ExitCode> {
    if args.manifest.is_some() {
        return super::ingest_manifest::run(args, config).await;
    }
    let mut exhibit = args.exhibit.clone().context("give --exhibit and the paths, or --manifest")?;
    let operator = check_operator(&args.operator)?;
    let workers = args.workers.unwrap_or(config.ingest.workers);
    if !(1..=MAX_WORKERS).contains(&workers) {
        anyhow::bail!("ingest.workers is {workers}; it must be from 1 to {MAX_WORKERS}");
    }
    let transcode = transcode_stage(&config)?;
    config.ocr.validate()?;
    let anchorer = super::anchor::anchorer(&config.anchoring)?;
    crate::store_overlap::refuse_store_inputs(&config.store.uri, &args.paths)?;
    let plan = plan_sources(&args.paths)?;
    let store = open_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    refuse_non_portable_new_case(store.as_ref(), &args.case).await?;
    let signer = open_signer(&config)?;
    let case = open_case(store.clone(), &args.case, signer.clone(), (&args.keys, &config)).await?;
    exhibit = crate::spelling::resolve_exhibit(exhibit_custody::events_of(&case.entries).map(|(_, e)| e), &exhibit);
    let entries = exhibit_custody::events_of(&case.entries).map(|(seq, e)| (seq, e.clone())).collect();
    let mut facts = LedgerFacts::new(&exhibit, entries);
    let (ledger, index) = (case.ledger, case.index);
    // Fail on a bad queue URI before anything is written.
    let queue = exhibit_queue::open_queue(&config.queue.uri).context("cannot open the job queue")?;
    // Workers elsewhere write the records of a shared queue's jobs.
    let run = queue.shared().then(RunId::new);
    if args.detach && run.is_none() {
        anyhow::bail!(
            "--detach needs a queue other workers take jobs from (--queue amqp://...); memory:// lives in this process"
        );
    }
    let progress = Arc::new(Progress::new());
    let completions = Arc::new(match &run {
        Some(run) => Completions::new(store.clone(), &args.case, run.clone()),
        None => Completions::in_process(store.clone(), &args.case, RunId::new()),
    });
    let mut ctx = StageContext::new(args.case.clone(), store, ledger, actor(&operator, &signer), index);
    ctx.hashes = config.hashing;
    ctx.progress = progress.clone();
    let ocr = OcrStage { policy: config.ocr.clone() };
    ctx.derive_policies = DerivePolicies { transcode: transcode.policy_identity()?, ocr: ocr.policy_version() };
    let ctx = Arc::new(ctx);
    if let Some(item) = &args.item {
        super::ingest_manifest::describe(&ctx, &case.entries, &exhibit, item).await?;
    }
    let started = Instant::now();
    let anchor_log = Arc::new(super::anchor::AnchorLog::default());
    let periodic = anchorer.clone().map(|a| {
        let every = Duration::from_secs(config.anchoring.interval_secs.max(1));
        super::anchor::Periodic::start(ctx.clone(), a, exhibit.clone(), anchor_log.clone(), every)
    });
    // Phase 1 acquires and identifies every source; phase 2 explores the
    // media among them, once every member of a set (E01 segments, the .bin
    // files of a cue sheet) is in the store. A phase ends when every job of
    // its stages has a completion record; later phases' jobs wait on the
    // queue meanwhile.
    let identify = IdentifyStage { policy: config.identify };
    let acquire: Vec<Arc<dyn Stage>> = vec![Arc::new(AcquireStage), Arc::new(identify)];
    let explore: Vec<Arc<dyn Stage>> = vec![Arc::new(ExploreStage {
        limits: config.limits,
        policy: config.explore.clone(),
        identify: config.identify,
    })];
    let derive: Vec<Arc<dyn Stage>> = vec![Arc::new(transcode), Arc::new(ocr)];
    let mut jobs = in_run(acquire_jobs(&plan, &args.case, &exhibit), run.as_ref());
    completions.put_roots(&jobs).await.context("cannot record the run's jobs")?;
    for (phase, stages) in [(Phase::Acquire, acquire), (Phase::Explore, explore), (Phase::Derive, derive)] {
        let stages = progress.begin(phase, stages, &jobs, (plan.items.len() as u64, plan.total_bytes));
        let worker = WorkerConfig {
            concurrency: workers,
            max_attempts: config.ingest.max_attempts,
            ..WorkerConfig::new(stages)
        };
        // Acquire and identify read the evidence, so they run here; with
        // a shared queue, `exhibit worker` processes run the rest.
        let summary = if run.is_some() && phase != Phase::Acquire {
            wait_for_workers(&completions, &worker.stages, jobs).await
        } else {
            run_in_process(ctx.clone(), queue.clone(), completions.clone(), worker, (jobs, phase != Phase::Acquire))
                .await
        };
        let summary = summary.context("ingest stopped; rerun the same command to resume")?;
        progress.end();
        tracing::info!(jobs = summary.jobs, retries = summary.workers.retries, "phase finished");
        jobs = summary.deferred;
        if args.detach {
            return detached(&args, &exhibit, jobs.len());
        }
    }
    facts.catch_up(&ctx).await?;
    let bundles = in_run(super::bundle::bundle_jobs(&ctx, &facts, &exhibit, args.pages, &config), run.as_ref());
    if !bundles.is_empty() {
        let stages: Vec<Arc<dyn Stage>> = vec![Arc::new(OcrBundleStage { policy: config.ocr.clone() })];
        let stages = progress.begin(Phase::Bundle, stages, &bundles, (0, 0));
        let worker =
            WorkerConfig { concurrency: 1, max_attempts: config.ingest.max_attempts, ..WorkerConfig::new(stages) };
        run_in_process(ctx.clone(), queue.clone(), completions.clone(), worker, (bundles, false))
            .await
            .context("ingest stopped; rerun the same command to resume")?;
        progress.end();
        facts.catch_up(&ctx).await?;
    }
    if let Some(expected) = args.pages {
        super::bundle::reconcile_pages(&ctx, &facts, &exhibit, expected).await?;
        facts.catch_up(&ctx).await?;
    }
    if let (Some(periodic), Some(anchorer)) = (periodic, &anchorer) {
        periodic.stop().await;
        super::anchor::anchor_now(&ctx, anchorer, &exhibit, &anchor_log).await;
    }
    let code = report(&ctx, (&args, &exhibit), &facts, (plan.items.len(), started)).await?;
    anchor_log.print(args.json);
    Ok(code)
}

/// `--detach`: the sources are recorded and the rest is queued.
fn detached(args: &IngestArgs, exhibit: &ExhibitRef, queued: usize) -> anyhow::Result<ExitCode> {
    if !crate::logging::quiet() {
        println!("case {} exhibit {exhibit}: acquired and identified; {queued} jobs queued for the workers", args.case);
        println!("next: exhibit status --case {} --wait", args.case);
    }
    Ok(ExitCode::SUCCESS)
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
    (args, exhibit): (&IngestArgs, &ExhibitRef),
    facts: &LedgerFacts,
    (files, started): (usize, Instant),
) -> anyhow::Result<ExitCode> {
    let summary = Summary::gather(ctx, facts, args.paths.len()).await?;
    if args.json {
        summary_print::print_json(&summary)?;
    } else if crate::logging::quiet() {
        summary_print::print_attention_warnings(&summary);
    } else {
        print_run_line(ctx, (args, exhibit), files, started);
        summary_print::print_table(&summary);
    }
    summary_print::print_failures(&summary);
    if summary.exit == 0 && !args.json && !crate::logging::quiet() {
        println!("next: exhibit verify --case {}", args.case);
    }
    Ok(ExitCode::from(summary.exit))
}

fn print_run_line(ctx: &StageContext, (args, exhibit): (&IngestArgs, &ExhibitRef), files: usize, started: Instant) {
    let tally = &ctx.tally;
    let secs = started.elapsed().as_secs_f64().max(1e-6);
    let bytes = Tally::get(&tally.bytes);
    println!(
        "case {} exhibit {}: {} files: {} stored, {} already recorded, {} failed; {} bytes in {:.1} s ({:.1} MB/s, {:.0} files/s)",
        args.case,
        exhibit,
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

/// A new case may not take an ID a Windows or SMB share cannot hold as a
/// folder; a case already in the store keeps its ID.
async fn refuse_non_portable_new_case(store: &dyn exhibit_store::ObjectStore, case: &CaseId) -> anyhow::Result<()> {
    let Some(why) = case.non_portable() else { return Ok(()) };
    if store.head(&exhibit_core::layout::ledger_key(case, 1)).await.is_ok() {
        return Ok(());
    }
    anyhow::bail!("case ID {case} cannot start a new case: {why}; choose another ID")
}
