//! The conformance suite every [`ObjectStore`] backend must pass. Each check
//! panics with a message saying what the backend got wrong, so a backend's
//! tests simply call them:
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::Arc;
//! let dir = std::env::temp_dir().join("exhibit-conformance-demo");
//! let store = Arc::new(exhibit_store::LocalStore::open(&dir).unwrap());
//! exhibit_store::conformance::run_all(store).await;
//! # }
//! ```
//!
//! Every check writes under its own fresh prefix (`conformance/<run>/<check>/`),
//! so checks can share one store, run concurrently, and run again against a
//! store that keeps data (a bucket) without colliding with earlier runs.

use std::io::{self, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::hashing::MultiHasher;
use exhibit_core::layout::ObjectKey;

use crate::{ContentBody, ObjectMeta, ObjectStore, Published, StoreErrorKind, VerifyingReader, WriteBatch};

mod copies;
mod no_local_path;
mod ranged;
pub use copies::materialise_gives_a_checked_copy;
pub use no_local_path::NoLocalPathStore;
pub use ranged::ranged_reads_match_the_object;

/// Size of the object [`large_object_streams_at_constant_memory`] stores.
pub const LARGE_OBJECT_BYTES: u64 = 2 << 30;
/// How much the peak resident memory may grow while storing and reading back
/// a large object.
pub const MAX_RSS_GROWTH_BYTES: u64 = 64 << 20;

const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC_MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
const ABC_SHA1: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Runs every check that needs nothing but the store, the large streaming
/// check included. The corruption check needs a backend-specific way to
/// damage an object, so call [`corrupt_object_fails_read`] separately.
pub async fn run_all(store: Arc<dyn ObjectStore>) {
    run_quick(store.clone()).await;
    large_object_streams_at_constant_memory(store).await;
}

/// Runs every check except the large streaming one and the corruption one.
pub async fn run_quick(store: Arc<dyn ObjectStore>) {
    concurrent_writers_have_one_winner(store.clone()).await;
    run_quick_single_writer(store).await;
}

/// [`run_quick`] without concurrent create-only writers: for a server
/// that refuses a create of a key that exists, but checks and writes in
/// two steps, so that writers racing for one key can all win. Such a
/// store must never hold a ledger that several processes append to.
pub async fn run_quick_single_writer(store: Arc<dyn ObjectStore>) {
    put_get_round_trip(store.clone()).await;
    put_new_refuses_existing_key(store.clone()).await;
    put_content_dedupes(store.clone()).await;
    content_from_a_file_or_a_stream_is_the_same(store.clone()).await;
    list_by_prefix(store.clone()).await;
    missing_objects_are_not_found(store.clone()).await;
    ranged_reads_match_the_object(store.clone()).await;
    materialise_gives_a_checked_copy(store.clone()).await;
    batch_commit_publishes_every_put(store.clone()).await;
    batch_reports_taken_keys(store).await;
}

/// A write batch: content and new-key puts are readable once it commits,
/// with their digests.
pub async fn batch_commit_publishes_every_put(store: Arc<dyn ObjectStore>) {
    let base = scope("batch-commit");
    let new_key = key(&format!("{base}named/object"));
    let mut batch = WriteBatch::new(store.clone());
    let receipt = batch
        .put_content(&base, body(b"abc".to_vec()), HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("staging content under {base}: {e}"));
    assert_eq!(receipt.digests.sha256.to_hex(), ABC_SHA256, "staged content digest");
    assert_eq!(receipt.digests.md5.map(|d| d.to_hex()).as_deref(), Some(ABC_MD5), "staged MD5");
    assert_eq!(receipt.key.as_str(), format!("{base}{ABC_SHA256}"), "staged content key");
    batch.put_new(&new_key, body(b"named".to_vec()), HashSelection::SHA256_ONLY).await.unwrap_or_else(|e| {
        panic!("staging {new_key}: {e}");
    });
    assert_eq!((batch.len(), batch.staged_bytes()), (2, 8), "the batch counts what it staged");
    let outcomes = batch.commit().await.unwrap_or_else(|e| panic!("committing a batch under {base}: {e}"));
    assert_eq!(outcomes, vec![Published::Stored, Published::Stored], "both puts are new");
    assert_eq!(read_ok(&*store, &receipt.key, None).await, b"abc");
    assert_eq!(read_ok(&*store, &new_key, None).await, b"named");
}

/// A batch's create-only put on a taken key is a conflict that leaves the
/// stored object alone; content already stored is reported as existing.
pub async fn batch_reports_taken_keys(store: Arc<dyn ObjectStore>) {
    let base = scope("batch-taken");
    let taken = key(&format!("{base}taken"));
    store.put_new(&taken, body(b"first".to_vec()), HashSelection::SHA256_ONLY).await.unwrap_or_else(|e| {
        panic!("put_new {taken}: {e}");
    });
    store.put_content(&base, body(b"abc".to_vec()), HashSelection::SHA256_ONLY).await.unwrap_or_else(|e| {
        panic!("put_content under {base}: {e}");
    });
    let mut batch = WriteBatch::new(store.clone());
    batch.put_new(&taken, body(b"second".to_vec()), HashSelection::SHA256_ONLY).await.unwrap_or_else(|e| {
        panic!("staging {taken}: {e}");
    });
    batch.put_content(&base, body(b"abc".to_vec()), HashSelection::SHA256_ONLY).await.unwrap_or_else(|e| {
        panic!("staging content under {base}: {e}");
    });
    let outcomes = batch.commit().await.unwrap_or_else(|e| panic!("committing under {base}: {e}"));
    assert_eq!(outcomes, vec![Published::Conflict, Published::Existed], "taken key, then known content");
    assert_eq!(read_ok(&*store, &taken, None).await, b"first", "the first write must survive a batch");
}

/// Stores known values and reads them back, with SHA-256, MD5 and SHA-1.
pub async fn put_get_round_trip(store: Arc<dyn ObjectStore>) {
    let base = scope("round-trip");
    let abc = key(&format!("{base}abc"));
    let receipt = store
        .put_new(&abc, body(b"abc".to_vec()), HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("put_new {abc}: {e}"));
    assert_eq!((receipt.key.clone(), receipt.size, receipt.created), (abc.clone(), 3, true), "receipt for {abc}");
    assert_eq!(receipt.digests.sha256.to_hex(), ABC_SHA256, "SHA-256 of 'abc'");
    assert_eq!(receipt.digests.md5.map(|d| d.to_hex()).as_deref(), Some(ABC_MD5), "MD5 of 'abc'");
    assert_eq!(receipt.digests.sha1.map(|d| d.to_hex()).as_deref(), Some(ABC_SHA1), "SHA-1 of 'abc'");
    assert_eq!(read_ok(&*store, &abc, Some(receipt.digests.sha256)).await, b"abc", "bytes of {abc}");
    assert_eq!(read_ok(&*store, &abc, None).await, b"abc", "bytes of {abc} without a digest");
    assert_eq!(
        store.head(&abc).await.unwrap_or_else(|e| panic!("head {abc}: {e}")),
        ObjectMeta { key: abc.clone(), size: 3 }
    );

    // A wrong expectation fails at the end, naming the key.
    let wrong = Sha256Digest::of(b"abd");
    let err = read(&*store, &abc, Some(wrong)).await.expect_err("reading with a wrong expected SHA-256 must fail");
    assert_invalid_data_naming(&err, &abc);

    let empty = key(&format!("{base}empty"));
    let receipt = store
        .put_new(&empty, body(Vec::new()), HashSelection::SHA256_ONLY)
        .await
        .unwrap_or_else(|e| panic!("put_new {empty}: {e}"));
    assert_eq!(
        (receipt.size, receipt.digests.sha256.to_hex()),
        (0, EMPTY_SHA256.to_owned()),
        "receipt for the empty object"
    );
    assert_eq!((receipt.digests.md5, receipt.digests.sha1), (None, None), "SHA256_ONLY must not compute MD5 or SHA-1");
    assert!(read_ok(&*store, &empty, None).await.is_empty(), "empty object reads back empty");

    // Several chunks, not a multiple of any chunk size.
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 17u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut expect = MultiHasher::new(HashSelection::default());
    expect.update(&data);
    let expect = expect.finish();
    let multi = key(&format!("{base}nested/multi-chunk.bin"));
    let receipt = store
        .put_new(&multi, body(data.clone()), HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("put_new {multi}: {e}"));
    assert_eq!((receipt.size, receipt.digests), (data.len() as u64, expect), "receipt for {multi}");
    assert!(
        read_ok(&*store, &multi, Some(expect.sha256)).await == data,
        "bytes of {multi} differ from what was stored"
    );
}

/// A create-only put on an existing key fails and leaves the object alone.
pub async fn put_new_refuses_existing_key(store: Arc<dyn ObjectStore>) {
    let k = key(&format!("{}object", scope("put-new-existing")));
    store
        .put_new(&k, body(b"first".to_vec()), HashSelection::SHA256_ONLY)
        .await
        .unwrap_or_else(|e| panic!("put_new {k}: {e}"));
    let err = store
        .put_new(&k, body(b"second".to_vec()), HashSelection::SHA256_ONLY)
        .await
        .expect_err("a second put_new on one key must fail");
    assert_eq!(err.kind(), StoreErrorKind::AlreadyExists, "second put_new on {k}: {err}");
    assert!(err.to_string().contains(k.as_str()), "the error must name the key: {err}");
    let err = store
        .put_new(&k, body(b"first".to_vec()), HashSelection::SHA256_ONLY)
        .await
        .expect_err("even identical content must not overwrite");
    assert_eq!(err.kind(), StoreErrorKind::AlreadyExists, "{err}");
    assert_eq!(read_ok(&*store, &k, None).await, b"first", "the first write must survive");
}

/// Sixteen concurrent writers of different content to one key: exactly one
/// wins, and the stored bytes are the winner's.
pub async fn concurrent_writers_have_one_winner(store: Arc<dyn ObjectStore>) {
    const WRITERS: usize = 16;
    let k = key(&format!("{}contended", scope("concurrent")));
    let barrier = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (store, k, barrier) = (store.clone(), k.clone(), barrier.clone());
        // Big enough that the writes overlap in time.
        let content: Vec<u8> = (0..256 * 1024 + i).map(|j| (j * 31 + i * 7) as u8).collect();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let result = store.put_new(&k, body(content.clone()), HashSelection::SHA256_ONLY).await;
            (content, result)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (content, result) = task.await.unwrap_or_else(|e| panic!("writer task failed: {e}"));
        match result {
            Ok(receipt) => winners.push((content, receipt)),
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::AlreadyExists, "a losing writer must get AlreadyExists: {e}")
            }
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of {WRITERS} concurrent writers to {k} must win");
    let (content, receipt) = &winners[0];
    assert_eq!(receipt.digests.sha256, Sha256Digest::of(content), "the winner's receipt must match its content");
    assert!(read_ok(&*store, &k, Some(receipt.digests.sha256)).await == *content, "{k} must hold the winner's bytes");
}

/// A content put is stored under prefix + SHA-256, and storing the same
/// content again is a no-op that says so.
pub async fn put_content_dedupes(store: Arc<dyn ObjectStore>) {
    let prefix = format!("{}objects/sha256/", scope("content"));
    let first = store
        .put_content(&prefix, body(b"abc".to_vec()), HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("put_content: {e}"));
    assert_eq!(first.key.as_str(), format!("{prefix}{ABC_SHA256}"), "content key");
    assert!(first.created, "first content put must create");
    assert_eq!(first.key.content_sha256().map(|d| d.to_hex()).as_deref(), Some(ABC_SHA256));
    let second = store
        .put_content(&prefix, body(b"abc".to_vec()), HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("second put_content: {e}"));
    assert!(!second.created, "identical content must not be stored twice");
    assert_eq!(
        (second.key.clone(), second.size, second.digests),
        (first.key.clone(), first.size, first.digests),
        "second receipt"
    );
    assert_eq!(read_ok(&*store, &first.key, None).await, b"abc");
    let listed = store.list(&prefix).await.unwrap_or_else(|e| panic!("list {prefix}: {e}"));
    assert_eq!(listed, vec![ObjectMeta { key: first.key.clone(), size: 3 }], "one object after two identical puts");

    for bad in ["no-slash", "", "a//", "../", "/abs/"] {
        let err = store
            .put_content(bad, body(b"x".to_vec()), HashSelection::SHA256_ONLY)
            .await
            .expect_err("a bad content prefix must be refused");
        assert_eq!(err.kind(), StoreErrorKind::Invalid, "prefix {bad:?}: {err}");
    }
}

/// A content put from a regular file that may be read twice
/// ([`ContentBody::File`], several parts long) and from a stream read
/// once store the same object under the same key with the same digests;
/// the second is a dedup.
pub async fn content_from_a_file_or_a_stream_is_the_same(store: Arc<dyn ObjectStore>) {
    const SIZE: u64 = 20 << 20;
    // Short: s3s-fs names a multipart upload's file by the key in base64,
    // and a long key makes that name longer than a file name may be.
    let prefix = {
        let scoped = scope("cf");
        format!(
            "cf/{:x}/",
            Sha256Digest::of(scoped.as_bytes()).as_bytes()[..8].iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))
        )
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let path = dir.path().join("source");
    let mut data = Vec::new();
    PseudoRandomReader::new(11, SIZE).read_to_end(&mut data).unwrap_or_else(|e| panic!("generate: {e}"));
    std::fs::write(&path, &data).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    let mut expected = MultiHasher::new(HashSelection::default());
    expected.update(&data);
    let expected = expected.finish();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open: {e}"));
    let from_file = ContentBody::from_file(file, None).unwrap_or_else(|e| panic!("metadata: {e}"));
    assert!(from_file.is_rereadable(), "a regular file may be read twice");
    let first = store
        .put_content_from(&prefix, from_file, HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("put_content_from a file: {e}"));
    assert_eq!(first.key.as_str(), format!("{prefix}{}", expected.sha256.to_hex()), "content key");
    assert_eq!((first.size, first.digests, first.created), (SIZE, expected, true), "file receipt");
    let second = store
        .put_content_from(&prefix, ContentBody::Stream(body(data.clone())), HashSelection::default())
        .await
        .unwrap_or_else(|e| panic!("put_content_from a stream: {e}"));
    assert_eq!((second.key.clone(), second.size, second.digests), (first.key.clone(), SIZE, expected), "stream");
    assert!(!second.created, "identical content must not be stored twice");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open: {e}"));
    let third = store
        .put_content_from(
            &prefix,
            ContentBody::from_file(file, None).unwrap_or_else(|e| panic!("{e}")),
            HashSelection::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("put_content_from the file again: {e}"));
    assert_eq!((third.key.clone(), third.digests, third.created), (first.key.clone(), expected, false), "again");
    assert_eq!(read_ok(&*store, &first.key, None).await.len() as u64, SIZE);
    let listed = store.list(&prefix).await.unwrap_or_else(|e| panic!("list {prefix}: {e}"));
    assert_eq!(listed, vec![ObjectMeta { key: first.key.clone(), size: SIZE }], "one object after three puts");
}

/// Listing returns every object under a prefix, nested ones included, sorted,
/// and nothing else. The prefix may end mid-name.
pub async fn list_by_prefix(store: Arc<dyn ObjectStore>) {
    let base = scope("list");
    let names = ["list/ba", "list/b/d", "list/a", "list/b/c", "list-other/x", "lis"];
    for (i, name) in names.iter().enumerate() {
        let k = key(&format!("{base}{name}"));
        store
            .put_new(&k, body(vec![b'x'; i]), HashSelection::SHA256_ONLY)
            .await
            .unwrap_or_else(|e| panic!("put_new {k}: {e}"));
    }
    let cases: [(&str, &[&str]); 9] = [
        ("list/", &["list/a", "list/b/c", "list/b/d", "list/ba"]),
        ("list/b", &["list/b/c", "list/b/d", "list/ba"]),
        ("list/b/", &["list/b/c", "list/b/d"]),
        ("list/a", &["list/a"]),
        ("list", &["list-other/x", "list/a", "list/b/c", "list/b/d", "list/ba"]),
        ("", &["lis", "list-other/x", "list/a", "list/b/c", "list/b/d", "list/ba"]),
        ("list/zz", &[]),
        ("nothing/", &[]),
        ("list/a/", &[]),
    ];
    for (prefix, expect) in cases {
        let prefix = format!("{base}{prefix}");
        let got = store.list(&prefix).await.unwrap_or_else(|e| panic!("list {prefix}: {e}"));
        let got: Vec<&str> =
            got.iter().map(|m| m.key.as_str().strip_prefix(base.as_str()).unwrap_or(m.key.as_str())).collect();
        assert_eq!(got, expect, "list {prefix:?}");
    }
    let sizes = store.list(&format!("{base}list/b/")).await.unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(sizes.iter().map(|m| m.size).collect::<Vec<_>>(), [3, 1], "sizes in a listing");
    let none =
        store.list("conformance-nothing-here/").await.unwrap_or_else(|e| panic!("list of a missing prefix: {e}"));
    assert!(none.is_empty(), "a prefix with nothing under it lists nothing");
}

/// Head and get of a missing object say NotFound.
pub async fn missing_objects_are_not_found(store: Arc<dyn ObjectStore>) {
    let k = key(&format!("{}missing", scope("not-found")));
    let err = store.head(&k).await.expect_err("head of a missing object must fail");
    assert_eq!(err.kind(), StoreErrorKind::NotFound, "head {k}: {err}");
    assert!(err.to_string().contains(k.as_str()), "the error must name the key: {err}");
    let err = store.get(&k, None).await.expect_err("get of a missing object must fail");
    assert_eq!(err.kind(), StoreErrorKind::NotFound, "get {k}: {err}");
}

/// Stores and reads back a [`LARGE_OBJECT_BYTES`] object at constant memory.
pub async fn large_object_streams_at_constant_memory(store: Arc<dyn ObjectStore>) {
    object_streams_at_constant_memory(store, LARGE_OBJECT_BYTES).await;
}

/// Stores `size` pseudo-random bytes, reads them back, and checks that the
/// digests agree and that peak resident memory grew by less than
/// [`MAX_RSS_GROWTH_BYTES`] (on systems with `/proc`).
pub async fn object_streams_at_constant_memory(store: Arc<dyn ObjectStore>, size: u64) {
    let k = key(&format!("{}large.bin", scope("large")));
    reset_peak_rss();
    let before = peak_rss_bytes();
    let (source, fed) = HashingReader::new(PseudoRandomReader::new(0x5eed, size));
    let receipt = store
        .put_new(&k, Box::new(source), HashSelection::SHA256_ONLY)
        .await
        .unwrap_or_else(|e| panic!("put_new {k}: {e}"));
    let fed = fed.lock().map(|h| h.clone().finish().sha256).unwrap_or_else(|e| panic!("hasher lock: {e}"));
    assert_eq!((receipt.size, receipt.digests.sha256), (size, fed), "receipt for {k} must match the bytes fed in");
    let meta = store.head(&k).await.unwrap_or_else(|e| panic!("head {k}: {e}"));
    assert_eq!(meta.size, size, "head {k}");

    let mut reader = store.get(&k, Some(receipt.digests.sha256)).await.unwrap_or_else(|e| panic!("get {k}: {e}"));
    let (n, reader) = tokio::task::spawn_blocking(move || {
        let n = io::copy(&mut reader, &mut io::sink());
        (n, reader)
    })
    .await
    .unwrap_or_else(|e| panic!("reader task: {e}"));
    let n = n.unwrap_or_else(|e| panic!("reading {k} back: {e}"));
    assert_eq!((n, reader.sha256()), (size, Some(fed)), "{k} read back");

    match (before, peak_rss_bytes()) {
        (Some(before), Some(after)) => {
            let growth = after.saturating_sub(before);
            eprintln!("peak RSS grew by {} KiB storing and reading {size} bytes", growth >> 10);
            assert!(
                growth < MAX_RSS_GROWTH_BYTES,
                "peak RSS grew by {} MiB storing and reading {size} bytes; it must stay under {} MiB",
                growth >> 20,
                MAX_RSS_GROWTH_BYTES >> 20
            );
        }
        _ => eprintln!("skipping the memory assertion: /proc/self/status has no VmHWM on this system"),
    }
}

/// Stores objects, lets `corrupt` damage them in place (same size, one byte
/// flipped), and checks that reading them back fails with
/// [`io::ErrorKind::InvalidData`] naming the key: for a content-addressed key
/// with no expected digest given, and for a plain key with one given.
pub async fn corrupt_object_fails_read(store: Arc<dyn ObjectStore>, corrupt: impl Fn(&ObjectKey)) {
    let base = scope("corrupt");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let content = store
        .put_content(&format!("{base}objects/sha256/"), body(data.clone()), HashSelection::SHA256_ONLY)
        .await
        .unwrap_or_else(|e| panic!("put_content: {e}"));
    let plain = key(&format!("{base}plain.bin"));
    let receipt = store
        .put_new(&plain, body(data), HashSelection::SHA256_ONLY)
        .await
        .unwrap_or_else(|e| panic!("put_new {plain}: {e}"));
    for (k, expect) in [(&content.key, None), (&plain, Some(receipt.digests.sha256))] {
        corrupt(k);
        match store.get(k, expect).await {
            // A backend may notice at once.
            Err(e) => {
                assert_eq!(e.kind(), StoreErrorKind::Corrupt, "get of corrupted {k}: {e}");
                assert!(e.to_string().contains(k.as_str()), "the error must name the key: {e}");
            }
            Ok(reader) => {
                let err = drain(reader).await.expect_err("reading a corrupted object must fail");
                assert_invalid_data_naming(&err, k);
            }
        }
    }
    copies::damaged_object_fails_whole_reads_and_copies(&store, &content.key).await;
}

/// A deterministic stream of pseudo-random bytes of a given length, made on
/// the fly. Byte `p` depends only on the seed and `p`, so the stream is the
/// same however it is read. Each 4 KiB block is a window, at a pseudo-random
/// offset, into a 1 MiB pool of SplitMix64 output made once: memory stays at
/// about 1 MiB whatever the length, and producing bytes is a copy, fast even
/// in unoptimised test builds.
pub struct PseudoRandomReader {
    seed: u64,
    pool: Vec<u8>,
    pos: u64,
    len: u64,
}

const POOL: usize = 1 << 20;
const BLOCK: usize = 4096;

impl PseudoRandomReader {
    /// `len` bytes from `seed`.
    pub fn new(seed: u64, len: u64) -> Self {
        // The pool is longer by one block so every window is contiguous.
        let mut pool = Vec::with_capacity(POOL + BLOCK);
        for i in 0..((POOL + BLOCK) / 8) as u64 {
            pool.extend_from_slice(&splitmix(seed, i).to_le_bytes());
        }
        Self { seed, pool, pos: 0, len }
    }
}

/// SplitMix64 of a counter: the `i`th output of a generator seeded `seed`.
fn splitmix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Read for PseudoRandomReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.len - self.pos).map_or(buf.len(), |left| left.min(buf.len()));
        let mut out = &mut buf[..n];
        while !out.is_empty() {
            let block = self.pos / BLOCK as u64;
            let within = (self.pos % BLOCK as u64) as usize;
            // Blocks are numbered from 2^63 so they never share the pool's counters.
            let offset = (splitmix(self.seed, block | 1 << 63) % POOL as u64) as usize + within;
            let take = (BLOCK - within).min(out.len());
            out[..take].copy_from_slice(&self.pool[offset..offset + take]);
            out = &mut out[take..];
            self.pos += take as u64;
        }
        Ok(n)
    }
}

impl std::fmt::Debug for PseudoRandomReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PseudoRandomReader")
            .field("seed", &self.seed)
            .field("pos", &self.pos)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Hashes what is read through it, so a check knows exactly which bytes a
/// backend pulled from a body.
struct HashingReader<R> {
    inner: R,
    hasher: Arc<std::sync::Mutex<MultiHasher>>,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> (Self, Arc<std::sync::Mutex<MultiHasher>>) {
        let hasher = Arc::new(std::sync::Mutex::new(MultiHasher::new(HashSelection::SHA256_ONLY)));
        (Self { inner, hasher: hasher.clone() }, hasher)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.lock().map_err(|_| io::Error::other("hasher lock poisoned"))?.update(&buf[..n]);
        Ok(n)
    }
}

/// A fresh prefix, unique to this call, ending in `/`.
fn scope(check: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("conformance/{nanos}-{}-{n}/{check}/", std::process::id())
}

fn key(s: &str) -> ObjectKey {
    ObjectKey::new(s).unwrap_or_else(|| panic!("the conformance suite built an invalid key {s:?}"))
}

fn body(data: Vec<u8>) -> crate::Body {
    Box::new(Cursor::new(data))
}

/// Reads a whole object, panicking if it cannot be opened.
async fn read(store: &dyn ObjectStore, k: &ObjectKey, expect: Option<Sha256Digest>) -> io::Result<Vec<u8>> {
    let reader = store.get(k, expect).await.unwrap_or_else(|e| panic!("get {k}: {e}"));
    drain(reader).await
}

async fn read_ok(store: &dyn ObjectStore, k: &ObjectKey, expect: Option<Sha256Digest>) -> Vec<u8> {
    read(store, k, expect).await.unwrap_or_else(|e| panic!("reading {k}: {e}"))
}

async fn drain(mut reader: VerifyingReader) -> io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map(|_| out)
    })
    .await
    .unwrap_or_else(|e| panic!("reader task: {e}"))
}

fn assert_invalid_data_naming(err: &io::Error, k: &ObjectKey) {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "reading {k}: {err}");
    assert!(err.to_string().contains(k.as_str()), "the error must name the key {k}: {err}");
}

/// Lets a peak-memory measurement start from the current footprint rather
/// than from the process's earlier peak. Best effort (Linux 4.0+).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set size, from `/proc/self/status`.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_random_stream_does_not_depend_on_read_sizes() {
        let len = 3 * BLOCK as u64 + 1000;
        let mut whole = Vec::new();
        PseudoRandomReader::new(7, len).read_to_end(&mut whole).unwrap();
        assert_eq!(whole.len() as u64, len);
        let mut pieces = Vec::new();
        let mut r = PseudoRandomReader::new(7, len);
        let mut buf = [0u8; 5000];
        loop {
            let n = r.read(&mut buf[..(pieces.len() % 4999) + 1]).unwrap();
            if n == 0 {
                break;
            }
            pieces.extend_from_slice(&buf[..n]);
        }
        assert!(pieces == whole);
        assert_ne!(whole[..8], whole[8..16]);
        assert_ne!(whole[..BLOCK], whole[BLOCK..2 * BLOCK]);
        let mut other = Vec::new();
        PseudoRandomReader::new(8, len).read_to_end(&mut other).unwrap();
        assert!(whole != other, "the seed must matter");
    }
}
