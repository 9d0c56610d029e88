//! Waiting for a run to complete, and running it in process.
//!
//! Completion is data: a run's jobs are complete when each has its
//! completion record, and the records name the jobs that follow. The
//! waiter starts from the jobs it was given and follows the records, not
//! the workers: a worker that dies, a redelivery, or a worker in another
//! instance changes nothing about when the run is complete.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use exhibit_queue::{Job, JobId, JobQueue};
use tokio::sync::mpsc;
use tracing::{info, instrument};

use crate::completion::{Completions, JobOutcome};
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
}

/// The jobs of a run seen so far, and which are not yet complete.
struct Tracker<'a> {
    stages: &'a [&'a str],
    known: HashSet<JobId>,
    pending: HashSet<JobId>,
    summary: RunSummary,
}

impl Tracker<'_> {
    fn track(&mut self, job: Job) {
        if self.known.insert(job.job_id.clone()) {
            if self.stages.contains(&job.stage.as_str()) {
                self.pending.insert(job.job_id);
            } else {
                self.summary.deferred.push(job);
            }
        }
    }

    /// Looks for the record of `id`, and follows it if there is one.
    async fn check(&mut self, completions: &Completions, id: &JobId) -> Result<(), StageError> {
        if !self.pending.contains(id) {
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
) -> Result<RunSummary, StageError> {
    let mut tracker =
        Tracker { stages, known: HashSet::new(), pending: HashSet::new(), summary: RunSummary::default() };
    for job in roots {
        tracker.track(job);
    }
    let mut rescan = true;
    while !tracker.pending.is_empty() {
        if rescan {
            let ids: Vec<JobId> = tracker.pending.iter().cloned().collect();
            for id in ids {
                tracker.check(completions, &id).await?;
            }
            if tracker.pending.is_empty() {
                break;
            }
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
    let (tx, news) = mpsc::unbounded_channel();
    completions.listen(tx);
    for job in roots.iter().filter(|j| !queued && stages.contains(&j.stage.as_str())) {
        queue.publish(job.clone()).await.map_err(|e| StageError::transient(format!("job queue failed: {e}")))?;
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = Worker::new(ctx, queue, completions.clone());
    let mut running = tokio::spawn(worker.run(config, async move {
        let _either = stopped.await;
    }));
    let waited = tokio::select! {
        waited = wait_for_completion(&completions, &stages, roots, news) => waited,
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
