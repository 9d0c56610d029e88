//! The ingest use case: plan the sources, acquire and identify them here
//! (they are on this machine), record each set once its members are
//! acquired, queue the later jobs (explore, transcode, OCR) and wait until
//! every job of the run has a completion record, with workers in this
//! process (an in-process queue) or in `exhibit worker` processes (a
//! shared queue). The CLI, and the HTTP API after an upload, call it; they
//! give the actor, the stages and a progress observer, and print the
//! outcome as they like.
//!
//! ```no_run
//! # async fn example(deps: exhibit_app::ingest::IngestDeps) -> exhibit_app::Result<()> {
//! use exhibit_app::ingest::{IngestOptions, IngestRequest, NoIngestProgress, ingest};
//! let request = IngestRequest {
//!     case: "42AB1234520".parse().unwrap(),
//!     exhibit: "JS/1".parse().unwrap(),
//!     operator: "jane.smith@force.example".into(),
//!     paths: vec!["/srv/uploads/abc123/scan1.tif".into()],
//!     recorded_as: Some(("/srv/uploads/abc123".into(), "upload/abc123".into())),
//!     options: IngestOptions::default(),
//! };
//! let (outcome, _session) = ingest(&deps, request, std::sync::Arc::new(NoIngestProgress)).await?;
//! println!("{} jobs, {} failed", outcome.jobs, outcome.failed);
//! # Ok(()) }
//! ```

mod bundle_gate;
mod phases;

use std::path::PathBuf;
use std::sync::Arc;

use exhibit_core::HashSelection;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_custody::{LedgerEntry, Signer};
use exhibit_intake::Plan;
use exhibit_pipeline::derive::DerivePolicies;
use exhibit_pipeline::{Completions, ProgressSink, RunId, Stage, StageContext};
use exhibit_queue::{Job, JobQueue};
use exhibit_store::ObjectStore;

use crate::Result;
use crate::case_open::{TrustPolicy, actor, check_operator, open_case, refuse_non_portable_new_case};

pub use phases::in_run;

/// The phases of an ingest, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestPhase {
    /// Store and identify every source, then record the sets.
    Acquire,
    /// Open images and extract what they hold.
    Explore,
    /// Transcode and OCR.
    Derive,
}

/// Told as an ingest goes; the CLI draws bars, an API can publish events.
pub trait IngestProgress: Send + Sync {
    /// `phase` starts with `jobs` queued (for the acquire phase, `sources`
    /// is the plan's files and bytes). Returns the stages to run, wrapped
    /// as the observer likes (to count jobs).
    fn phase_started(
        &self,
        phase: IngestPhase,
        stages: Vec<Arc<dyn Stage>>,
        jobs: &[Job],
        sources: (u64, u64),
    ) -> Vec<Arc<dyn Stage>>;
    /// The phase that started last is complete.
    fn phase_ended(&self);
}

/// Observes nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIngestProgress;

impl IngestProgress for NoIngestProgress {
    fn phase_started(
        &self,
        _: IngestPhase,
        stages: Vec<Arc<dyn Stage>>,
        _: &[Job],
        _: (u64, u64),
    ) -> Vec<Arc<dyn Stage>> {
        stages
    }
    fn phase_ended(&self) {}
}

impl exhibit_pipeline::ProgressSink for NoIngestProgress {
    fn bytes_read(&self, _: u64) {}
    fn file_done(&self) {}
    fn message(&self, _: &str) {}
}

/// The stages an ingest runs, configured by the caller (the stage registry
/// that `exhibit worker` shares), so that a job gives the same records
/// wherever it runs.
#[derive(Clone)]
pub struct IngestStages {
    /// Acquire and identify: run in this process, where the sources are.
    pub intake: Vec<Arc<dyn Stage>>,
    /// Records sets; run in this process once the intake phase is done.
    pub assemble: Arc<dyn Stage>,
    /// Explore.
    pub explore: Vec<Arc<dyn Stage>>,
    /// Transcode, OCR and the bundles of scanned pages (`ocr-bundle`).
    pub derive: Vec<Arc<dyn Stage>>,
}

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Jobs run at once per stage in this process.
    pub workers: usize,
    /// Deliveries of a job before it is recorded as failed.
    pub max_attempts: u32,
    /// With a shared queue: return once the later jobs are queued.
    pub detach: bool,
    /// Digests besides SHA-256.
    pub hashes: HashSelection,
    /// The derivation policies, part of derive job IDs.
    pub derive_policies: DerivePolicies,
    /// With a shared queue: how often the run's heartbeat is recorded, and
    /// how often a waiting ingest says what it still waits for.
    pub heartbeat: std::time::Duration,
    /// The page count of the exhibit's paper bundle, if the operator gave
    /// it: a folder of one page file is then a bundle too.
    pub bundle_pages: Option<u32>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            workers: 4,
            max_attempts: 3,
            detach: false,
            hashes: HashSelection::default(),
            derive_policies: DerivePolicies::default(),
            heartbeat: std::time::Duration::from_secs(30),
            bundle_pages: None,
        }
    }
}

/// What an ingest works with, chosen once by the caller.
pub struct IngestDeps {
    /// Where the evidence and the ledger go.
    pub store: Arc<dyn ObjectStore>,
    /// Where jobs go: in this process, or shared with workers elsewhere.
    pub queue: Arc<dyn JobQueue>,
    /// Signs what the ingest records.
    pub signer: Arc<Signer>,
    /// Which keys may sign the case.
    pub trust: TrustPolicy,
    /// The stages.
    pub stages: IngestStages,
}

/// One ingest: a case, an exhibit, who is acting, what to read.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// The case.
    pub case: CaseId,
    /// The exhibit.
    pub exhibit: ExhibitRef,
    /// The person responsible (the authenticated user on the API).
    pub operator: String,
    /// Files and folders to read.
    pub paths: Vec<PathBuf>,
    /// `(read root, recorded root)`: sources under the first are recorded
    /// as under the second (see [`Plan::record_under`]); `None` records
    /// the paths read.
    pub recorded_as: Option<(PathBuf, PathBuf)>,
    /// How.
    pub options: IngestOptions,
}

/// What an ingest came to.
#[derive(Debug, Clone, Default)]
pub struct IngestOutcome {
    /// Sources planned.
    pub sources: usize,
    /// Jobs complete (done or failed) in the phases that were waited for.
    pub jobs: usize,
    /// Of those, jobs that failed for good.
    pub failed: usize,
    /// With `detach`: the jobs left queued for the workers.
    pub detached: Option<usize>,
    /// Jobs dead-lettered without a completion record (counted in
    /// `failed`; the ledger has no `failed` event for them).
    pub dead_letters: Vec<exhibit_pipeline::DeadLetter>,
}

/// An ingest ready to run: the case opened, the plan made. Kept after the
/// run, so a caller can run more jobs in it ([`IngestSession::run_more`])
/// and read what it recorded (`ctx`).
pub struct IngestSession {
    /// The stage context every job of the run shares.
    pub ctx: Arc<StageContext>,
    /// The case's checked entries when it was opened.
    pub entries: Vec<LedgerEntry>,
    /// The exhibit (the caller may replace it with the spelling the ledger
    /// holds before [`IngestSession::run`]).
    pub exhibit: ExhibitRef,
    /// The sources.
    pub plan: Plan,
    /// The job queue.
    pub queue: Arc<dyn JobQueue>,
    /// The run, when workers elsewhere write its completion records.
    pub run: Option<RunId>,
    /// Where the run's completion records are.
    completions: Arc<Completions>,
    options: IngestOptions,
}

/// Plans `paths`: every file of every folder, every set member found
/// beside a named file. Fails before anything is written.
pub fn plan(paths: &[PathBuf]) -> Result<Plan> {
    Ok(exhibit_intake::plan_sources(paths)?)
}

/// Opens `case` for the ingest of `plan` as `operator`: the ledger's chain
/// checked, the signer admitted, a context whose records go through the
/// ledger's guard.
pub async fn open(
    deps: &IngestDeps,
    (case, exhibit): (&CaseId, &ExhibitRef),
    operator: &str,
    (mut plan, options): (Plan, IngestOptions),
    sink: Arc<dyn ProgressSink>,
) -> Result<IngestSession> {
    let operator = check_operator(operator)?;
    refuse_non_portable_new_case(deps.store.as_ref(), case).await?;
    let opened = open_case(deps.store.clone(), case, deps.signer.clone(), &deps.trust).await?;
    // Sources are named by where they were found, except a path as typed
    // that the ledger already holds (see ARCHITECTURE, "Recorded paths").
    let held: std::collections::HashSet<&[u8]> =
        opened.index.originals(exhibit).iter().map(|(path, _)| path.as_slice()).collect();
    plan.name_where_found(|path| held.contains(path));
    let run = deps.queue.shared().then(RunId::new);
    let completions = Arc::new(match &run {
        Some(run) => Completions::new(deps.store.clone(), case, run.clone()),
        None => Completions::in_process(deps.store.clone(), case, RunId::new()),
    });
    let actor = actor(&operator, &deps.signer);
    let mut ctx = StageContext::new(case.clone(), deps.store.clone(), opened.ledger, actor, opened.index);
    ctx.hashes = options.hashes;
    ctx.progress = sink;
    ctx.derive_policies = options.derive_policies.clone();
    Ok(IngestSession {
        ctx: Arc::new(ctx),
        entries: opened.entries,
        exhibit: exhibit.clone(),
        plan,
        queue: own_queue(deps.queue.clone()),
        run,
        completions,
        options,
    })
}

/// The queue an ingest runs on: a shared one (a broker, where jobs carry
/// their run and a worker takes only its own run's), or else a queue in
/// this process of its own. Two ingests in one process (the HTTP API's
/// uploads) on one in-process queue took each other's jobs and ran them
/// with their own case and user.
fn own_queue(configured: Arc<dyn JobQueue>) -> Arc<dyn JobQueue> {
    if configured.shared() { configured } else { Arc::new(exhibit_queue::MemoryQueue::new()) }
}

/// The whole use case with plain arguments: plan, open, run. Returns the
/// outcome and the session (its context holds the run's tally).
pub async fn ingest(
    deps: &IngestDeps,
    request: IngestRequest,
    progress: Arc<dyn IngestAndSink>,
) -> Result<(IngestOutcome, IngestSession)> {
    let mut plan = plan(&request.paths)?;
    if let Some((read, recorded)) = &request.recorded_as {
        plan.record_under(read, recorded);
    }
    let sink: Arc<dyn ProgressSink> = Arc::new(SinkOf(progress.clone()));
    let session =
        open(deps, (&request.case, &request.exhibit), &request.operator, (plan, request.options), sink).await?;
    let outcome = session.run(&deps.stages, progress.as_ref()).await?;
    Ok((outcome, session))
}

/// An observer of both phases and bytes (what [`ingest`] reports to).
pub trait IngestAndSink: IngestProgress + ProgressSink {}

impl<T: IngestProgress + ProgressSink> IngestAndSink for T {}

/// The byte and file progress of an [`IngestAndSink`], as a sink.
struct SinkOf(Arc<dyn IngestAndSink>);

impl ProgressSink for SinkOf {
    fn bytes_read(&self, bytes: u64) {
        self.0.bytes_read(bytes);
    }
    fn file_done(&self) {
        self.0.file_done();
    }
    fn message(&self, line: &str) {
        self.0.message(line);
    }
    fn problem(&self, line: &str) {
        self.0.problem(line);
    }
    fn pages_to_do(&self, pages: u64) {
        self.0.pages_to_do(pages);
    }
    fn pages_done(&self, pages: u64) {
        self.0.pages_done(pages);
    }
}
