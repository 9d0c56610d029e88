//! Every conformance check against a [`LocalStore`], each in its own folder.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;

use exhibit_store::conformance;

use crate::{local_store, local_store_alone};

#[tokio::test]
async fn put_get_round_trip() {
    let fx = local_store().await;
    conformance::put_get_round_trip(fx.dyn_store()).await;
}

#[tokio::test]
async fn put_new_refuses_existing_key() {
    let fx = local_store().await;
    conformance::put_new_refuses_existing_key(fx.dyn_store()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_have_one_winner() {
    let fx = local_store().await;
    conformance::concurrent_writers_have_one_winner(fx.dyn_store()).await;
}

#[tokio::test]
async fn put_content_dedupes() {
    let fx = local_store().await;
    conformance::put_content_dedupes(fx.dyn_store()).await;
}

#[tokio::test]
async fn list_by_prefix() {
    let fx = local_store().await;
    conformance::list_by_prefix(fx.dyn_store()).await;
}

#[tokio::test]
async fn missing_objects_are_not_found() {
    let fx = local_store().await;
    conformance::missing_objects_are_not_found(fx.dyn_store()).await;
}

#[tokio::test]
async fn large_object_streams_at_constant_memory() {
    let fx = local_store_alone().await;
    conformance::large_object_streams_at_constant_memory(fx.dyn_store()).await;
}

#[tokio::test]
async fn corrupt_object_fails_read() {
    let fx = local_store().await;
    let tamper = fx.store.clone();
    conformance::corrupt_object_fails_read(fx.dyn_store(), move |key| {
        // Stored files are read-only; a tamperer with the owner's rights
        // can still change that, which is what the reader must catch.
        let path = tamper.path_of(key).unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let mut file = OpenOptions::new().read(true).write(true).open(&path).unwrap();
        let middle = file.metadata().unwrap().len() / 2;
        let mut byte = [0u8];
        file.seek(SeekFrom::Start(middle)).unwrap();
        file.read_exact(&mut byte).unwrap();
        file.seek(SeekFrom::Start(middle)).unwrap();
        file.write_all(&[byte[0] ^ 0x01]).unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o444)).unwrap();
    })
    .await;
}

/// The quick checks share one store without tripping over each other, as
/// they will in one S3 bucket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_checks_share_one_store() {
    let fx = local_store().await;
    let store = fx.dyn_store();
    tokio::join!(conformance::run_quick(store.clone()), conformance::run_quick(store));
}

/// A backend whose puts are durable on return and that does not stage:
/// write batches must still work on it, through the trait's defaults.
#[derive(Debug)]
struct PutsAtOnce(std::sync::Arc<exhibit_store::LocalStore>);

#[async_trait::async_trait]
impl exhibit_store::ObjectStore for PutsAtOnce {
    fn uri(&self) -> String {
        self.0.uri()
    }
    async fn put_new(
        &self,
        key: &exhibit_core::layout::ObjectKey,
        body: exhibit_store::Body,
        hashes: exhibit_core::digest::HashSelection,
    ) -> Result<exhibit_store::PutReceipt, exhibit_store::StoreError> {
        self.0.put_new(key, body, hashes).await
    }
    async fn put_content(
        &self,
        prefix: &str,
        body: exhibit_store::Body,
        hashes: exhibit_core::digest::HashSelection,
    ) -> Result<exhibit_store::PutReceipt, exhibit_store::StoreError> {
        self.0.put_content(prefix, body, hashes).await
    }
    async fn get(
        &self,
        key: &exhibit_core::layout::ObjectKey,
        expect: Option<exhibit_core::digest::Sha256Digest>,
    ) -> Result<exhibit_store::VerifyingReader, exhibit_store::StoreError> {
        self.0.get(key, expect).await
    }
    async fn head(
        &self,
        key: &exhibit_core::layout::ObjectKey,
    ) -> Result<exhibit_store::ObjectMeta, exhibit_store::StoreError> {
        self.0.head(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<exhibit_store::ObjectMeta>, exhibit_store::StoreError> {
        self.0.list(prefix).await
    }
}

#[tokio::test]
async fn write_batches_work_on_a_store_that_puts_at_once() {
    let fx = local_store().await;
    let store: std::sync::Arc<dyn exhibit_store::ObjectStore> = std::sync::Arc::new(PutsAtOnce(fx.store.clone()));
    conformance::batch_commit_publishes_every_put(store.clone()).await;
    conformance::batch_reports_taken_keys(store).await;
}
