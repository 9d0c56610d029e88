//! Recording a fact twice records it once: within one append, within one
//! group commit, and across two contexts (two workers) on one ledger.

use std::sync::Arc;

use exhibit_core::event::{Action, Actor, CustodyEvent};
use exhibit_core::ids::CaseId;
use exhibit_core::manifest::ToolInfo;
use exhibit_custody::{Ledger, Signer, read_entries};
use exhibit_pipeline::{CaseIndex, Commit, Committed, StageContext};
use exhibit_store::{LocalStore, ObjectStore};

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<dyn ObjectStore>,
    signer: Arc<Signer>,
    case: CaseId,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("data")).unwrap());
        let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());
        Self { _dir: dir, store, signer, case: "42AB1234520".parse().unwrap() }
    }

    /// A worker's context: its own ledger handle and its own index.
    async fn worker(&self) -> Arc<StageContext> {
        let ledger = Arc::new(Ledger::open(self.store.clone(), self.case.clone(), self.signer.clone()).await.unwrap());
        let actor =
            Actor { operator: "T".into(), host: "h".into(), process: 1, public_key: self.signer.public_key_openssh() };
        Arc::new(StageContext::new(self.case.clone(), self.store.clone(), ledger, actor, CaseIndex::default()))
    }

    /// How many events of the ledger complete `job`.
    async fn recorded(&self, job: &str) -> usize {
        let entries = read_entries(self.store.as_ref(), &self.case).await.unwrap();
        entries
            .iter()
            .filter_map(|e| e.parsed.as_ref().ok())
            .flat_map(|e| e.events().to_vec())
            .filter(|e| e.params.get("job_id").and_then(|v| v.as_str()) == Some(job))
            .count()
    }
}

fn done(ctx: &StageContext, job: &str) -> CustodyEvent {
    let mut event = ctx.event(Action::Acquired, Some(&"JS/1".parse().unwrap()), ToolInfo::exhibit("test"));
    event.params.insert("job_id".into(), job.into());
    event
}

#[tokio::test]
async fn one_append_holding_the_same_fact_twice_records_it_once() {
    let env = Env::new();
    let ctx = env.worker().await;
    let (a, b) = (done(&ctx, "job-a"), done(&ctx, "job-b"));
    let appended = ctx.record_batch(&[a.clone(), b, a]).await.unwrap();
    assert_eq!(appended, 2);
    assert_eq!(env.recorded("job-a").await, 1);
    assert_eq!(env.recorded("job-b").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_committed_twice_by_one_worker_is_recorded_once() {
    let env = Env::new();
    let ctx = env.worker().await;
    // A queue that duplicates a job runs both copies at once: both saw
    // "not done", and their events can meet in one group commit.
    let event = done(&ctx, "job-dup");
    let twice = Commit::new().event(event.clone()).event(event.clone());
    assert_eq!(ctx.commit(twice).await.unwrap(), Committed::Recorded);
    let mut commits = Vec::new();
    for _ in 0..16 {
        let (ctx, event) = (ctx.clone(), event.clone());
        commits.push(tokio::spawn(async move { ctx.commit(Commit::new().event(event)).await }));
    }
    for commit in commits {
        assert_eq!(commit.await.unwrap().unwrap(), Committed::Recorded);
    }
    assert_eq!(env.recorded("job-dup").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_recorded_by_two_workers_at_once_is_recorded_once() {
    let env = Env::new();
    let (one, two) = (env.worker().await, env.worker().await);
    let mut commits = Vec::new();
    for round in 0..8 {
        for ctx in [one.clone(), two.clone()] {
            let events = vec![done(&ctx, &format!("job-{round}")), done(&ctx, "job-shared")];
            commits.push(tokio::spawn(async move { ctx.record_batch(&events).await }));
        }
    }
    for commit in commits {
        commit.await.unwrap().unwrap();
    }
    for round in 0..8 {
        assert_eq!(env.recorded(&format!("job-{round}")).await, 1, "job-{round}");
    }
    assert_eq!(env.recorded("job-shared").await, 1);
}
