//! The worker loop against a real local store and ledger: retries with a
//! delay, dead-letters with a `failed` event, and keeps a long job's lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use exhibit_core::event::{Action, Actor, Outcome};
use exhibit_custody::{Ledger, Signer, read_entries};
use exhibit_pipeline::{
    CaseIndex, Completions, JobOutcome, RunId, Stage, StageContext, StageError, WorkerConfig, run_in_process,
};
use exhibit_queue::conformance::sample_job;
use exhibit_queue::{Job, JobQueue, MemoryQueue};
use exhibit_store::{LocalStore, ObjectStore};

/// A stage that fails as told, or sleeps, and counts its runs.
struct Scripted {
    runs: AtomicU32,
    fail: Option<fn() -> StageError>,
    sleep: Duration,
}

#[async_trait]
impl Stage for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    async fn run(&self, _ctx: &StageContext, _job: &Job) -> Result<Vec<Job>, StageError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.sleep).await;
        self.fail.map_or(Ok(Vec::new()), |fail| Err(fail()))
    }
}

pub struct Env {
    _dir: tempfile::TempDir,
    pub ctx: Arc<StageContext>,
    pub store: Arc<dyn ObjectStore>,
    pub completions: Arc<Completions>,
}

pub async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("data")).unwrap());
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());
    let case: exhibit_core::ids::CaseId = "42AB1234520".parse().unwrap();
    let ledger = Arc::new(Ledger::open(store.clone(), case.clone(), signer.clone()).await.unwrap());
    let actor = Actor { operator: "T".into(), host: "h".into(), process: 1, public_key: signer.public_key_openssh() };
    let ctx = Arc::new(StageContext::new(case.clone(), store.clone(), ledger, actor, CaseIndex::default()));
    let completions = Arc::new(Completions::new(store.clone(), &case, RunId::new()));
    Env { _dir: dir, ctx, store, completions }
}

async fn run(env: &Env, queue: Arc<MemoryQueue>, stage: Arc<Scripted>, lease: Duration) -> usize {
    let config = WorkerConfig {
        // Two loops: a redelivery while the job runs would run it again.
        concurrency: 2,
        max_attempts: 3,
        lease,
        retry_delay: Duration::from_millis(5),
        ..WorkerConfig::new(vec![stage as Arc<dyn Stage>])
    };
    let roots = vec![sample_job("scripted", 1)];
    let queue: Arc<dyn JobQueue> = queue;
    run_in_process(env.ctx.clone(), queue, env.completions.clone(), config, (roots, false)).await.unwrap().failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_then_dead_lettered_with_a_failed_event() {
    let env = env().await;
    let queue = Arc::new(MemoryQueue::new());
    let stage = Arc::new(Scripted {
        runs: AtomicU32::new(0),
        fail: Some(|| StageError::transient("disk full")),
        sleep: Duration::ZERO,
    });
    assert_eq!(run(&env, queue.clone(), stage.clone(), Duration::from_secs(60)).await, 1);
    assert_eq!(stage.runs.load(Ordering::SeqCst), 3, "tried max_attempts times");
    let dead = queue.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].deliveries, dead[0].reason.as_str()), (3, "disk full"));
    let record = env.completions.get(&sample_job("scripted", 1).job_id).await.unwrap().unwrap();
    assert_eq!(record.outcome, JobOutcome::Failed);
    let failed: Vec<_> = read_entries(env.store.as_ref(), &env.ctx.case)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.parsed.unwrap().events().to_vec())
        .filter(|e| e.action == Action::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "one failed event");
    assert_eq!(failed[0].outcome, Outcome::Failed { reason: "disk full".into() });
    assert_eq!(failed[0].params["run"], env.completions.run().as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_failure_is_dead_lettered_at_once() {
    let env = env().await;
    let queue = Arc::new(MemoryQueue::new());
    let stage = Arc::new(Scripted {
        runs: AtomicU32::new(0),
        fail: Some(|| StageError::input("not a disc")),
        sleep: Duration::ZERO,
    });
    assert_eq!(run(&env, queue.clone(), stage.clone(), Duration::from_secs(60)).await, 1);
    assert_eq!(stage.runs.load(Ordering::SeqCst), 1, "a retry would give the same result");
    assert_eq!(queue.dead_letters().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_longer_than_its_lease_keeps_it_by_extending() {
    let env = env().await;
    let queue = Arc::new(MemoryQueue::new());
    let stage = Arc::new(Scripted { runs: AtomicU32::new(0), fail: None, sleep: Duration::from_millis(1500) });
    assert_eq!(run(&env, queue.clone(), stage.clone(), Duration::from_millis(300)).await, 0);
    assert_eq!(stage.runs.load(Ordering::SeqCst), 1, "never redelivered while it ran five leases long");
    assert!(queue.dead_letters().is_empty());
}

/// A job as a broker would deliver it: bytes, with an input this build
/// does not know (a newer version, or a kind no stage has).
fn job_from_the_wire(input: serde_json::Value) -> Job {
    let mut wire = serde_json::to_value(sample_job("scripted", 1)).unwrap();
    wire["input"] = input;
    serde_json::from_str(&wire.to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_with_an_unknown_input_version_or_kind_is_dead_lettered_with_a_failed_event() {
    let newer = serde_json::json!({"v": 2, "kind": "explore", "set": "abc"});
    let strange = serde_json::json!({"v": 1, "kind": "teleport", "path": "x"});
    for raw in [newer, strange] {
        let env = env().await;
        let queue = Arc::new(MemoryQueue::new());
        let stage = Arc::new(Scripted { runs: AtomicU32::new(0), fail: None, sleep: Duration::ZERO });
        let config = WorkerConfig { retry_delay: Duration::from_millis(5), ..WorkerConfig::new(vec![stage.clone()]) };
        let job = job_from_the_wire(raw.clone());
        assert!(job.input.readable().is_err(), "{raw}");
        let roots = (vec![job.clone()], false);
        let queue_dyn: Arc<dyn JobQueue> = queue.clone();
        let summary = run_in_process(env.ctx.clone(), queue_dyn, env.completions.clone(), config, roots).await.unwrap();
        assert_eq!(summary.failed, 1, "{raw}");
        assert_eq!(stage.runs.load(Ordering::SeqCst), 0, "the stage never sees an unreadable input");
        let dead = queue.dead_letters();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].deliveries, 1, "not retried: no retry makes it readable");
        assert!(dead[0].reason.contains("unreadable job input"), "{}", dead[0].reason);
        let failed: Vec<_> = read_entries(env.store.as_ref(), &env.ctx.case)
            .await
            .unwrap()
            .into_iter()
            .flat_map(|e| e.parsed.unwrap().events().to_vec())
            .filter_map(|e| e.failed_params())
            .collect();
        assert_eq!(failed.len(), 1, "one failed event");
        assert_eq!(failed[0].input.as_ref(), Some(&raw), "the failed event keeps the input as received");
        assert_eq!(failed[0].job_id.as_deref(), Some(job.job_id.0.as_str()));
        assert_eq!(failed[0].fault, None);
    }
}

/// A queue whose connection drops on the first receive of each lane, as a
/// broker does that closes a connection (RabbitMQ answers a consume on a
/// quorum queue still starting with INTERNAL_ERROR); the next call
/// reconnects.
#[derive(Debug)]
struct DropsOnce {
    inner: MemoryQueue,
    dropped: std::sync::Mutex<bool>,
}

#[async_trait]
impl JobQueue for DropsOnce {
    async fn publish(&self, job: Job) -> Result<(), exhibit_queue::QueueError> {
        self.inner.publish(job).await
    }
    async fn receive(
        &self,
        stage: &str,
        lease: Duration,
    ) -> Result<exhibit_queue::Delivery, exhibit_queue::QueueError> {
        if !std::mem::replace(&mut *self.dropped.lock().unwrap(), true) {
            return Err(exhibit_queue::QueueError::io("consuming", "connection closed: INTERNAL_ERROR"));
        }
        self.inner.receive(stage, lease).await
    }
    async fn ack(&self, tag: exhibit_queue::DeliveryTag) -> Result<(), exhibit_queue::QueueError> {
        self.inner.ack(tag).await
    }
    async fn nack(&self, tag: exhibit_queue::DeliveryTag, delay: Duration) -> Result<(), exhibit_queue::QueueError> {
        self.inner.nack(tag, delay).await
    }
    async fn extend(&self, tag: exhibit_queue::DeliveryTag, lease: Duration) -> Result<(), exhibit_queue::QueueError> {
        self.inner.extend(tag, lease).await
    }
    async fn dead_letter(
        &self,
        tag: exhibit_queue::DeliveryTag,
        reason: &str,
    ) -> Result<(), exhibit_queue::QueueError> {
        self.inner.dead_letter(tag, reason).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_on_receive_is_tried_again_not_the_end_of_the_worker() {
    let env = env().await;
    let queue = Arc::new(DropsOnce { inner: MemoryQueue::new(), dropped: std::sync::Mutex::new(false) });
    let stage = Arc::new(Scripted { runs: AtomicU32::new(0), fail: None, sleep: Duration::ZERO });
    let config = WorkerConfig { retry_delay: Duration::from_millis(5), ..WorkerConfig::new(vec![stage.clone()]) };
    let roots = (vec![sample_job("scripted", 1)], false);
    let summary = run_in_process(env.ctx.clone(), queue, env.completions.clone(), config, roots).await;
    let summary = summary.expect("the worker outlives one dropped connection");
    assert_eq!((summary.jobs, summary.failed), (1, 0));
    assert_eq!(stage.runs.load(Ordering::SeqCst), 1);
}

/// A queue whose first ack fails as on a connection the broker closed
/// (a broker restart while the job ran): the ack is lost, and the broker
/// will deliver the job again.
#[derive(Debug)]
struct LosesFirstAck {
    inner: MemoryQueue,
    lost: std::sync::Mutex<bool>,
}

#[async_trait]
impl JobQueue for LosesFirstAck {
    async fn publish(&self, job: Job) -> Result<(), exhibit_queue::QueueError> {
        self.inner.publish(job).await
    }
    async fn receive(
        &self,
        stage: &str,
        lease: Duration,
    ) -> Result<exhibit_queue::Delivery, exhibit_queue::QueueError> {
        self.inner.receive(stage, lease).await
    }
    async fn ack(&self, tag: exhibit_queue::DeliveryTag) -> Result<(), exhibit_queue::QueueError> {
        if !std::mem::replace(&mut *self.lost.lock().unwrap(), true) {
            return Err(exhibit_queue::QueueError::io("acking", "connection closed: CONNECTION_FORCED"));
        }
        self.inner.ack(tag).await
    }
    async fn nack(&self, tag: exhibit_queue::DeliveryTag, delay: Duration) -> Result<(), exhibit_queue::QueueError> {
        self.inner.nack(tag, delay).await
    }
    async fn extend(&self, tag: exhibit_queue::DeliveryTag, lease: Duration) -> Result<(), exhibit_queue::QueueError> {
        self.inner.extend(tag, lease).await
    }
    async fn dead_letter(
        &self,
        tag: exhibit_queue::DeliveryTag,
        reason: &str,
    ) -> Result<(), exhibit_queue::QueueError> {
        self.inner.dead_letter(tag, reason).await
    }
}

/// Found by the chaos test: a settle that failed on a dropped connection
/// ended the worker loop (and, with every loop gone, the worker, exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ack_lost_with_its_connection_gives_the_job_back_and_the_loop_goes_on() {
    let env = env().await;
    let queue = Arc::new(LosesFirstAck { inner: MemoryQueue::new(), lost: std::sync::Mutex::new(false) });
    let stage = Arc::new(Scripted { runs: AtomicU32::new(0), fail: None, sleep: Duration::ZERO });
    let config = WorkerConfig { retry_delay: Duration::from_millis(5), ..WorkerConfig::new(vec![stage.clone()]) };
    let roots = (vec![sample_job("scripted", 1), sample_job("scripted", 2)], false);
    let summary = run_in_process(env.ctx.clone(), queue.clone(), env.completions.clone(), config, roots).await;
    let summary = summary.expect("the worker outlives a lost ack");
    assert_eq!((summary.jobs, summary.failed), (2, 0));
    assert_eq!(stage.runs.load(Ordering::SeqCst), 2, "the job given back is found done, not run again");
    assert!(queue.inner.dead_letters().is_empty());
}

/// A phase with no stages to run here (an ingest whose derive phase has
/// no transcode or OCR) finishes with its jobs deferred, every time. The
/// worker it started, having no loops, ended at once, and the race between
/// it and the waiter now and then failed the run with "the worker stopped
/// before the run was complete".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phase_without_stages_defers_its_jobs_every_time() {
    let env = env().await;
    for attempt in 0..300 {
        let queue: Arc<dyn JobQueue> = Arc::new(MemoryQueue::new());
        let roots = vec![sample_job("scripted", attempt)];
        let config = WorkerConfig::new(Vec::new());
        let summary = run_in_process(env.ctx.clone(), queue, env.completions.clone(), config, (roots, false))
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt}: {e}"));
        assert_eq!((summary.jobs, summary.deferred.len()), (0, 1), "attempt {attempt}");
    }
}
