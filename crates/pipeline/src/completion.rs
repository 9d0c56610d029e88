//! Completion records: a job of a run is complete when the store holds its
//! create-only record `cases/<case>/runs/<run>/jobs/<job_id>`, written by
//! the worker once the job's outputs and ledger events are durable. The
//! record says whether the job was done or failed, and lists the jobs that
//! follow it, so that whoever waits for a run (the same process or not)
//! learns from data alone what else belongs to it.
//!
//! Records are scoped to a run because an acquire job's ID names a path,
//! not the content found there: a later run must read the path again.
//! Whether the *work* is recorded is the ledger's business (see
//! [`record_key`](crate::record_key::record_key)), across runs.

use std::collections::HashMap;
use std::sync::Mutex;

use exhibit_core::digest::HashSelection;
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ObjectKey;
use exhibit_queue::{Job, JobId};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::StageError;

/// Largest completion record read, in bytes (follow-up lists included).
const RECORD_LIMIT: u64 = 16 << 20;

/// Identifies one ingest run; completion records live under it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunId(String);

impl RunId {
    /// A new run ID, unique to this process and moment.
    pub fn new() -> Self {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(format!("{nanos:x}-{:x}", std::process::id()))
    }

    /// Parses a run ID given by an operator or a test; `None` unless it is
    /// one key segment of `A-Z a-z 0-9 . _ -`.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = !text.is_empty() && text.len() <= 64 && !text.starts_with('.');
        let ok = ok && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        ok.then(|| Self(text.to_owned()))
    }

    /// The ID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RunId {
    fn default() -> Self {
        Self::new()
    }
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobOutcome {
    /// Its work is recorded.
    Done,
    /// It failed for good; a `failed` event records why.
    Failed,
}

/// The completion record of one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The job.
    pub job_id: JobId,
    /// Its stage.
    pub stage: String,
    /// How it ended.
    pub outcome: JobOutcome,
    /// The jobs it published, in full, so a duplicate delivery can publish
    /// them again without redoing the work.
    pub follow_ups: Vec<Job>,
}

/// Reads and writes the completion records of one run of one case.
///
/// Records are as durable as the queue they go with: in the store (one
/// durable create-only put each) when the queue outlives the process, as a
/// broker does; in this process's memory when the queue lives there too
/// (the embedded `memory://` default), since a crash then loses the queue
/// and the run with it, and a flush per job would buy nothing.
#[derive(Debug)]
pub struct Completions {
    pub(crate) store: std::sync::Arc<dyn ObjectStore>,
    pub(crate) prefix: String,
    run: RunId,
    listener: Mutex<Option<UnboundedSender<JobId>>>,
    pub(crate) in_process: Option<Mutex<HashMap<JobId, Completion>>>,
}

impl Completions {
    /// The records of `run` in `case`.
    pub fn new(store: std::sync::Arc<dyn ObjectStore>, case: &CaseId, run: RunId) -> Self {
        let prefix = format!("{}runs/{}/jobs/", exhibit_core::layout::case_prefix(case), run.as_str());
        Self { store, prefix, run, listener: Mutex::new(None), in_process: None }
    }

    /// The records of `run` in `case`, kept in this process only: for a
    /// queue that lives in this process too.
    pub fn in_process(store: std::sync::Arc<dyn ObjectStore>, case: &CaseId, run: RunId) -> Self {
        Self { in_process: Some(Mutex::new(HashMap::new())), ..Self::new(store, case, run) }
    }

    /// The run.
    pub fn run(&self) -> &RunId {
        &self.run
    }

    /// Sends the ID of every job this instance records complete to `tx`
    /// (a waiter in the same process; others find the records by reading).
    pub fn listen(&self, tx: UnboundedSender<JobId>) {
        *lock(&self.listener) = Some(tx);
    }

    pub(crate) fn key(&self, job: &JobId) -> Result<ObjectKey, StageError> {
        ObjectKey::new(format!("{}{}", self.prefix, job.0))
            .ok_or_else(|| StageError::input(format!("job ID {:?} cannot name a completion record", job.0)))
    }

    /// The record of `job`, if it is complete in this run.
    pub async fn get(&self, job: &JobId) -> Result<Option<Completion>, StageError> {
        if let Some(records) = &self.in_process {
            return Ok(lock(records).get(job).cloned());
        }
        let key = self.key(job)?;
        let bytes = match read_small(self.store.as_ref(), &key, RECORD_LIMIT).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StageError::from_kind(e.kind().into(), format!("cannot read {key}: {e}"))),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StageError::input(format!("completion record {key} is not valid: {e}")))
    }

    /// Records `completion`, durably and create-only. A record already
    /// there (a duplicate delivery finished first) is kept.
    pub async fn put(&self, completion: &Completion) -> Result<(), StageError> {
        if let Some(records) = &self.in_process {
            lock(records).entry(completion.job_id.clone()).or_insert_with(|| completion.clone());
        } else {
            self.put_in_store(completion).await?;
        }
        if let Some(tx) = lock(&self.listener).as_ref() {
            // A waiter that has gone needs no news.
            let _gone = tx.send(completion.job_id.clone());
        }
        Ok(())
    }

    async fn put_in_store(&self, completion: &Completion) -> Result<(), StageError> {
        let key = self.key(&completion.job_id)?;
        let bytes = serde_json::to_vec(completion).map_err(|e| StageError::input(e.to_string()))?;
        match self.store.put_new(&key, Box::new(std::io::Cursor::new(bytes)), HashSelection::SHA256_ONLY).await {
            Ok(_) => {}
            Err(e) if e.kind() == StoreErrorKind::AlreadyExists => {}
            Err(e) => return Err(StageError::from_kind(e.kind().into(), format!("cannot record {key}: {e}"))),
        }
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked; records stay valid.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use exhibit_queue::conformance::sample_job;
    use exhibit_store::LocalStore;

    use super::*;

    fn completions(dir: &std::path::Path) -> (Completions, Arc<dyn ObjectStore>) {
        let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir).unwrap());
        let case = "42AB1234520".parse().unwrap();
        (Completions::new(store.clone(), &case, RunId::parse("run-1").unwrap()), store)
    }

    fn record(n: u32, outcome: JobOutcome) -> Completion {
        let job = sample_job("identify", n);
        Completion { job_id: job.job_id, stage: job.stage, outcome, follow_ups: vec![sample_job("explore", n)] }
    }

    #[tokio::test]
    async fn a_record_is_create_only_and_the_first_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c, _) = completions(dir.path());
        let first = record(1, JobOutcome::Done);
        assert_eq!(c.get(&first.job_id).await.unwrap(), None);
        c.put(&first).await.unwrap();
        let mut second = first.clone();
        second.outcome = JobOutcome::Failed;
        c.put(&second).await.unwrap();
        assert_eq!(c.get(&first.job_id).await.unwrap(), Some(first));
    }

    #[tokio::test]
    async fn a_damaged_record_is_an_input_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (c, store) = completions(dir.path());
        let damaged = [&b"{\"job_id\":"[..], b"\xff\xfe", b"[]", b"{\"job_id\":\"x\",\"stage\":1}"];
        for (n, bytes) in (10..).zip(damaged) {
            let job = sample_job("identify", n).job_id;
            let key = c.key(&job).unwrap();
            store
                .put_new(&key, Box::new(std::io::Cursor::new(bytes.to_vec())), HashSelection::SHA256_ONLY)
                .await
                .unwrap();
            let err = c.get(&job).await.expect_err("a damaged record is refused");
            assert_eq!(err.kind, crate::StageErrorKind::Input, "{bytes:?}");
        }
    }

    #[test]
    fn run_ids_are_one_safe_key_segment() {
        assert!(RunId::parse("18ee8f5217d2591f-6fbf").is_some());
        for bad in ["", "..", ".hidden", "a/b", "a b", &"x".repeat(65)] {
            assert!(RunId::parse(bad).is_none(), "{bad:?}");
        }
        assert!(RunId::parse(RunId::new().as_str()).is_some());
        assert!(ObjectKey::new(format!("cases/X/runs/{}/jobs/j", RunId::new().as_str())).is_some());
    }
}
