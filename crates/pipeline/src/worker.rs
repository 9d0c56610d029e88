//! The long-running worker loop: takes jobs of its stages off the queue,
//! runs them, and settles each delivery only once what it did is durable.
//!
//! For each delivery:
//! 1. a job this run already completed (a duplicate) only has its
//!    follow-ups published again, then is acked;
//! 2. otherwise the stage runs, its lease extended while it does;
//! 3. done: the follow-ups are published, the completion record written,
//!    then the delivery acked. A crash before the ack redelivers the job;
//!    the ledger guard makes the repeat record nothing twice;
//! 4. a transient failure is nacked with a delay that grows per delivery;
//! 5. a failure for good, or a transient one at `max_attempts`, gets a
//!    `failed` event and a failed completion record, and is dead-lettered.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use exhibit_core::event::{Action, Outcome};
use exhibit_core::manifest::ToolInfo;
use exhibit_queue::{Delivery, Job, JobQueue, QueueError, QueueErrorKind};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{Instrument, info_span, warn};

use crate::Stage;
use crate::completion::{Completion, Completions, JobOutcome};
use crate::context::{RunFailure, StageContext};
use crate::error::{StageError, StageErrorKind};
use crate::scope::{FixedScope, JobObserver, JobScope, Scopes, Settled};
use exhibit_core::params::{EventParams, FailedParams};

/// Receives in a row that may fail on a dropped connection before a
/// worker loop gives up (each waits twice as long as the one before).
const RECEIVE_RETRIES: u32 = 6;

/// Doublings of the pause after a job whose handling failed outside its
/// stage (store or broker down): `retry_delay` times 2, 4, ... up to 2^7.
const HANDLE_BACKOFF_STEPS: u32 = 7;

/// How long a job waiting behind a barrier ([`Job::after`]) stays on the
/// queue before it is looked at again.
const BARRIER_RECHECK: Duration = Duration::from_secs(1);

/// Deliveries beyond `max_attempts` that no worker settled (each died
/// holding the job) before the job is recorded failed unrun. The queue's
/// own delivery limit ([`JobQueue::delivery_limit`], which dead-letters
/// without a record) is kept below too, whatever `max_attempts` is: see
/// [`overdue`].
const OVERDUE_DELIVERIES: u32 = 3;

/// What a worker runs and how.
#[derive(Clone)]
pub struct WorkerConfig {
    /// The stages it takes jobs for.
    pub stages: Vec<Arc<dyn Stage>>,
    /// Jobs run at once per stage.
    pub concurrency: usize,
    /// Jobs run at once per stage whose jobs share group commits
    /// ([`Stage::group_commits`]): how many can wait on one flush.
    pub group_concurrency: usize,
    /// Deliveries of a transiently failing job before it is given up.
    pub max_attempts: u32,
    /// How long a delivery is leased; extended every third of it.
    pub lease: Duration,
    /// Delay before a transiently failed job is tried again, times the
    /// number of deliveries so far.
    pub retry_delay: Duration,
    /// Told of every settled delivery (metrics).
    pub observer: Option<Arc<dyn JobObserver>>,
}

impl WorkerConfig {
    /// `stages` with one job at a time each, 3 attempts, a 5-minute lease.
    pub fn new(stages: Vec<Arc<dyn Stage>>) -> Self {
        Self {
            stages,
            concurrency: 1,
            group_concurrency: 32,
            max_attempts: 3,
            lease: Duration::from_secs(300),
            retry_delay: Duration::from_millis(200),
            observer: None,
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Deliveries settled.
    pub deliveries: u64,
    /// Of those, jobs this run had already completed.
    pub duplicates: u64,
    /// Transient failures nacked for another try.
    pub retries: u64,
    /// Jobs given up and dead-lettered.
    pub dead_lettered: u64,
}

/// One worker: contexts of its own, sharing only the store (through the
/// ledger and completion records) and the queue with other workers.
pub struct Worker {
    scopes: Arc<dyn Scopes>,
    queue: Arc<dyn JobQueue>,
}

struct Loop {
    worker: Arc<Worker>,
    stage: Arc<dyn Stage>,
    config: WorkerConfig,
}

impl Worker {
    /// A worker recording into `ctx` and `completions`, fed by `queue`.
    pub fn new(ctx: Arc<StageContext>, queue: Arc<dyn JobQueue>, completions: Arc<Completions>) -> Self {
        Self::with_scopes(Arc::new(FixedScope(JobScope { ctx, completions })), queue)
    }

    /// A worker that finds each job's context and completion records
    /// through `scopes`: jobs of many cases and runs.
    pub fn with_scopes(scopes: Arc<dyn Scopes>, queue: Arc<dyn JobQueue>) -> Self {
        Self { scopes, queue }
    }

    /// Runs until `shutdown` resolves, then lets the jobs in hand finish.
    /// Fails only when receiving from the queue keeps failing: a job whose
    /// handling fails outside its stage (the store or the broker down) goes
    /// back to the queue, and its loop pauses and goes on.
    pub async fn run(
        self,
        config: WorkerConfig,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<WorkerSummary, StageError> {
        let (stop_tx, stop) = watch::channel(false);
        let stopper = tokio::spawn(async move {
            shutdown.await;
            let _none_left = stop_tx.send(true);
        });
        let worker = Arc::new(self);
        let mut loops = JoinSet::new();
        for stage in &config.stages {
            let count = if stage.group_commits() {
                config.group_concurrency.max(config.concurrency)
            } else {
                config.concurrency
            };
            for n in 0..count.max(1) {
                let one = Loop { worker: worker.clone(), stage: stage.clone(), config: config.clone() };
                let span = info_span!("worker", stage = stage.name(), n);
                loops.spawn(one.run(stop.clone()).instrument(span));
            }
        }
        let mut summary = WorkerSummary::default();
        let mut failed = None;
        while let Some(done) = loops.join_next().await {
            match done.map_err(|e| StageError::transient(format!("a worker loop stopped: {e}")))? {
                Ok(part) => summary.add(&part),
                Err(e) => failed = Some(e),
            }
        }
        stopper.abort();
        failed.map_or(Ok(summary), Err)
    }
}

impl WorkerSummary {
    fn add(&mut self, other: &Self) {
        self.deliveries += other.deliveries;
        self.duplicates += other.duplicates;
        self.retries += other.retries;
        self.dead_lettered += other.dead_lettered;
    }
}

impl Loop {
    async fn run(self, mut stop: watch::Receiver<bool>) -> Result<WorkerSummary, StageError> {
        let mut summary = WorkerSummary::default();
        let mut failed_receives = 0;
        let mut failed_handles = 0;
        loop {
            let received = tokio::select! {
                biased;
                _ = stop.wait_for(|stop| *stop) => return Ok(summary),
                d = self.worker.queue.receive(self.stage.name(), self.config.lease) => d,
            };
            let delivery = match received {
                Ok(delivery) => delivery,
                // A dropped connection: the next receive connects again
                // (with its own backoff). Only a queue that keeps failing
                // ends the worker.
                Err(e) if e.kind() == QueueErrorKind::Io && failed_receives < RECEIVE_RETRIES => {
                    failed_receives += 1;
                    warn!(error = %e, attempt = failed_receives, "cannot receive; trying again");
                    let pause = self.config.retry_delay * 2u32.pow(failed_receives);
                    tokio::select! {
                        biased;
                        _ = stop.wait_for(|stop| *stop) => return Ok(summary),
                        () = tokio::time::sleep(pause) => continue,
                    }
                }
                Err(e) => return Err(queue_error(e)),
            };
            failed_receives = 0;
            let span = info_span!("job", job = %delivery.job.job_id.0, delivery = delivery.delivery_count);
            let started = Instant::now();
            if let Some(observer) = &self.config.observer {
                observer.started(self.stage.name());
            }
            let settled = match self.handle(&delivery, &mut summary).instrument(span).await {
                Ok(settled) => {
                    failed_handles = 0;
                    settled
                }
                Err(error) => {
                    failed_handles += 1;
                    let pause = self.config.retry_delay * 2u32.pow(failed_handles.min(HANDLE_BACKOFF_STEPS));
                    self.give_back(&delivery, &error, pause).await;
                    summary.retries += 1;
                    if let Some(observer) = &self.config.observer {
                        observer.settled(self.stage.name(), Settled::Retried, started.elapsed());
                    }
                    summary.deliveries += 1;
                    // Whatever failed (the store, the broker) is likely to fail
                    // the next job too: pause rather than spin through them.
                    tokio::select! {
                        biased;
                        _ = stop.wait_for(|stop| *stop) => return Ok(summary),
                        () = tokio::time::sleep(pause) => continue,
                    }
                }
            };
            summary.deliveries += 1;
            if let Some(observer) = &self.config.observer {
                observer.settled(self.stage.name(), settled, started.elapsed());
            }
        }
    }

    /// Puts back a delivery whose handling failed outside the stage (the
    /// completion records, the follow-ups, the failure record or the settle
    /// could not be written): `pause` from now, or, if even that fails,
    /// when its lease runs out or its connection closes. The job is done
    /// again; the ledger guard and the completion record make the repeat
    /// record nothing twice.
    async fn give_back(&self, delivery: &Delivery, error: &StageError, pause: Duration) {
        warn!(job = %delivery.job.job_id.0, %error, ?pause, "cannot finish handling the job; it goes back to the queue");
        // Released, not nacked: the job did not fail, so this does not
        // count towards its attempts (nor towards the overdue check).
        match self.worker.queue.release(delivery.tag, pause).await {
            Ok(()) => {}
            // Settled already (the failure was the settle itself), or its
            // lease ran out: the queue has it back.
            Err(e) if e.kind() == QueueErrorKind::UnknownDelivery => {}
            Err(e) => warn!(error = %e, "cannot put the job back; the broker delivers it again"),
        }
    }

    async fn handle(&self, delivery: &Delivery, summary: &mut WorkerSummary) -> Result<Settled, StageError> {
        let (queue, job) = (&self.worker.queue, &delivery.job);
        if !self.worker.scopes.takes(job) {
            // Another process's job: back to the queue for its owner, at
            // once the first time, then a little later (no spin).
            let delay = if delivery.delivery_count > 1 { self.config.retry_delay } else { Duration::ZERO };
            return settled(queue.release(delivery.tag, delay).await).map(|()| Settled::Released);
        }
        let scope = match self.worker.scopes.scope(job).await {
            Ok(scope) => scope,
            Err(error) => return self.unscoped(delivery, &error, summary).await,
        };
        if let Some(done) = scope.completions.get(&job.job_id).await? {
            self.publish_all(&done.follow_ups).await?;
            summary.duplicates += 1;
            return settled(queue.ack(delivery.tag).await).map(|()| Settled::Duplicate);
        }
        if let Some(waiting) = scope.completions.first_incomplete(&job.after).await? {
            // A barrier not yet passed: back to the queue, uncounted.
            tracing::debug!(waiting = %waiting.0, "waits for another job of its run");
            return settled(queue.release(delivery.tag, BARRIER_RECHECK).await).map(|()| Settled::Released);
        }
        if overdue(delivery, self.config.max_attempts, self.worker.queue.delivery_limit()) {
            // Its workers keep dying on it (the broker would soon dead-letter
            // it unrecorded): record the failure now, where a waiter sees it.
            let error = StageError::input(format!(
                "delivered {} times without being settled: each worker that took it stopped (killed, or out of memory)",
                delivery.delivery_count
            ));
            return self.give_up(&scope, delivery, &error, summary).await;
        }
        if let Some(settings) = self.stage.fault_settings()
            && scope.ctx.index().fault_stands(&job.job_id, &settings)
        {
            // Failed for good under these settings: listed from the ledger,
            // not recorded again.
            return self.finish(&scope, delivery, Vec::new()).await.map(|()| Settled::Done);
        }
        if let Err(e) = scope.completions.mark_started(&job.job_id).await {
            // Only `exhibit status` reads the mark: it shows the job queued.
            warn!(error = %e, "cannot mark the job started");
        }
        let error = match self.run_leased(&scope.ctx, delivery).await {
            Ok(next) => return self.finish(&scope, delivery, next).await.map(|()| Settled::Done),
            Err(error) => error,
        };
        if error.kind == StageErrorKind::Transient && delivery.delivery_count < self.config.max_attempts {
            warn!(%error, "transient failure; trying again later");
            summary.retries += 1;
            let delay = self.config.retry_delay * delivery.delivery_count;
            return settled(queue.nack(delivery.tag, delay).await).map(|()| Settled::Retried);
        }
        self.give_up(&scope, delivery, &error, summary).await
    }

    /// Records a job's failure for good (a `failed` event and a failed
    /// completion record), then dead-letters it.
    async fn give_up(
        &self,
        scope: &JobScope,
        delivery: &Delivery,
        error: &StageError,
        summary: &mut WorkerSummary,
    ) -> Result<Settled, StageError> {
        let job = &delivery.job;
        let stage = (self.stage.name(), self.stage.fault_settings());
        if let Err(e) = record_failure(&scope.ctx, stage, job, error, &scope.completions).await {
            // Not even the failure is recorded: the job goes back, and the
            // loop pauses (the store is likely down).
            return Err(StageError::transient(format!("cannot record the failure ({error}): {e}")));
        }
        summary.dead_lettered += 1;
        scope.completions.put(&completion(job, JobOutcome::Failed, Vec::new())).await?;
        settled(self.worker.queue.dead_letter(delivery.tag, &error.message).await).map(|()| Settled::DeadLettered)
    }

    /// A job whose case or run cannot be opened has no ledger to record a
    /// failure in: tried again while the cause may pass, then dead-lettered
    /// with the reason, where an operator finds it.
    async fn unscoped(
        &self,
        delivery: &Delivery,
        error: &StageError,
        summary: &mut WorkerSummary,
    ) -> Result<Settled, StageError> {
        let queue = &self.worker.queue;
        if error.kind == StageErrorKind::Transient && delivery.delivery_count < self.config.max_attempts {
            warn!(%error, "cannot open the job's case; trying again later");
            summary.retries += 1;
            let delay = self.config.retry_delay * delivery.delivery_count;
            return settled(queue.nack(delivery.tag, delay).await).map(|()| Settled::Retried);
        }
        warn!(%error, "cannot open the job's case; dead-lettering it");
        summary.dead_lettered += 1;
        settled(queue.dead_letter(delivery.tag, &error.message).await).map(|()| Settled::DeadLettered)
    }

    /// Runs the stage while a separate task keeps the lease alive (a stage
    /// may block its thread, as explore does).
    async fn run_leased(&self, ctx: &StageContext, delivery: &Delivery) -> Result<Vec<Job>, StageError> {
        let (queue, tag, lease) = (self.worker.queue.clone(), delivery.tag, self.config.lease);
        let _keeper = AbortOnDrop(tokio::spawn(async move {
            let mut every = tokio::time::interval((lease / 3).max(Duration::from_millis(10)));
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(e) = queue.extend(tag, lease).await {
                    warn!(error = %e, "cannot extend the lease; another worker may take the job");
                    return;
                }
            }
        }));
        // A message this build cannot read fails for good: no retry makes
        // it readable. (Each stage checks that the kind is its own.)
        let job = &delivery.job;
        job.input.readable().map_err(|e| StageError::input(format!("job {}: {e}", job.job_id.0)))?;
        self.stage.run(ctx, job).await
    }

    /// Publishes the follow-ups (in the job's run), writes the completion
    /// record, then acks.
    async fn finish(&self, scope: &JobScope, delivery: &Delivery, next: Vec<Job>) -> Result<(), StageError> {
        let run = &delivery.job.run;
        let next: Vec<Job> = next.into_iter().map(|job| Job { run: run.clone(), ..job }).collect();
        self.publish_all(&next).await?;
        scope.completions.put(&completion(&delivery.job, JobOutcome::Done, next)).await?;
        settled(self.worker.queue.ack(delivery.tag).await)
    }

    async fn publish_all(&self, jobs: &[Job]) -> Result<(), StageError> {
        self.worker.queue.publish_all(jobs.to_vec()).await.map_err(queue_error)
    }
}

/// Stops the lease keeper however the job ends, even if the worker is
/// aborted mid-job (then the lease must run out, so the job comes back).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn completion(job: &Job, outcome: JobOutcome, follow_ups: Vec<Job>) -> Completion {
    Completion { job_id: job.job_id.clone(), stage: job.stage.clone(), outcome, follow_ups }
}

/// A settle that names a delivery the queue no longer holds lost its lease
/// to a redelivery; that one will find the work recorded. Any other error
/// (a dropped connection) is returned: the loop gives the job back and
/// pauses.
fn settled(result: Result<(), QueueError>) -> Result<(), StageError> {
    match result {
        Err(e) if e.kind() == QueueErrorKind::UnknownDelivery => {
            warn!(error = %e, "the lease was lost before the job was settled");
            Ok(())
        }
        other => other.map_err(queue_error),
    }
}

/// Appends a `failed` event naming the job, its input, the run and the
/// reason.
pub(crate) async fn record_failure(
    ctx: &StageContext,
    (stage, settings): (&str, Option<String>),
    job: &Job,
    error: &StageError,
    completions: &Completions,
) -> Result<(), StageError> {
    let mut event = ctx.event(Action::Failed, Some(&job.exhibit), ToolInfo::exhibit(stage));
    let mut params = FailedParams {
        job_id: Some(job.job_id.0.clone()),
        stage: Some(stage.into()),
        input: Some(job.input.to_value()),
        run: Some(completions.run().as_str().into()),
        ..Default::default()
    };
    event.outcome = Outcome::Failed { reason: error.message.clone() };
    if let Some(fault) = evidence_fault(stage, job, error) {
        params.fault = Some(fault.into());
        params.settings = settings;
        ctx.progress.problem(&format!("{fault}: {}", error.message));
    } else {
        ctx.tally.fail_noted(RunFailure {
            what: describe(job),
            path_bytes: params.input_path_bytes(),
            reason: error.message.clone(),
            rerun_may_help: error.kind == StageErrorKind::Transient,
        });
        ctx.progress.problem(&format!("failed: {}", error.message));
    }
    event.set_params(EventParams::Failed(params));
    ctx.record(event).await.map(|_| ())
}

/// The evidence fault a failure is, if it is one (not a failed run): the
/// one the stage named (a limit), else content no decoder accepts, for an
/// input error of a derive stage.
fn evidence_fault(stage: &str, job: &Job, error: &StageError) -> Option<&'static str> {
    if job.input.readable().is_err() || error.kind != StageErrorKind::Input {
        return None;
    }
    let derive = [crate::derive::TRANSCODE, crate::derive::OCR].contains(&stage);
    error.fault.or(derive.then_some(crate::error::FAULT_UNCONVERTED))
}

fn describe(job: &Job) -> String {
    job.input.path().map_or_else(|| job.job_id.0.clone(), str::to_owned)
}

fn queue_error(e: QueueError) -> StageError {
    StageError::transient(format!("job queue failed: {e}"))
}

/// Whether `delivery` is to be recorded failed unrun, its workers having
/// died on it: delivered `max_attempts` + [`OVERDUE_DELIVERIES`] times,
/// or within one unsettled return of the queue's delivery limit (RabbitMQ
/// hands a copy out with up to `limit` returns, then moves it aside with
/// no `failed` event for a waiter to find; with `[ingest] max_attempts`
/// of 8 or more the first test alone came too late for its limit of 10).
/// The margin of one is for a worker that dies while it records; a limit
/// of 1 leaves none.
fn overdue(delivery: &Delivery, max_attempts: u32, limit: Option<u32>) -> bool {
    delivery.delivery_count > max_attempts.saturating_add(OVERDUE_DELIVERIES)
        || limit.is_some_and(|limit| delivery.returned >= limit.saturating_sub(1).max(1))
}

#[cfg(test)]
mod tests {
    use exhibit_queue::DeliveryTag;
    use exhibit_queue::conformance::sample_job;

    use super::*;

    fn delivery(delivery_count: u32, returned: u32) -> Delivery {
        Delivery { job: sample_job("ocr", 1), tag: DeliveryTag(1), delivery_count, returned }
    }

    #[test]
    fn overdue_before_max_attempts_plus_three_or_one_return_short_of_the_limit() {
        assert!(!overdue(&delivery(6, 5), 3, None));
        assert!(overdue(&delivery(7, 6), 3, None), "max_attempts + 3");
        assert!(!overdue(&delivery(9, 8), 8, Some(10)));
        assert!(overdue(&delivery(10, 9), 8, Some(10)), "the broker allows one more return");
        assert!(!overdue(&delivery(10, 0), 20, Some(10)), "retries republish: a new copy, no returns");
        assert!(!overdue(&delivery(1, 0), 3, Some(1)), "a limit of 1 still lets the first delivery run");
        assert!(overdue(&delivery(2, 1), 3, Some(1)));
    }
}
