//! Dead-letter records: a job dead-lettered from a run is recorded beside
//! the run (`cases/<case>/runs/<run>/dead/<job_id>`, create-only) before it
//! is moved aside, so that whoever waits for the run learns of it from
//! data, as it learns of completions. Many dead-letters have no ledger to
//! record a `failed` event in: a job refused unrun for its signature (a
//! worker that does not trust the ingest's key), or one whose case the
//! worker cannot open (attacker finding F1: the ingest and `status --wait`
//! waited for them for good).
//!
//! [`RecordedDeadLetters`] wraps a shared queue beneath the signature
//! check, so every `dead_letter` call passes through it: the refusals of
//! [`exhibit_queue::SignedQueue`] and the worker's own. A record is written
//! only for a run whose roots record exists, so a job naming a case or run
//! no ingest started writes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use exhibit_queue::{Delivery, DeliveryTag, Job, JobId, JobQueue, QueueError};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::completion::{Completions, RunId};
use crate::error::StageError;

/// Largest dead-letter record read, in bytes.
const RECORD_LIMIT: u64 = 1 << 20;

/// How long a dead-letter that could not be recorded waits on the queue
/// before it is tried again (the store is likely down).
const RECORD_RETRY: Duration = Duration::from_secs(5);

/// A job of a run that was dead-lettered, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The job as it was dead-lettered.
    pub job: Job,
    /// Why, in words an operator can act on.
    pub reason: String,
}

impl DeadLetter {
    /// Whether this record is of `job` as its run published it: the same
    /// job but for its signature and attempt count. A record of an altered
    /// copy (a forged job under a real job's ID) is not.
    pub fn is_of(&self, job: &Job) -> bool {
        let plain = |j: &Job| Job { signature: None, attempt: 0, ..j.clone() };
        plain(&self.job) == plain(job)
    }
}

impl Completions {
    fn dead_prefix(&self) -> String {
        format!("{}dead/", self.prefix.strip_suffix("jobs/").unwrap_or(&self.prefix))
    }

    /// Whether an ingest recorded this run's roots (so someone may wait for it).
    pub async fn has_roots(&self) -> Result<bool, StageError> {
        let key = self.run_key("roots")?;
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == StoreErrorKind::NotFound => Ok(false),
            Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot read {key}: {e}"))),
        }
    }

    /// Records `dead` (create-only: the first record of a job stands).
    pub async fn put_dead(&self, dead: &DeadLetter) -> Result<(), StageError> {
        let bytes = serde_json::to_vec(dead).map_err(|e| StageError::input(e.to_string()))?;
        self.put_once(self.run_key(&format!("dead/{}", dead.job.job_id.0))?, bytes).await
    }

    /// The first of `jobs` that is not complete (no completion record, no
    /// dead-letter record), if any.
    pub async fn first_incomplete<'a>(&self, jobs: &'a [JobId]) -> Result<Option<&'a JobId>, StageError> {
        for id in jobs {
            if self.get(id).await?.is_some() {
                continue;
            }
            if self.in_process.is_some() || !self.has_dead(id).await? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    async fn has_dead(&self, id: &JobId) -> Result<bool, StageError> {
        let key = self.run_key(&format!("dead/{}", id.0))?;
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == StoreErrorKind::NotFound => Ok(false),
            Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot read {key}: {e}"))),
        }
    }

    /// The IDs of the run's dead-lettered jobs (one list, no reads).
    pub async fn dead_ids(&self) -> Result<Vec<JobId>, StageError> {
        if self.in_process.is_some() {
            return Ok(Vec::new());
        }
        let prefix = self.dead_prefix();
        let keys = self.store.list(&prefix).await.map_err(|e| StageError::from_kind(e.kind().into(), e.to_string()))?;
        Ok(keys.iter().filter_map(|k| k.key.as_str().strip_prefix(&prefix)).map(|id| JobId(id.to_owned())).collect())
    }

    /// The dead-letter record of `job`, if it is one of `job` itself.
    pub async fn dead(&self, job: &Job) -> Result<Option<DeadLetter>, StageError> {
        let key = self.run_key(&format!("dead/{}", job.job_id.0))?;
        let bytes = match read_small(self.store.as_ref(), &key, RECORD_LIMIT).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StageError::from_kind(e.kind().into(), format!("cannot read {key}: {e}"))),
        };
        let dead: DeadLetter = serde_json::from_slice(&bytes)
            .map_err(|e| StageError::input(format!("dead-letter record {key} is not valid: {e}")))?;
        Ok(dead.is_of(job).then_some(dead))
    }
}

/// A shared queue whose dead-letters are recorded beside their run first.
pub struct RecordedDeadLetters {
    inner: Arc<dyn JobQueue>,
    store: Arc<dyn ObjectStore>,
    /// The job of each delivery in hand, by tag.
    held: Mutex<HashMap<DeliveryTag, Job>>,
}

impl std::fmt::Debug for RecordedDeadLetters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordedDeadLetters").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl RecordedDeadLetters {
    /// `queue`, recording its dead-letters in `store`; a queue in this
    /// process as it is (its runs' records live in memory).
    pub fn wrap(queue: Arc<dyn JobQueue>, store: Arc<dyn ObjectStore>) -> Arc<dyn JobQueue> {
        if !queue.shared() {
            return queue;
        }
        Arc::new(Self { inner: queue, store, held: Mutex::new(HashMap::new()) })
    }

    fn take(&self, tag: DeliveryTag) -> Option<Job> {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(&tag)
    }

    /// Records `job`'s dead-letter if its run is one an ingest started.
    async fn record(&self, job: &Job, reason: &str) -> Result<(), StageError> {
        let Some(run) = job.run.as_deref().and_then(RunId::parse) else { return Ok(()) };
        let completions = Completions::new(self.store.clone(), &job.case, run);
        if !completions.has_roots().await? {
            return Ok(());
        }
        completions.put_dead(&DeadLetter { job: job.clone(), reason: reason.to_owned() }).await
    }
}

#[async_trait]
impl JobQueue for RecordedDeadLetters {
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        self.inner.publish(job).await
    }

    async fn publish_all(&self, jobs: Vec<Job>) -> Result<(), QueueError> {
        self.inner.publish_all(jobs).await
    }

    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
        let delivery = self.inner.receive(stage, lease).await?;
        self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(delivery.tag, delivery.job.clone());
        Ok(delivery)
    }

    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        self.take(tag);
        self.inner.ack(tag).await
    }

    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.take(tag);
        self.inner.nack(tag, delay).await
    }

    async fn release(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.take(tag);
        self.inner.release(tag, delay).await
    }

    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
        self.inner.extend(tag, lease).await
    }

    /// Records the dead-letter, then moves the job aside. A record that
    /// cannot be written puts the job back instead (uncounted), so that no
    /// dead-letter of a run goes unrecorded.
    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
        if let Some(job) = self.take(tag)
            && let Err(e) = self.record(&job, reason).await
        {
            warn!(job = %job.job_id.0, error = %e, "cannot record the dead-letter beside its run; the job goes back to the queue");
            return self.inner.release(tag, RECORD_RETRY).await;
        }
        self.inner.dead_letter(tag, reason).await
    }

    async fn depth(&self, stage: &str) -> Result<Option<u64>, QueueError> {
        self.inner.depth(stage).await
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn delivery_limit(&self) -> Option<u32> {
        self.inner.delivery_limit()
    }
}

#[cfg(test)]
mod tests {
    use exhibit_core::digest::HashSelection;
    use exhibit_queue::conformance::sample_job;
    use exhibit_store::LocalStore;

    use super::*;

    fn run(dir: &std::path::Path) -> (Completions, Arc<dyn ObjectStore>) {
        let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir).unwrap());
        let case = "42AB1234520".parse().unwrap();
        (Completions::new(store.clone(), &case, RunId::parse("run-1").unwrap()), store)
    }

    #[tokio::test]
    async fn a_record_counts_only_for_the_job_itself_and_the_first_stands() {
        let dir = tempfile::tempdir().unwrap();
        let (c, _) = run(dir.path());
        let job = Job { run: Some("run-1".into()), ..sample_job("ocr", 1) };
        let altered = Job { stage: "transcode".into(), ..job.clone() };
        c.put_dead(&DeadLetter { job: altered, reason: "forged".into() }).await.unwrap();
        assert_eq!(c.dead_ids().await.unwrap(), vec![job.job_id.clone()]);
        assert_eq!(c.dead(&job).await.unwrap(), None, "an altered copy under the job's ID does not count");
        let real = DeadLetter { job: Job { attempt: 2, ..job.clone() }, reason: "refused".into() };
        c.put_dead(&real).await.unwrap();
        assert_eq!(c.dead(&job).await.unwrap(), None, "create-only: the first record stands");
        assert_eq!(c.first_incomplete(std::slice::from_ref(&job.job_id)).await.unwrap(), None, "dead is complete");
        let other = sample_job("ocr", 2).job_id;
        assert_eq!(c.first_incomplete(&[job.job_id.clone(), other.clone()]).await.unwrap(), Some(&other));
    }

    #[tokio::test]
    async fn a_damaged_record_is_an_input_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (c, store) = run(dir.path());
        let job = Job { run: Some("run-1".into()), ..sample_job("ocr", 3) };
        let key = c.run_key(&format!("dead/{}", job.job_id.0)).unwrap();
        let bytes = b"{\"job\":\xff".to_vec();
        store.put_new(&key, Box::new(std::io::Cursor::new(bytes)), HashSelection::SHA256_ONLY).await.unwrap();
        let err = c.dead(&job).await.expect_err("a damaged record is refused");
        assert_eq!(err.kind, crate::StageErrorKind::Input);
    }

    #[tokio::test]
    async fn a_dead_letter_of_a_run_no_ingest_started_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (c, store) = run(dir.path());
        let queue = RecordedDeadLetters::wrap(Arc::new(SharedMemory::default()), store.clone());
        for run in ["run-1", "../../etc"] {
            queue.publish(Job { run: Some(run.into()), ..sample_job("ocr", 4) }).await.unwrap();
            let delivery = queue.receive("ocr", Duration::from_secs(60)).await.unwrap();
            queue.dead_letter(delivery.tag, "refused").await.unwrap();
        }
        assert!(c.dead_ids().await.unwrap().is_empty(), "no roots, no record");
        assert!(store.list("").await.unwrap().is_empty(), "nothing written at all");
        c.put_roots(&[]).await.unwrap();
        queue.publish(Job { run: Some("run-1".into()), ..sample_job("ocr", 5) }).await.unwrap();
        let delivery = queue.receive("ocr", Duration::from_secs(60)).await.unwrap();
        queue.dead_letter(delivery.tag, "refused").await.unwrap();
        assert_eq!(c.dead_ids().await.unwrap().len(), 1, "a run with roots gets its record");
    }

    /// The in-memory queue, said to be shared so the records are kept.
    #[derive(Debug, Default)]
    struct SharedMemory(exhibit_queue::MemoryQueue);

    #[async_trait]
    impl JobQueue for SharedMemory {
        async fn publish(&self, job: Job) -> Result<(), QueueError> {
            self.0.publish(job).await
        }
        async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
            self.0.receive(stage, lease).await
        }
        async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
            self.0.ack(tag).await
        }
        async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
            self.0.nack(tag, delay).await
        }
        async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
            self.0.extend(tag, lease).await
        }
        async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
            self.0.dead_letter(tag, reason).await
        }
        fn shared(&self) -> bool {
            true
        }
    }
}
