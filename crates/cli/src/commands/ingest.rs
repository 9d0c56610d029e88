//! `exhibit ingest`: the arguments, the stages from the configuration,
//! progress bars and the summary; the use case itself is
//! `exhibit_app::ingest`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use exhibit_app::ingest::{IngestDeps, IngestOptions, IngestPhase, IngestProgress, IngestStages};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_intake::{AcquireStage, AssembleStage, ExploreStage, IdentifyStage};
use exhibit_ocr::{OcrBundleStage, OcrStage};
use exhibit_pipeline::{Stage, StageContext, Tally};
use exhibit_transcode::{DEFAULT_POLICY, Policy, TranscodeStage};

use super::summary::Summary;
use super::summary_facts::LedgerFacts;
use super::summary_print;
use crate::config::Config;
use crate::progress::{Phase, Progress};
use crate::session::{app_error, check_operator, open_signer, open_store, trust_policy};
use crate::trust::KeyArgs;

/// Most workers one ingest runs per stage. Each holds read buffers and
/// hashing threads, so an unbounded count exhausts memory long before it
/// helps: `--workers 1000000` used 10.6 GB.
pub const MAX_WORKERS: usize = 64;

#[derive(Debug, Clone, clap::Args)]
pub struct IngestArgs {
    /// Case ID, e.g. 42AB1234520 or T20247001.
    #[arg(long)]
    pub(super) case: CaseId,
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
    /// With `--json --manifest`: where a row's run leaves its summary, so
    /// that the manifest prints one document holding every row's.
    #[arg(skip)]
    pub(super) json_sink: Option<JsonSink>,
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
    /// attention and the exit status. With --manifest, one document too:
    /// the manifest, its exit status and one result per row, each holding
    /// that exhibit's summary under "ingest".
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
    let exhibit = args.exhibit.clone().context("give --exhibit and the paths, or --manifest")?;
    let operator = check_operator(&args.operator)?;
    let workers = args.workers.unwrap_or(config.ingest.workers);
    if !(1..=MAX_WORKERS).contains(&workers) {
        anyhow::bail!("ingest.workers is {workers}; it must be from 1 to {MAX_WORKERS}");
    }
    let stages = ingest_stages(&config)?;
    let anchorer = super::anchor::anchorer(&config.anchoring)?;
    crate::store_overlap::refuse_store_inputs(&config.store.uri, &args.paths)?;
    let plan = exhibit_app::ingest::plan(&args.paths).map_err(app_error)?;
    let store = open_store(&config)?;
    store.check_create_only().await.context("cannot keep a custody ledger in this store")?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    exhibit_app::case_open::refuse_non_portable_new_case(store.as_ref(), &args.case).await.map_err(app_error)?;
    let signer = open_signer(&config)?;
    let trust = trust_policy((&args.keys, &config))?;
    let queue = exhibit_queue::open_queue_with(&config.queue.uri, config.queue.options())
        .context("cannot open the job queue")?;
    let queue = exhibit_pipeline::RecordedDeadLetters::wrap(queue, store.clone());
    let queue = exhibit_app::job_keys::signed_queue(queue, signer.clone(), trust.trusted.clone());
    let deps = IngestDeps { store, queue, signer, trust, stages };
    let options = IngestOptions {
        workers,
        max_attempts: config.ingest.max_attempts,
        detach: args.detach,
        hashes: config.hashing,
        derive_policies: crate::cluster::stages::derive_policies(&config)?,
        heartbeat: config.queue.heartbeat(),
        bundle_pages: args.pages,
    };
    let progress = Arc::new(Progress::new());
    let mut session =
        exhibit_app::ingest::open(&deps, (&args.case, &exhibit), &operator, (plan, options), progress.clone())
            .await
            .map_err(app_error)?;
    let exhibit =
        crate::spelling::resolve_exhibit(exhibit_custody::events_of(&session.entries).map(|(_, e)| e), &exhibit);
    session.exhibit = exhibit.clone();
    let entries = exhibit_custody::events_of(&session.entries).map(|(seq, e)| (seq, e.clone())).collect();
    let mut facts = LedgerFacts::new(&exhibit, entries);
    if args.detach && session.run.is_none() {
        anyhow::bail!(
            "--detach needs a queue other workers take jobs from (--queue amqp://...); memory:// lives in this process"
        );
    }
    let ctx = session.ctx.clone();
    if let Some(item) = &args.item {
        super::ingest_manifest::describe(&ctx, &session.entries, &exhibit, item).await?;
    }
    let started = Instant::now();
    let anchor_log = Arc::new(super::anchor::AnchorLog::default());
    let periodic = anchorer.clone().map(|a| {
        let every = Duration::from_secs(config.anchoring.interval_secs.max(1));
        super::anchor::Periodic::start(ctx.clone(), a, exhibit.clone(), anchor_log.clone(), every)
    });
    let outcome = session.run(&deps.stages, &PhaseBars(progress.clone())).await.map_err(stopped)?;
    if let Some(queued) = outcome.detached {
        return detached(&args, &exhibit, queued);
    }
    // The bundles were made in the derive phase (see exhibit_app's bundle gate).
    facts.catch_up(&ctx).await?;
    if let Some(expected) = args.pages {
        super::bundle::reconcile_pages(&ctx, &facts, &exhibit, expected).await?;
        facts.catch_up(&ctx).await?;
    }
    if let (Some(periodic), Some(anchorer)) = (periodic, &anchorer) {
        periodic.stop().await;
        super::anchor::anchor_now(&ctx, anchorer, &exhibit, &anchor_log).await;
    }
    let code = report(&ctx, (&args, &exhibit), &facts, (outcome.sources, started)).await?;
    anchor_log.print(args.json);
    Ok(dead_lettered(&outcome.dead_letters).unwrap_or(code))
}

/// Names each job dead-lettered without a ledger event (so not in the
/// summary), and why; exit 2 if there was any, since a rerun with the
/// cause fixed (e.g. workers that trust this key) completes the run.
fn dead_lettered(dead: &[exhibit_pipeline::DeadLetter]) -> Option<ExitCode> {
    for d in dead {
        let what = d.job.input.path().unwrap_or(d.job.job_id.0.as_str());
        crate::logging::notice(&format!(
            "job {} ({} of {what}) was dead-lettered and not run: {}",
            d.job.job_id.0, d.job.stage, d.reason
        ));
    }
    (!dead.is_empty()).then(|| {
        crate::logging::notice("fix the cause above (e.g. start the workers with --trusted-keys naming this key), then rerun the same command");
        ExitCode::from(2)
    })
}

/// A run that stopped part way: running the same command resumes it.
fn stopped(e: exhibit_app::AppError) -> anyhow::Error {
    app_error(e).context("ingest stopped; rerun the same command to resume")
}

/// One row's `--json` summary, kept for the manifest's one document.
#[derive(Debug, Clone, Default)]
pub(super) struct JsonSink(Arc<std::sync::Mutex<Option<serde_json::Value>>>);

impl JsonSink {
    fn put(&self, value: serde_json::Value) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(value);
        }
    }

    /// The summary a run left, if it got that far.
    pub(super) fn take(&self) -> Option<serde_json::Value> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// The stages of an ingest, configured as `exhibit worker` configures them.
pub(crate) fn ingest_stages(config: &Config) -> anyhow::Result<IngestStages> {
    let transcode = transcode_stage(config)?;
    config.ocr.validate()?;
    // With memory:// the OCR stage runs here: its languages must be installed here.
    if config.queue.uri.starts_with("memory:") {
        crate::ocr_languages::check_installed(&config.ocr)?;
    }
    let identify = IdentifyStage { policy: config.identify };
    Ok(IngestStages {
        intake: vec![
            Arc::new(AcquireStage { identify: config.identify, ..AcquireStage::default() }),
            Arc::new(identify),
        ],
        assemble: Arc::new(AssembleStage),
        explore: vec![Arc::new(ExploreStage {
            limits: config.limits,
            policy: config.explore.clone(),
            identify: config.identify,
        })],
        derive: vec![
            Arc::new(transcode),
            Arc::new(OcrStage { policy: config.ocr.clone() }),
            Arc::new(OcrBundleStage { policy: config.ocr.clone() }),
        ],
    })
}

/// The progress bars, drawn per phase of the use case.
struct PhaseBars(Arc<Progress>);

impl IngestProgress for PhaseBars {
    fn phase_started(
        &self,
        phase: IngestPhase,
        stages: Vec<Arc<dyn Stage>>,
        jobs: &[exhibit_queue::Job],
        sources: (u64, u64),
    ) -> Vec<Arc<dyn Stage>> {
        let phase = match phase {
            IngestPhase::Acquire => Phase::Acquire,
            IngestPhase::Explore => Phase::Explore,
            IngestPhase::Derive => Phase::Derive,
        };
        self.0.begin(phase, stages, jobs, sources)
    }

    fn phase_ended(&self) {
        self.0.end();
    }
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
    Ok(TranscodeStage { policy, limits: config.transcode.limits() })
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
    if let (true, Some(sink)) = (args.json, &args.json_sink) {
        sink.put(serde_json::to_value(&summary)?);
    } else if args.json {
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
