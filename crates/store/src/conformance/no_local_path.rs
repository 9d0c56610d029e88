//! [`NoLocalPathStore`]: a store that reads only the way a remote backend
//! (S3) can, for tests that show a stage behaves the same on every backend.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::layout::ObjectKey;

use crate::{Body, ObjectMeta, ObjectStore, Published, PutReceipt, StageTarget, Staged, StoreError, VerifyingReader};

/// Wraps another store and hides its local files: no positional reader of
/// its own ([`ObjectStore::open_positional`]) and no hard links
/// ([`ObjectStore::link_local`]), so random access goes through ranged gets
/// and child processes get downloaded copies. Everything else is passed
/// through. Counts the ranged gets it serves.
#[derive(Debug, Clone)]
pub struct NoLocalPathStore {
    inner: Arc<dyn ObjectStore>,
    /// Shared with its clones ([`ObjectStore::to_shared`]).
    ranged_gets: Arc<AtomicU64>,
}

impl NoLocalPathStore {
    /// Hides the local files of `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner, ranged_gets: Arc::new(AtomicU64::new(0)) }
    }

    /// How many ranged gets it has served.
    pub fn ranged_gets(&self) -> u64 {
        self.ranged_gets.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl ObjectStore for NoLocalPathStore {
    fn uri(&self) -> String {
        format!("no-local-path+{}", self.inner.uri())
    }

    async fn put_new(&self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.inner.put_new(key, body, hashes).await
    }

    async fn put_content(&self, prefix: &str, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.inner.put_content(prefix, body, hashes).await
    }

    async fn get(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError> {
        self.inner.get(key, expect).await
    }

    async fn get_range(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        self.ranged_gets.fetch_add(1, Ordering::Relaxed);
        self.inner.get_range(key, offset, len).await
    }

    fn to_shared(&self) -> Option<Arc<dyn ObjectStore>> {
        Some(Arc::new(self.clone()))
    }

    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        self.inner.head(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.inner.list(prefix).await
    }

    async fn link_local(&self, _key: &ObjectKey) -> Result<Option<PathBuf>, StoreError> {
        Ok(None)
    }

    async fn stage(&self, target: StageTarget, body: Body, hashes: HashSelection) -> Result<Staged, StoreError> {
        self.inner.stage(target, body, hashes).await
    }

    async fn publish(&self, staged: Vec<Staged>) -> Result<Vec<Published>, StoreError> {
        self.inner.publish(staged).await
    }
}
