//! Conformance checks of local copies ([`crate::materialise`]) and of the
//! whole-object check of positional readers.

use std::sync::Arc;

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::layout::ObjectKey;
use exhibit_core::read_at::read_exact_at;

use super::{body, scope};
use crate::{ObjectStore, StoreErrorKind, materialise, open_read_at};

/// A local copy holds the object's bytes, is a new file (never the stored
/// one under another name the caller could damage by writing), and is gone
/// once dropped; a wrong SHA-256 gives no copy and a `Corrupt` error.
pub async fn materialise_gives_a_checked_copy(store: Arc<dyn ObjectStore>) {
    let base = scope("materialise");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let receipt = store
        .put_content(&format!("{base}objects/sha256/"), body(data.clone()), HashSelection::SHA256_ONLY)
        .await
        .unwrap_or_else(|e| panic!("put_content: {e}"));
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("scratch folder: {e}"));
    let copy = materialise(store.as_ref(), &receipt.key, receipt.digests.sha256, scratch.path())
        .await
        .unwrap_or_else(|e| panic!("materialise {}: {e}", receipt.key));
    let path = copy.path().to_owned();
    assert!(std::fs::read(&path).is_ok_and(|b| b == data), "the copy of {} holds other bytes", receipt.key);
    drop(copy);
    assert!(!path.exists(), "a dropped copy must be removed: {}", path.display());

    let wrong = Sha256Digest::of(b"not the content");
    let err = materialise(store.as_ref(), &receipt.key, wrong, scratch.path())
        .await
        .expect_err("a copy that fails its SHA-256 must not be handed out");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt, "materialise with a wrong SHA-256: {err}");
    let left = std::fs::read_dir(scratch.path()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "a failed copy must leave nothing in the scratch folder");
}

/// After `key` was damaged, reading all of it positionally fails with
/// `InvalidData`, and no local copy of it is handed out.
pub(super) async fn damaged_object_fails_whole_reads_and_copies(store: &Arc<dyn ObjectStore>, key: &ObjectKey) {
    let Some(sha256) = key.content_sha256() else { return };
    let at = open_read_at(store, key).await.unwrap_or_else(|e| panic!("open_read_at {key}: {e}"));
    let whole = tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; usize::try_from(at.size()).unwrap_or(0)];
        read_exact_at(at.as_ref(), 0, &mut buf)
    })
    .await
    .unwrap_or_else(|e| panic!("positional read task: {e}"));
    let err = whole.expect_err("reading all of a damaged object positionally must fail");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "positional read of damaged {key}: {err}");
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("scratch folder: {e}"));
    let err = materialise(store.as_ref(), key, sha256, scratch.path())
        .await
        .expect_err("a damaged object must not be copied out");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt, "materialise damaged {key}: {err}");
}
