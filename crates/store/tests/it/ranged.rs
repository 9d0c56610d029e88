//! Ranged reads: natively on the local store, and by the trait's default
//! (streaming) implementation on a backend that offers neither ranged gets
//! nor positional reads of its own.

use std::sync::Arc;

use async_trait::async_trait;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::layout::ObjectKey;
use exhibit_store::{Body, ObjectMeta, ObjectStore, PutReceipt, StoreError, VerifyingReader, conformance};

use crate::local_store;

/// Forwards the required methods only, so every ranged read goes through
/// the trait's default implementations.
#[derive(Debug)]
struct StreamingOnly(Arc<dyn ObjectStore>);

#[async_trait]
impl ObjectStore for StreamingOnly {
    fn uri(&self) -> String {
        self.0.uri()
    }
    async fn put_new(&self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.0.put_new(key, body, hashes).await
    }
    async fn put_content(&self, prefix: &str, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.0.put_content(prefix, body, hashes).await
    }
    async fn get(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError> {
        self.0.get(key, expect).await
    }
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        self.0.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.0.list(prefix).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranged_reads_on_the_local_store() {
    let fx = local_store().await;
    conformance::ranged_reads_match_the_object(fx.dyn_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranged_reads_by_the_default_implementation() {
    let fx = local_store().await;
    let streaming: Arc<dyn ObjectStore> = Arc::new(StreamingOnly(fx.dyn_store()));
    assert!(streaming.open_positional(&ObjectKey::new("a").unwrap()).await.unwrap().is_none());
    conformance::ranged_reads_match_the_object(streaming).await;
}
