//! A case ingested through the real stages, and a store that counts ledger
//! reads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::event::Actor;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::ObjectKey;
use exhibit_custody::{Ledger, Signer};
use exhibit_intake::{AcquireStage, IdentifyStage, acquire_jobs, plan_sources};
use exhibit_pipeline::{CaseIndex, Completions, RunId, Stage, StageContext, WorkerConfig, run_in_process};
use exhibit_queue::{JobQueue, MemoryQueue};
use exhibit_store::{
    Body, LocalStore, ObjectMeta, ObjectStore, Published, PutReceipt, StageTarget, Staged, StoreError, VerifyingReader,
};

pub fn case() -> CaseId {
    "42AB1234520".parse().unwrap()
}

pub fn exhibit() -> ExhibitRef {
    "JS/1".parse().unwrap()
}

/// A folder of `n` small files.
pub fn folder(dir: &Path, n: usize) -> PathBuf {
    let root = dir.join("evidence");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..n {
        std::fs::write(root.join(format!("file{i:03}.txt")), format!("exhibit file {i}\n")).unwrap();
    }
    root
}

/// A stage context of its own over `store`, signing with the key at `key`.
pub async fn context(store: Arc<dyn ObjectStore>, key: &Path, operator: &str) -> Arc<StageContext> {
    let signer = Arc::new(Signer::load_or_create(key).unwrap());
    let ledger = Arc::new(Ledger::open(store.clone(), case(), signer.clone()).await.unwrap());
    let actor =
        Actor { operator: operator.into(), host: "test".into(), process: 1, public_key: signer.public_key_openssh() };
    Arc::new(StageContext::new(case(), store, ledger, actor, CaseIndex::default()))
}

pub fn intake_stages() -> Vec<Arc<dyn Stage>> {
    vec![Arc::new(AcquireStage::default()), Arc::new(IdentifyStage::default())]
}

/// Acquires and identifies `source` into `store` as exhibit JS/1.
pub async fn ingest(store: Arc<dyn ObjectStore>, key: &Path, source: &Path) {
    let ctx = context(store.clone(), key, "DC Test").await;
    let plan = plan_sources(&[source.to_owned()]).unwrap();
    let jobs = acquire_jobs(&plan, &case(), &exhibit());
    let queue: Arc<dyn JobQueue> = Arc::new(MemoryQueue::new());
    let completions = Arc::new(Completions::in_process(store, &case(), RunId::new()));
    let summary =
        run_in_process(ctx, queue, completions, WorkerConfig::new(intake_stages()), (jobs, false)).await.unwrap();
    assert_eq!(summary.failed, 0);
}

/// A local store that counts, for ledger keys, the entries read (`get`),
/// the lookups (`head`, one per read and one per probe past the head) and
/// the listings, to show how much of the ledger a use case reads.
#[derive(Debug)]
pub struct CountingStore {
    inner: LocalStore,
    pub ledger_reads: AtomicU64,
    pub ledger_heads: AtomicU64,
    pub ledger_lists: AtomicU64,
}

impl CountingStore {
    pub fn open(root: &Path) -> Arc<Self> {
        Arc::new(Self {
            inner: LocalStore::open(root).unwrap(),
            ledger_reads: AtomicU64::new(0),
            ledger_heads: AtomicU64::new(0),
            ledger_lists: AtomicU64::new(0),
        })
    }

    /// Ledger entries read, lookups and listings since the last call.
    pub fn take(&self) -> (u64, u64, u64) {
        (
            self.ledger_reads.swap(0, Ordering::SeqCst),
            self.ledger_heads.swap(0, Ordering::SeqCst),
            self.ledger_lists.swap(0, Ordering::SeqCst),
        )
    }
}

fn is_ledger(key: &str) -> bool {
    key.contains("/ledger/")
}

#[async_trait]
impl ObjectStore for CountingStore {
    fn uri(&self) -> String {
        self.inner.uri()
    }
    async fn put_new(&self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.inner.put_new(key, body, hashes).await
    }
    async fn put_content(&self, prefix: &str, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.inner.put_content(prefix, body, hashes).await
    }
    async fn get(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError> {
        if is_ledger(key.as_str()) {
            self.ledger_reads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.get(key, expect).await
    }
    async fn get_range(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        if is_ledger(key.as_str()) {
            self.ledger_reads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.get_range(key, offset, len).await
    }
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        if is_ledger(key.as_str()) {
            self.ledger_heads.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        if is_ledger(prefix) {
            self.ledger_lists.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.list(prefix).await
    }
    async fn link_local(&self, key: &ObjectKey) -> Result<Option<PathBuf>, StoreError> {
        self.inner.link_local(key).await
    }
    async fn stage(&self, target: StageTarget, body: Body, hashes: HashSelection) -> Result<Staged, StoreError> {
        self.inner.stage(target, body, hashes).await
    }
    async fn publish(&self, staged: Vec<Staged>) -> Result<Vec<Published>, StoreError> {
        self.inner.publish(staged).await
    }
}
