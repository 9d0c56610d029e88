//! The conformance suite against [`NoLocalPathStore`]: a local store seen
//! the way a remote backend is, with no positional reader of its own and
//! no hard links, so ranged gets and downloaded copies carry every read.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use exhibit_core::digest::HashSelection;
use exhibit_core::read_at::read_exact_at;
use exhibit_store::conformance::{self, NoLocalPathStore};
use exhibit_store::{ObjectStore, materialise, open_read_at};

use crate::local_store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapper_passes_the_quick_checks() {
    let fx = local_store().await;
    conformance::run_quick(Arc::new(NoLocalPathStore::new(fx.dyn_store()))).await;
}

#[tokio::test]
async fn the_wrapper_catches_damage_on_every_read_path() {
    let fx = local_store().await;
    let tamper = fx.store.clone();
    let store = Arc::new(NoLocalPathStore::new(fx.dyn_store()));
    conformance::corrupt_object_fails_read(store, move |key| {
        let path = tamper.path_of(key).unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let mut file = OpenOptions::new().write(true).open(&path).unwrap();
        file.seek(SeekFrom::Start(10)).unwrap();
        file.write_all(b"X").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o444)).unwrap();
    })
    .await;
}

/// Positional reads through the wrapper are ranged gets, batched by the
/// block cache: a thousand small reads of one region cost one get.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn positional_reads_become_few_ranged_gets() {
    let fx = local_store().await;
    let wrapper = Arc::new(NoLocalPathStore::new(fx.dyn_store()));
    let store: Arc<dyn ObjectStore> = wrapper.clone();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    let receipt = store
        .put_content(
            "cases/C1/objects/sha256/",
            Box::new(std::io::Cursor::new(data.clone())),
            HashSelection::SHA256_ONLY,
        )
        .await
        .unwrap();
    let at = open_read_at(&store, &receipt.key).await.unwrap();
    tokio::task::spawn_blocking(move || {
        for i in 0..1000u64 {
            let offset = (i * 37) % 60_000;
            let mut buf = [0u8; 16];
            read_exact_at(at.as_ref(), offset, &mut buf).unwrap();
            assert_eq!(buf[..], data[offset as usize..offset as usize + 16]);
        }
    })
    .await
    .unwrap();
    assert_eq!(wrapper.ranged_gets(), 1, "one 64 KiB block serves every read");
    // And a child process still gets a checked copy, downloaded.
    let scratch = tempfile::tempdir().unwrap();
    let copy = materialise(store.as_ref(), &receipt.key, receipt.digests.sha256, scratch.path()).await.unwrap();
    assert!(!copy.is_link(), "the wrapper has no local files to link");
}
