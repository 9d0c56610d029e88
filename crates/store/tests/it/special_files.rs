//! Files that are not regular files, planted in the data folder by someone
//! with write access, are refused or skipped, never opened blocking: opening
//! a FIFO waits for a writer that never comes.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use exhibit_core::digest::HashSelection;
use exhibit_core::layout::ObjectKey;
use exhibit_store::{ObjectStore, StoreErrorKind};

use crate::local_store;

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[tokio::test]
async fn a_fifo_posing_as_a_lock_file_does_not_hang_a_writer() {
    let fx = local_store().await;
    let planted = fx.store.root().join(".tmp").join("x.lock");
    mkfifo(&planted);
    // Before the fix, the cleanup before the first write blocked for ever
    // opening the FIFO.
    let receipt = fx
        .store
        .put_content("c/objects/sha256/", Box::new(Cursor::new(b"abc".to_vec())), HashSelection::default())
        .await
        .unwrap();
    assert!(fx.store.head(&receipt.key).await.is_ok());
    assert!(planted.exists(), "what the cleaner does not own it leaves alone");
}

#[tokio::test]
async fn an_object_replaced_by_a_fifo_reads_as_corrupt_not_a_hang() {
    let fx = local_store().await;
    let key = ObjectKey::new("c/artefacts/one.json").unwrap();
    let path = fx.store.root().join("c/artefacts/one.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    mkfifo(&path);
    let err = fx.store.get(&key, None).await.expect_err("a FIFO is not an object");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{err}");
}

#[tokio::test]
async fn an_object_replaced_by_a_symlink_reads_as_corrupt() {
    let fx = local_store().await;
    let key = ObjectKey::new("c/artefacts/two.json").unwrap();
    let path = fx.store.root().join("c/artefacts/two.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(fx.dir.path().join("outside"), b"planted").unwrap();
    std::os::unix::fs::symlink(fx.dir.path().join("outside"), &path).unwrap();
    let err = fx.store.get(&key, None).await.expect_err("a symlink is not an object");
    assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{err}");
}
