//! Moves jobs through the queue until none are left. Each stage gets its
//! own workers; follow-up jobs are published before the job that made them
//! is acked, so a crash never loses work (at-least-once), and the index
//! makes the repeat harmless.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use exhibit_core::event::{Action, Outcome};
use exhibit_core::manifest::ToolInfo;
use exhibit_queue::{Delivery, Job, JobQueue, QueueError};
use tokio::task::JoinSet;
use tracing::{Instrument, info_span, warn};

use crate::Stage;
use crate::context::StageContext;
use crate::error::{StageError, StageErrorKind};
use crate::index::PARAM_JOB_ID;

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Jobs that finished, successfully or with a recorded failure.
    pub jobs: usize,
    /// Jobs retried after a transient failure.
    pub retries: usize,
    /// Follow-up jobs for stages this runner does not run, for a later
    /// phase (e.g. explore after every file of a set is acquired).
    pub deferred: Vec<Job>,
}

/// Runs stages over a queue.
pub struct Runner {
    ctx: Arc<StageContext>,
    queue: Arc<dyn JobQueue>,
    stages: HashMap<&'static str, Arc<dyn Stage>>,
    workers_per_stage: usize,
    max_attempts: u32,
}

struct Shared {
    ctx: Arc<StageContext>,
    queue: Arc<dyn JobQueue>,
    outstanding: AtomicUsize,
    max_attempts: u32,
    lanes: Vec<&'static str>,
    deferred: std::sync::Mutex<Vec<Job>>,
}

impl Runner {
    /// A runner over `stages`, with `workers_per_stage` concurrent jobs each.
    pub fn new(
        ctx: Arc<StageContext>,
        queue: Arc<dyn JobQueue>,
        stages: Vec<Arc<dyn Stage>>,
        workers_per_stage: usize,
    ) -> Self {
        let stages = stages.into_iter().map(|s| (s.name(), s)).collect();
        Self { ctx, queue, stages, workers_per_stage: workers_per_stage.max(1), max_attempts: 3 }
    }

    /// How many times a transiently failing job is tried in all.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Publishes `jobs` and runs until they and every job they lead to are
    /// finished. Failures are recorded in the ledger and the tally; only a
    /// broken queue or ledger ends the run early.
    pub async fn run(self, jobs: Vec<Job>) -> Result<RunSummary, StageError> {
        let (jobs, later): (Vec<Job>, Vec<Job>) =
            jobs.into_iter().partition(|j| self.stages.contains_key(j.stage.as_str()));
        let shared = Arc::new(Shared {
            ctx: self.ctx.clone(),
            queue: self.queue.clone(),
            outstanding: AtomicUsize::new(jobs.len()),
            max_attempts: self.max_attempts,
            lanes: self.stages.keys().copied().collect(),
            deferred: std::sync::Mutex::new(later),
        });
        if jobs.is_empty() {
            self.queue.close().await.map_err(queue_error)?;
        }
        let mut workers = JoinSet::new();
        for (name, stage) in &self.stages {
            for n in 0..self.workers_per_stage {
                let (shared, stage) = (shared.clone(), stage.clone());
                let span = info_span!("worker", stage = *name, n);
                workers.spawn(async move { work(shared, stage).await }.instrument(span));
            }
        }
        let publisher = shared.clone();
        workers.spawn(async move {
            for job in jobs {
                publisher.queue.publish(job).await.map_err(queue_error)?;
            }
            Ok(RunSummary::default())
        });
        let mut summary = RunSummary::default();
        while let Some(done) = workers.join_next().await {
            let part = done.map_err(|e| StageError::transient(format!("a pipeline worker stopped: {e}")))??;
            summary.jobs += part.jobs;
            summary.retries += part.retries;
        }
        summary.deferred = std::mem::take(&mut *shared.deferred.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(summary)
    }
}

async fn work(shared: Arc<Shared>, stage: Arc<dyn Stage>) -> Result<RunSummary, StageError> {
    let mut summary = RunSummary::default();
    while let Some(delivery) = shared.queue.receive(stage.name()).await.map_err(queue_error)? {
        let span = info_span!("job", job = %delivery.job.job_id.0, attempt = delivery.job.attempt);
        let retried = handle(&shared, stage.as_ref(), &delivery).instrument(span).await?;
        shared.queue.ack(delivery.tag).await.map_err(queue_error)?;
        summary.jobs += 1;
        summary.retries += usize::from(retried);
        if shared.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            shared.queue.close().await.map_err(queue_error)?;
        }
    }
    Ok(summary)
}

/// Runs one job and publishes what follows. Returns whether it was retried.
async fn handle(shared: &Shared, stage: &dyn Stage, delivery: &Delivery) -> Result<bool, StageError> {
    let job = &delivery.job;
    let error = match stage.run(&shared.ctx, job).await {
        Ok(next) => {
            publish_all(shared, next).await?;
            return Ok(false);
        }
        Err(e) => e,
    };
    if error.kind == StageErrorKind::Transient && job.attempt + 1 < shared.max_attempts {
        warn!(%error, "retrying");
        let retry = Job { attempt: job.attempt + 1, ..job.clone() };
        publish_all(shared, vec![retry]).await?;
        return Ok(true);
    }
    record_failure(&shared.ctx, stage.name(), job, &error).await?;
    Ok(false)
}

async fn publish_all(shared: &Shared, jobs: Vec<Job>) -> Result<(), StageError> {
    let (jobs, later): (Vec<Job>, Vec<Job>) = jobs.into_iter().partition(|j| shared.lanes.contains(&j.stage.as_str()));
    shared.deferred.lock().unwrap_or_else(|p| p.into_inner()).extend(later);
    shared.outstanding.fetch_add(jobs.len(), Ordering::AcqRel);
    for job in jobs {
        shared.queue.publish(job).await.map_err(queue_error)?;
    }
    Ok(())
}

/// Appends a `failed` event naming the job, its input and the reason.
pub(crate) async fn record_failure(
    ctx: &StageContext,
    stage: &str,
    job: &Job,
    error: &StageError,
) -> Result<(), StageError> {
    let mut event = ctx.event(Action::Failed, Some(&job.exhibit), ToolInfo::exhibit(stage));
    event.params.insert(PARAM_JOB_ID.into(), job.job_id.0.clone().into());
    event.params.insert("stage".into(), stage.into());
    event.params.insert("input".into(), job.input.clone());
    event.outcome = Outcome::Failed { reason: error.message.clone() };
    // Content no decoder accepts is unconverted, not a failed run.
    if error.kind == StageErrorKind::Input && [crate::derive::TRANSCODE, crate::derive::OCR].contains(&stage) {
        event.params.insert(crate::error::PARAM_FAULT.into(), crate::error::FAULT_UNCONVERTED.into());
        ctx.progress.message(&format!("unconverted: {}", error.message));
    } else {
        ctx.tally.fail(&describe(job), &error.message);
        ctx.progress.message(&format!("failed: {}", error.message));
    }
    ctx.record(event).await.map(|_| ())
}

fn describe(job: &Job) -> String {
    job.input.get("path").and_then(|p| p.as_str()).map_or_else(|| job.job_id.0.clone(), str::to_owned)
}

fn queue_error(e: QueueError) -> StageError {
    StageError::transient(format!("job queue failed: {e}"))
}
