//! Waiting for a run to complete, and running it in process.
//!
//! Completion is data: a run's jobs are complete when each has its
//! completion record, and the records name the jobs that follow. The
//! waiter starts from the jobs it was given and follows the records, not
//! the workers: a worker that dies, a redelivery, or a worker in another
//! instance changes nothing about when the run is complete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exhibit_queue::{Job, JobId, JobQueue};
use tokio::sync::mpsc;
use tracing::{info, instrument, warn};

use crate::completion::{Completions, JobOutcome};
use crate::dead_letters::DeadLetter;
use crate::worker::{Worker, WorkerConfig, WorkerSummary};
use crate::{StageContext, StageError};

/// How often records are looked for without news from this process, to
/// see those written by workers elsewhere.
const RESCAN: Duration = Duration::from_secs(1);

/// What a run (or one phase of it) came to.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Jobs complete: done or failed.
    pub jobs: usize,
    /// Of those, jobs that failed for good.
    pub failed: usize,
    /// What the in-process workers did.
    pub workers: WorkerSummary,
    /// Follow-up jobs for stages this phase does not run, for a later
    /// phase (e.g. explore after every file of a set is acquired). They
    /// are already on the queue.
    pub deferred: Vec<Job>,
    /// Jobs dead-lettered without a completion record (a job refused for
    /// its signature, or whose case no worker could open): counted in
    /// `failed`, but with no `failed` event in the ledger.
    pub dead_letters: Vec<DeadLetter>,
}

/// Told, every so often while a wait goes on, what it still waits for.
#[derive(Clone, Copy)]
pub struct StillWaiting<'a> {
    /// How often.
    pub every: Duration,
    /// Told one line, e.g. "still waiting for 3 jobs: 2 ocr, 1 transcode
    /// (ocr of scans/page1.png, ...)".
    pub report: &'a (dyn Fn(&str) + Send + Sync),
}

/// The jobs of a run seen so far, and which are not yet complete.
struct Tracker<'a> {
    stages: &'a [&'a str],
    known: HashSet<JobId>,
    pending: HashMap<JobId, Job>,
    summary: RunSummary,
}

impl Tracker<'_> {
    fn track(&mut self, job: Job) {
        if self.known.insert(job.job_id.clone()) {
            if self.stages.contains(&job.stage.as_str()) {
                self.pending.insert(job.job_id.clone(), job);
            } else {
                self.summary.deferred.push(job);
            }
        }
    }

    /// Looks for the record of `id`, and follows it if there is one.
    async fn check(&mut self, completions: &Completions, id: &JobId) -> Result<(), StageError> {
        if !self.pending.contains_key(id) {
            return Ok(());
        }
        let Some(done) = completions.get(id).await? else { return Ok(()) };
        self.pending.remove(id);
        self.summary.jobs += 1;
        self.summary.failed += usize::from(done.outcome == JobOutcome::Failed);
        for job in done.follow_ups {
            self.track(job);
        }
        Ok(())
    }

    /// Counts as failed each pending job with a dead-letter record.
    async fn check_dead(&mut self, completions: &Completions) -> Result<(), StageError> {
        for id in completions.dead_ids().await? {
            let Some(job) = self.pending.get(&id) else { continue };
            // A completion record may have come first (the worker recorded
            // the failure, then dead-lettered): it is the one that counts.
            if completions.get(&id).await?.is_some() {
                self.check(completions, &id).await?;
                continue;
            }
            let Some(dead) = completions.dead(job).await? else { continue };
            warn!(job = %id.0, stage = %job.stage, reason = %dead.reason, "a job of the run was dead-lettered");
            self.pending.remove(&id);
            self.summary.jobs += 1;
            self.summary.failed += 1;
            self.summary.dead_letters.push(dead);
        }
        Ok(())
    }

    /// One line on what is still pending.
    fn still_waiting(&self) -> String {
        let mut stages: BTreeMap<&str, usize> = BTreeMap::new();
        for job in self.pending.values() {
            *stages.entry(job.stage.as_str()).or_default() += 1;
        }
        let counts: Vec<String> = stages.iter().map(|(stage, n)| format!("{n} {stage}")).collect();
        let mut some: Vec<String> = self.pending.values().map(describe).collect();
        some.sort();
        let more = if some.len() > 3 { ", ..." } else { "" };
        some.truncate(3);
        format!(
            "still waiting for {} jobs: {} ({}{more}); `exhibit worker` processes must be running with these stages",
            self.pending.len(),
            counts.join(", "),
            some.join(", ")
        )
    }
}

/// A job in a few words: its stage and what it reads.
fn describe(job: &Job) -> String {
    let what = job.input.path().map_or_else(|| job.job_id.0.clone(), str::to_owned);
    // A path is input: no control characters reach the terminal.
    let what: String = what.chars().take(120).map(|c| if c.is_control() { '?' } else { c }).collect();
    format!("{} of {what}", job.stage)
}

/// Waits until every job of `stages` reachable from `roots` has a
/// completion record in `completions`; records arrive by `news` (from
/// workers in this process) or are found by reading. Roots and follow-ups
/// of other stages are returned as deferred.
#[instrument(skip_all, fields(roots = roots.len()))]
pub async fn wait_for_completion(
    completions: &Completions,
    stages: &[&str],
    roots: Vec<Job>,
    mut news: mpsc::UnboundedReceiver<JobId>,
    waiting: Option<StillWaiting<'_>>,
) -> Result<RunSummary, StageError> {
    let mut tracker =
        Tracker { stages, known: HashSet::new(), pending: HashMap::new(), summary: RunSummary::default() };
    for job in roots {
        tracker.track(job);
    }
    let mut rescan = true;
    let mut last_report = Instant::now();
    while !tracker.pending.is_empty() {
        if rescan {
            let ids: Vec<JobId> = tracker.pending.keys().cloned().collect();
            for id in ids {
                tracker.check(completions, &id).await?;
            }
            tracker.check_dead(completions).await?;
            if tracker.pending.is_empty() {
                break;
            }
        }
        if let Some(waiting) = waiting.filter(|w| last_report.elapsed() >= w.every) {
            (waiting.report)(&tracker.still_waiting());
            last_report = Instant::now();
        }
        rescan = match tokio::time::timeout(RESCAN, news.recv()).await {
            Ok(Some(id)) => {
                tracker.check(completions, &id).await?;
                false
            }
            // No news for a while, or no workers here: read every record.
            Ok(None) | Err(_) => true,
        };
    }
    let summary = tracker.summary;
    info!(jobs = summary.jobs, failed = summary.failed, deferred = summary.deferred.len(), "run complete");
    Ok(summary)
}

/// Runs `roots` to completion with workers in this process: publishes the
/// roots of `config`'s stages unless they are `queued` already (the
/// deferred jobs of an earlier phase are), starts one [`Worker`], waits for
/// the completion records, then stops the worker.
pub async fn run_in_process(
    ctx: Arc<StageContext>,
    queue: Arc<dyn JobQueue>,
    completions: Arc<Completions>,
    config: WorkerConfig,
    (roots, queued): (Vec<Job>, bool),
) -> Result<RunSummary, StageError> {
    let stages: Vec<&'static str> = config.stages.iter().map(|s| s.name()).collect();
    if stages.is_empty() {
        // Nothing to run here: every root is deferred. A worker without
        // stages has no loops and would end at once, racing the waiter.
        let (_silent, news) = mpsc::unbounded_channel();
        return wait_for_completion(&completions, &stages, roots, news, None).await;
    }
    let (tx, news) = mpsc::unbounded_channel();
    completions.listen(tx);
    let to_publish: Vec<Job> =
        roots.iter().filter(|j| !queued && stages.contains(&j.stage.as_str())).cloned().collect();
    queue.publish_all(to_publish).await.map_err(|e| StageError::transient(format!("job queue failed: {e}")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::new(ctx, queue, completions.clone());
    let mut running = tokio::spawn(worker.run(config, async move {
        let _either = stopped.await;
    }));
    let waited = tokio::select! {
        waited = wait_for_completion(&completions, &stages, roots, news, None) => waited,
        ended = &mut running => return Err(match ended {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => StageError::transient("the worker stopped before the run was complete"),
            Err(e) => StageError::transient(format!("the worker stopped: {e}")),
        }),
    };
    let _gone = stop.send(());
    let workers = running.await.map_err(|e| StageError::transient(format!("the worker stopped: {e}")))??;
    let mut summary = waited?;
    summary.workers = workers;
    Ok(summary)
}
