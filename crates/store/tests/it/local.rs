//! Guarantees of the local folder store beyond the shared conformance suite.

use std::fs;
use std::io::{self, Cursor, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use exhibit_core::digest::HashSelection;
use exhibit_core::layout::ObjectKey;
use exhibit_store::{LocalStore, ObjectStore, Published, StoreErrorKind, WriteBatch, open_store, read_small};

use crate::local_store;

fn key(s: &str) -> ObjectKey {
    ObjectKey::new(s).unwrap()
}

fn body(data: &[u8]) -> exhibit_store::Body {
    Box::new(Cursor::new(data.to_vec()))
}

/// Every file below `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}

/// A body that yields some bytes and then fails.
struct FailingBody(usize);

impl Read for FailingBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            return Err(io::Error::other("source drive went away"));
        }
        let n = self.0.min(buf.len());
        buf[..n].fill(7);
        self.0 -= n;
        Ok(n)
    }
}

#[tokio::test]
async fn objects_are_files_at_their_key_under_the_root_only() {
    let fx = local_store().await;
    let (dir, store) = (&fx.dir, fx.store.clone());
    let keys = ["cases/C1/ledger/00000000000000000001.json", "cases/C1/artefacts/a.json", "top"];
    for k in keys {
        store.put_new(&key(k), body(k.as_bytes()), HashSelection::SHA256_ONLY).await.unwrap();
    }
    let content =
        store.put_content("cases/C1/objects/sha256/", body(b"abc"), HashSelection::SHA256_ONLY).await.unwrap();
    let root = store.root().to_path_buf();
    assert_eq!(root, dir.path().join("store").canonicalize().unwrap());
    let mut expect: Vec<PathBuf> = keys.iter().map(|k| root.join(k)).collect();
    expect.push(root.join(content.key.as_str()));
    expect.sort();
    // Everything in the temporary folder's parent is inside the root, and
    // every file in the root is an object at its key's path.
    // (This process's lock file in `.tmp/` aside.)
    let files: Vec<PathBuf> =
        files_under(dir.path()).into_iter().filter(|p| !p.starts_with(root.join(".tmp"))).collect();
    assert_eq!(files, expect);
    let temp = files_under(&root.join(".tmp"));
    assert!(temp.len() == 1 && temp[0].extension().is_some_and(|e| e == "lock"), "{temp:?}");
    for k in keys {
        assert_eq!(fs::read(root.join(k)).unwrap(), k.as_bytes());
        assert_eq!(store.path_of(&key(k)).unwrap(), root.join(k));
    }
}

#[tokio::test]
async fn temporary_files_are_cleaned_up() {
    let fx = local_store().await;
    let store = fx.store.clone();
    let k = key("a/b");
    store.put_new(&k, body(b"one"), HashSelection::default()).await.unwrap();
    let lost = store.put_new(&k, body(b"two"), HashSelection::default()).await.unwrap_err();
    assert_eq!(lost.kind(), StoreErrorKind::AlreadyExists);
    for _ in 0..2 {
        store.put_content("c/", body(b"same"), HashSelection::default()).await.unwrap();
    }
    let failed =
        store.put_new(&key("a/failed"), Box::new(FailingBody(3 << 20)), HashSelection::default()).await.unwrap_err();
    assert_eq!(failed.kind(), StoreErrorKind::Io, "{failed}");
    assert!(failed.to_string().contains("source drive went away"), "{failed}");
    assert_eq!(store.head(&key("a/failed")).await.unwrap_err().kind(), StoreErrorKind::NotFound);
    // Only this process's own (empty) folder and its lock file remain.
    let left: Vec<_> = files_under(&store.root().join(".tmp"))
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn write_batches_leave_no_temporary_files_committed_or_dropped() {
    let fx = local_store().await;
    let store = fx.store.clone();
    let shared: std::sync::Arc<dyn ObjectStore> = store.clone();
    let mut committed = WriteBatch::new(shared.clone());
    committed.put_new(&key("batch/one"), body(b"one"), HashSelection::default()).await.unwrap();
    committed.put_content("batch/c/", body(b"same"), HashSelection::default()).await.unwrap();
    committed.put_content("batch/c/", body(b"same"), HashSelection::default()).await.unwrap();
    let before = store.head(&key("batch/one")).await.expect_err("a staged put is not visible before commit");
    assert_eq!(before.kind(), StoreErrorKind::NotFound);
    let outcomes = committed.commit().await.unwrap();
    assert_eq!(outcomes, [Published::Stored, Published::Stored, Published::Existed]);
    let mode = fs::metadata(store.root().join("batch/one")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o400, "batched objects are read-only too");
    let mut dropped = WriteBatch::new(shared);
    dropped.put_new(&key("batch/never"), body(b"never"), HashSelection::default()).await.unwrap();
    drop(dropped);
    assert_eq!(store.head(&key("batch/never")).await.unwrap_err().kind(), StoreErrorKind::NotFound);
    // Only this process's own (empty) folder and its lock file remain.
    let left: Vec<_> = files_under(&store.root().join(".tmp"))
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn stored_files_are_read_only() {
    let fx = local_store().await;
    let store = fx.store.clone();
    let receipt = store.put_content("x/objects/sha256/", body(b"abc"), HashSelection::default()).await.unwrap();
    store.put_new(&key("x/plain"), body(b""), HashSelection::default()).await.unwrap();
    for k in [receipt.key, key("x/plain")] {
        let mode = fs::metadata(store.path_of(&k).unwrap()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o400, "{k} has mode {mode:o}");
    }
}

#[tokio::test]
async fn a_new_store_and_its_folders_are_private_to_the_owner() {
    let fx = local_store().await;
    let store = fx.store.clone();
    let receipt = store.put_content("x/objects/sha256/", body(b"abc"), HashSelection::default()).await.unwrap();
    let object = store.path_of(&receipt.key).unwrap();
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for folder in [store.root().to_path_buf(), store.root().join(".tmp"), object.parent().unwrap().to_path_buf()] {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
    }
    // An existing folder keeps the mode its owner gave it.
    let shared = fx.dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o750)).unwrap();
    LocalStore::open(&shared).unwrap();
    assert_eq!(mode(&shared), 0o750);
}

#[tokio::test]
async fn keys_cannot_reach_the_temporary_folder() {
    let fx = local_store().await;
    let store = fx.store.clone();
    let err = store.put_new(&key(".tmp/x"), body(b"x"), HashSelection::default()).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    assert_eq!(store.get(&key(".tmp/x"), None).await.unwrap_err().kind(), StoreErrorKind::Invalid);
    assert_eq!(
        store.put_content(".tmp/", body(b"x"), HashSelection::default()).await.unwrap_err().kind(),
        StoreErrorKind::Invalid
    );
    // A stray file in the temporary folder never shows up in a listing.
    fs::write(store.root().join(".tmp/stray"), b"x").unwrap();
    store.put_new(&key(".tmpx/y"), body(b"y"), HashSelection::default()).await.unwrap();
    let all: Vec<String> = store.list("").await.unwrap().into_iter().map(|m| m.key.to_string()).collect();
    assert_eq!(all, [".tmpx/y"]);
    assert!(store.list(".tmp/").await.unwrap().is_empty());
    assert!(store.list(".tm").await.unwrap().iter().all(|m| m.key.as_str() == ".tmpx/y"));
}

#[tokio::test]
async fn nothing_is_stored_below_an_object() {
    let fx = local_store().await;
    let store = fx.store.clone();
    store.put_new(&key("a/b"), body(b"x"), HashSelection::default()).await.unwrap();
    let err = store.put_new(&key("a/b/c"), body(b"y"), HashSelection::default()).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    // And a folder is not an object.
    assert_eq!(store.head(&key("a")).await.unwrap_err().kind(), StoreErrorKind::NotFound);
    assert_eq!(store.get(&key("a"), None).await.unwrap_err().kind(), StoreErrorKind::NotFound);
}

#[tokio::test]
async fn open_store_picks_the_backend_from_the_uri() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let by_uri = open_store(&format!("file://{}", path.display())).unwrap();
    by_uri.put_new(&key("k"), body(b"v"), HashSelection::default()).await.unwrap();
    let by_path = open_store(path.to_str().unwrap()).unwrap();
    assert_eq!(by_path.uri(), by_uri.uri());
    assert_eq!(by_path.head(&key("k")).await.unwrap().size, 1);
    let reopened = open_store(&by_uri.uri()).unwrap();
    assert_eq!(reopened.list("").await.unwrap().len(), 1);
    assert!(open_store("s3://bucket/prefix").unwrap().uri().starts_with("s3://bucket/prefix"));
    let err = open_store("gs://bucket/prefix").unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unsupported);
    assert!(err.to_string().contains("gs"), "{err}");
}

#[tokio::test]
async fn read_small_enforces_its_limit_and_verifies() {
    let fx = local_store().await;
    let store = fx.store.clone();
    let receipt = store.put_content("m/objects/sha256/", body(b"0123456789"), HashSelection::default()).await.unwrap();
    assert_eq!(read_small(&*store, &receipt.key, 10).await.unwrap(), b"0123456789");
    let err = read_small(&*store, &receipt.key, 9).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::TooLarge, "{err}");
    assert!(err.to_string().contains(receipt.key.as_str()), "{err}");
}

#[test]
fn open_creates_the_root_and_its_temporary_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path().join("deep/er/store")).unwrap();
    assert!(store.root().join(".tmp").is_dir());
    assert!(store.uri().starts_with("file:///"));
}

/// A `.tmp` planted as a symlink would take staged writes outside the data
/// folder: opening refuses it, and so does the first write of a store
/// opened read-only before the link appeared.
#[tokio::test]
async fn a_symlinked_temp_folder_is_refused_and_nothing_lands_outside() {
    let dir = tempfile::tempdir().unwrap();
    let (root, outside) = (dir.path().join("data"), dir.path().join("outside"));
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join(".tmp")).unwrap();
    let err = LocalStore::open(&root).unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");

    let store = LocalStore::open_existing(&root, exhibit_store::Access::owner_only()).unwrap();
    let err =
        store.put_content("cases/C1/objects/sha256/", body(b"abc"), HashSelection::SHA256_ONLY).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Invalid, "{err}");
    assert!(files_under(&outside).is_empty() && fs::read_dir(&outside).unwrap().next().is_none());
}

/// Yields its bytes a few at a time, as a pipe or a slow medium does.
struct Trickle(Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(1000);
        self.0.read(&mut buf[..n])
    }
}

/// Small bodies are hashed on the storing thread, larger ones on the
/// hashing threads: at and around the size where that changes (64 KiB) and
/// the piece size (1 MiB), the object and its three digests are the same
/// as hashing the bytes in one go, however the body hands them over.
#[tokio::test]
async fn digests_are_right_at_every_piece_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let (first, piece) = (64 << 10, 1 << 20);
    let sizes = [0, 1, first - 1, first, first + 1, piece - 1, piece, first + piece, first + piece + 1, 3 * piece + 7];
    for size in sizes {
        let data: Vec<u8> = (0..size).map(|i: usize| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
        let mut hasher = exhibit_core::hashing::MultiHasher::new(HashSelection::default());
        hasher.update(&data);
        let expected = hasher.finish();
        for (how, body) in [
            ("whole", Box::new(Cursor::new(data.clone())) as exhibit_store::Body),
            ("trickled", Box::new(Trickle(Cursor::new(data.clone())))),
        ] {
            let receipt = store.put_content("objects/", body, HashSelection::default()).await.unwrap();
            assert_eq!(receipt.size, size as u64, "{size} bytes, {how}");
            assert_eq!(receipt.digests, expected, "{size} bytes, {how}");
            let stored = read_small(&store, &receipt.key, 4 << 20).await.unwrap();
            assert!(stored == data, "{size} bytes, {how}: the stored object is the body");
        }
    }
}
