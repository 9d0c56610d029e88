//! The S3 store against real S3 servers on loopback: moto's server (which
//! enforces conditional create and Object Lock) for the conformance suite
//! and the lock, and a stub that accepts every PUT for the capability
//! probe's refusal. Test names name the server.

use std::io::Read;

use aws_sdk_s3::error::ProvideErrorMetadata;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_s3::config::{Credentials, Region, SharedCredentialsProvider};
use exhibit_core::digest::HashSelection;
use exhibit_core::layout::ObjectKey;
use exhibit_store::s3::{S3Location, S3Store};
use exhibit_store::{ObjectStore, StoreErrorKind, conformance};
use exhibit_testkit::servers::LoopbackServer;

/// An S3 server on loopback, with the folder s3s-fs keeps its data in.
struct S3Server {
    endpoint: String,
    _server: LoopbackServer,
    _root: Option<tempfile::TempDir>,
}

impl S3Server {
    fn moto() -> Self {
        let server = LoopbackServer::moto();
        Self { endpoint: server.endpoint(), _server: server, _root: None }
    }

    /// s3s-fs: checks every SHA-256 and MD5 it is sent and refuses a
    /// create of a key that exists, but ignores Object Lock.
    fn s3s_fs() -> Self {
        let root = tempfile::tempdir().unwrap();
        let server = LoopbackServer::s3s_fs(root.path());
        Self { endpoint: server.endpoint(), _server: server, _root: Some(root) }
    }
}

fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test",
            "test",
            None,
            None,
            "exhibit-test",
        )))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

async fn make_bucket(endpoint: &str, locked: bool) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let bucket = format!("exhibit-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(endpoint)).force_path_style(true).build(),
    );
    s3.create_bucket().bucket(&bucket).object_lock_enabled_for_bucket(locked).send().await.expect("create the bucket");
    bucket
}

fn store_at(endpoint: &str, uri: &str) -> Arc<S3Store> {
    Arc::new(S3Store::with_config(S3Location::parse(uri).unwrap(), &sdk_config(endpoint)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_passes_the_store_conformance_suite() {
    let moto = S3Server::moto();
    let bucket = make_bucket(&moto.endpoint, false).await;
    let store = store_at(&moto.endpoint, &format!("s3://{bucket}/exhibit"));
    conformance::run_quick(store.clone()).await;
    // Several parts, through staging and the conditional copy.
    conformance::object_streams_at_constant_memory(store, 20 << 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_passes_the_store_conformance_suite() {
    let server = S3Server::s3s_fs();
    let bucket = make_bucket(&server.endpoint, false).await;
    let store = store_at(&server.endpoint, &format!("s3://{bucket}/exhibit"));
    // s3s-fs refuses a create of a key that exists, but checks before it
    // writes: of 16 writers racing for one key, several won in a CI run.
    // So it runs the suite for one writer (see ARCHITECTURE.md).
    conformance::run_quick_single_writer(store.clone()).await;
    conformance::object_streams_at_constant_memory(store, 20 << 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_passes_the_capability_probe() {
    let server = S3Server::s3s_fs();
    let bucket = make_bucket(&server.endpoint, false).await;
    let store = store_at(&server.endpoint, &format!("s3://{bucket}"));
    exhibit_store::s3::probe_create_only(&store).await.expect("s3s-fs enforces If-None-Match: *");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_object_lock_keeps_an_original_from_deletion_and_overwrite() {
    let moto = S3Server::moto();
    let bucket = make_bucket(&moto.endpoint, true).await;
    let store = store_at(&moto.endpoint, &format!("s3://{bucket}/locked?retention=compliance&retention_days=1"));
    let original = store
        .put_content("cases/C1/objects/sha256/", Box::new(&b"evidence"[..]), HashSelection::SHA256_ONLY)
        .await
        .expect("store an original");
    let full = format!("locked/{}", original.key);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(&moto.endpoint)).force_path_style(true).build(),
    );
    let head = s3.head_object().bucket(&bucket).key(&full).send().await.expect("head the original");
    assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("COMPLIANCE"), "retention is set on the original");
    let version = head.version_id().expect("a locked bucket keeps versions").to_owned();
    let deleted = s3.delete_object().bucket(&bucket).key(&full).version_id(&version).send().await;
    assert!(deleted.is_err(), "deleting a locked original must fail");
    let again = store.put_new(&original.key, Box::new(&b"tampered"[..]), HashSelection::SHA256_ONLY).await;
    assert_eq!(again.expect_err("overwrite refused").kind(), StoreErrorKind::AlreadyExists);
    let _ = s3.put_object().bucket(&bucket).key(&full).body(b"tampered".to_vec().into()).send().await;
    let kept = s3
        .get_object()
        .bucket(&bucket)
        .key(&full)
        .version_id(&version)
        .send()
        .await
        .expect("the locked version is still there");
    let bytes = kept.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], b"evidence", "an overwrite never replaces a locked version");
}

#[tokio::test]
async fn accept_everything_stub_is_refused_by_the_capability_probe() {
    let stub = exhibit_testkit::servers::AcceptEverything::start();
    let store = store_at(&stub.endpoint, "s3://any-bucket/ledger-here");
    let key = ObjectKey::new("cases/C1/ledger/000001.json").unwrap();
    let err =
        store.put_new(&key, Box::new(&b"{}"[..]), HashSelection::SHA256_ONLY).await.expect_err("the probe must refuse");
    let text = err.to_string();
    assert!(text.contains("If-None-Match") && text.contains("refuses"), "says why: {text}");
    assert_eq!(err.kind(), StoreErrorKind::Unsupported, "not transient: a person must change the store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_passes_the_capability_probe() {
    let moto = S3Server::moto();
    let bucket = make_bucket(&moto.endpoint, false).await;
    let store = store_at(&moto.endpoint, &format!("s3://{bucket}"));
    exhibit_store::s3::probe_create_only(&store).await.expect("moto enforces If-None-Match: *");
}

/// A storage outage shorter than the store's retries (the server refuses
/// connections and cuts the live ones for 6 s, then comes back with its
/// data) stalls a write instead of failing it. With the SDK's default
/// retries (3 attempts, about a second) the write failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_behind_an_outage_a_write_waits_for_the_server_to_come_back() {
    let moto = S3Server::moto();
    let bucket = make_bucket(&moto.endpoint, false).await;
    let port: u16 = moto.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let mut proxy = exhibit_testkit::servers::OutageProxy::start(port);
    let store = store_at(&proxy.endpoint(), &format!("s3://{bucket}/exhibit"));
    let before = ObjectKey::new("outage/before").unwrap();
    store.put_new(&before, Box::new(&b"before"[..]), HashSelection::SHA256_ONLY).await.unwrap();
    proxy.outage();
    // The outage lasts 6 s: that is the fault, not a wait for a condition.
    let back = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(6));
        proxy.restore();
        proxy
    });
    let during = ObjectKey::new("outage/during").unwrap();
    let written = store.put_new(&during, Box::new(&b"during"[..]), HashSelection::SHA256_ONLY).await;
    let _proxy = back.join().unwrap();
    written.expect("the write waits out the outage");
    let mut text = String::new();
    store.get(&during, None).await.unwrap().read_to_string(&mut text).unwrap();
    assert_eq!(text, "during");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_a_content_put_of_many_parts_sent_at_once_reads_back_whole() {
    // 70 MiB: nine parts, up to four in flight while the next is read, so
    // parts finish out of order; then the staging copy. The bytes read
    // back must be the bytes fed in, under their SHA-256.
    const SIZE: u64 = 70 << 20;
    let server = S3Server::s3s_fs();
    let bucket = make_bucket(&server.endpoint, false).await;
    let store = store_at(&server.endpoint, &format!("s3://{bucket}/exhibit"));
    let expected = {
        let mut all = Vec::new();
        conformance::PseudoRandomReader::new(7, SIZE).read_to_end(&mut all).expect("generated bytes");
        exhibit_core::Sha256Digest::of(&all)
    };
    let body = Box::new(conformance::PseudoRandomReader::new(7, SIZE));
    let receipt = store.put_content("sha256/", body, HashSelection::default()).await.expect("put_content of 70 MiB");
    assert_eq!((receipt.size, receipt.digests.sha256), (SIZE, expected), "receipt");
    assert_eq!(receipt.key.as_str(), format!("sha256/{}", expected.to_hex()), "stored under its SHA-256");
    let mut reader = store.get(&receipt.key, Some(expected)).await.expect("get");
    let read = tokio::task::spawn_blocking(move || std::io::copy(&mut reader, &mut std::io::sink()))
        .await
        .expect("reader task")
        .expect("read back, hash checked");
    assert_eq!(read, SIZE);
    let again = Box::new(conformance::PseudoRandomReader::new(7, SIZE));
    let second = store.put_content("sha256/", again, HashSelection::default()).await.expect("second put_content");
    assert!(!second.created, "the same bytes again are stored once");
}

/// Every request a store sends, as "METHOD URI".
#[derive(Debug, Clone, Default)]
struct Requests(Arc<std::sync::Mutex<Vec<String>>>);

impl Requests {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("request log"))
    }
}

impl aws_sdk_s3::config::Intercept for Requests {
    fn name(&self) -> &'static str {
        "request log"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_s3::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let request = context.request();
        self.0.lock().expect("request log").push(format!("{} {}", request.method(), request.uri()));
        Ok(())
    }
}

fn logged_store_at(endpoint: &str, uri: &str) -> (Arc<S3Store>, Requests) {
    let requests = Requests::default();
    let location = S3Location::parse(uri).unwrap();
    let store = S3Store::with_config_and_interceptor(location, &sdk_config(endpoint), requests.clone());
    (Arc::new(store), requests)
}

fn raw_client(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config(endpoint)).force_path_style(true).build(),
    )
}

/// Keys under `prefix` in the bucket, and multipart uploads in progress
/// (none where the server cannot list them: s3s-fs; the tests then look
/// for the abort in the request log).
async fn leftovers(endpoint: &str, bucket: &str, prefix: &str) -> (Vec<String>, usize) {
    let s3 = raw_client(endpoint);
    let listed = s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await.expect("list");
    let keys = listed.contents().iter().filter_map(|o| o.key().map(str::to_owned)).collect();
    let uploads = match s3.list_multipart_uploads().bucket(bucket).send().await {
        Ok(uploads) => uploads.uploads().len(),
        Err(e) if e.code() == Some("NotImplemented") => 0,
        Err(e) => panic!("list uploads: {e:?}"),
    };
    (keys, uploads)
}

const FILE_SIZE: u64 = 20 << 20;

fn random_file(dir: &std::path::Path, seed: u64) -> (std::path::PathBuf, Vec<u8>) {
    let mut data = Vec::new();
    conformance::PseudoRandomReader::new(seed, FILE_SIZE).read_to_end(&mut data).expect("generated bytes");
    let path = dir.join(format!("source-{seed}"));
    std::fs::write(&path, &data).expect("write the source");
    (path, data)
}

fn file_body(path: &std::path::Path) -> exhibit_store::ContentBody {
    let body = exhibit_store::ContentBody::from_file(std::fs::File::open(path).expect("open"), None).expect("stat");
    assert!(body.is_rereadable());
    body
}

fn digests_of(data: &[u8]) -> exhibit_core::digest::Digests {
    let mut hasher = exhibit_core::hashing::MultiHasher::new(HashSelection::default());
    hasher.update(data);
    hasher.finish()
}

/// A regular file goes straight to its content key: no staging object,
/// no copy, no upload left open; a second put of the same bytes sends
/// nothing but a HEAD (no multipart upload is even created).
async fn a_file_is_uploaded_once_under_its_key_and_never_twice(endpoint: &str) {
    let bucket = make_bucket(endpoint, false).await;
    let (store, requests) = logged_store_at(endpoint, &format!("s3://{bucket}/exhibit"));
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = random_file(dir.path(), 21);
    let expected = digests_of(&data);
    let receipt = store.put_content_from("sha256/", file_body(&path), HashSelection::default()).await.expect("put");
    assert_eq!(receipt.key.as_str(), format!("sha256/{}", expected.sha256.to_hex()));
    assert_eq!((receipt.size, receipt.digests, receipt.created), (FILE_SIZE, expected, true));
    let sent = requests.take();
    assert!(sent.iter().all(|r| !r.contains("staging")), "nothing staged: {sent:#?}");
    assert_eq!(sent.iter().filter(|r| r.starts_with("POST") && r.contains("uploads")).count(), 1, "{sent:#?}");
    assert_eq!(leftovers(endpoint, &bucket, "exhibit/").await, (vec![format!("exhibit/{}", receipt.key)], 0));
    let mut reader = store.get(&receipt.key, Some(expected.sha256)).await.expect("get");
    let read = tokio::task::spawn_blocking(move || std::io::copy(&mut reader, &mut std::io::sink()))
        .await
        .expect("reader task")
        .expect("read back, hash checked");
    assert_eq!(read, FILE_SIZE);
    requests.take();

    let again = store.put_content_from("sha256/", file_body(&path), HashSelection::default()).await.expect("again");
    assert_eq!((again.key, again.digests, again.created), (receipt.key, expected, false), "dedup receipt");
    let sent = requests.take();
    assert!(sent.iter().all(|r| r.starts_with("HEAD")), "a dedup only looks: {sent:#?}");
    assert_eq!(sent.len(), 1, "{sent:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_a_file_is_uploaded_once_under_its_key_and_never_twice() {
    let moto = S3Server::moto();
    a_file_is_uploaded_once_under_its_key_and_never_twice(&moto.endpoint).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_a_file_is_uploaded_once_under_its_key_and_never_twice() {
    let server = S3Server::s3s_fs();
    a_file_is_uploaded_once_under_its_key_and_never_twice(&server.endpoint).await;
}

/// A file changed between the hashing pass and the upload (by a hook run
/// between them) is never stored under the first pass's key: the upload
/// stops and is aborted, and the file is stored as read once (staging and
/// copy), under the hashes of the bytes that read saw.
async fn a_file_changed_between_the_passes_is_stored_as_read_once(endpoint: &str) {
    let bucket = make_bucket(endpoint, false).await;
    let (store, requests) = logged_store_at(endpoint, &format!("s3://{bucket}/exhibit"));
    let dir = tempfile::tempdir().unwrap();
    let (path, data) = random_file(dir.path(), 22);
    let before = digests_of(&data);
    let mut changed = data.clone();
    // In the second part, so that the upload has begun when it is seen.
    changed[(9 << 20) + 5] ^= 0xff;
    let after = digests_of(&changed);
    let exhibit_store::ContentBody::File(file) = file_body(&path) else { unreachable!("a regular file") };
    let (target, bytes) = (path.clone(), changed.clone());
    let file = file.between_passes(move || std::fs::write(&target, &bytes).expect("change the file"));
    let receipt = store
        .put_content_from("sha256/", exhibit_store::ContentBody::File(file), HashSelection::default())
        .await
        .expect("stored as read once");
    assert_eq!((receipt.size, receipt.digests), (FILE_SIZE, after), "the hashes of the bytes stored");
    assert_eq!(receipt.key.as_str(), format!("sha256/{}", after.sha256.to_hex()));
    let first_key = ObjectKey::new(format!("sha256/{}", before.sha256.to_hex())).unwrap();
    assert_eq!(store.head(&first_key).await.expect_err("not stored").kind(), StoreErrorKind::NotFound);
    let sent = requests.take();
    let first_full = format!("exhibit/{first_key}");
    assert!(
        sent.iter().any(|r| r.starts_with("DELETE") && r.contains(&first_full) && r.contains("uploadId")),
        "the upload to the first pass's key is aborted: {sent:#?}"
    );
    assert!(
        !sent.iter().any(|r| r.starts_with("POST") && r.contains(&first_full) && r.contains("uploadId")),
        "and never completed: {sent:#?}"
    );
    assert!(sent.iter().any(|r| r.contains("staging")), "the fallback stages: {sent:#?}");
    assert_eq!(leftovers(endpoint, &bucket, "exhibit/").await, (vec![format!("exhibit/{}", receipt.key)], 0));
    let mut reader = store.get(&receipt.key, None).await.expect("get");
    let mut read = Vec::new();
    let read = tokio::task::spawn_blocking(move || reader.read_to_end(&mut read).map(|_| read))
        .await
        .expect("reader task")
        .expect("read back, hash checked");
    assert!(read == changed, "the stored bytes are the changed file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_a_file_changed_between_the_passes_is_stored_as_read_once() {
    let moto = S3Server::moto();
    a_file_changed_between_the_passes_is_stored_as_read_once(&moto.endpoint).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_a_file_changed_between_the_passes_is_stored_as_read_once() {
    let server = S3Server::s3s_fs();
    a_file_changed_between_the_passes_is_stored_as_read_once(&server.endpoint).await;
}

/// A pipe cannot be read twice: it goes through staging and the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_fs_a_pipe_is_read_once_through_staging() {
    let server = S3Server::s3s_fs();
    let bucket = make_bucket(&server.endpoint, false).await;
    let (store, requests) = logged_store_at(&server.endpoint, &format!("s3://{bucket}/exhibit"));
    let (reader, mut writer) = std::io::pipe().expect("pipe");
    let mut data = Vec::new();
    conformance::PseudoRandomReader::new(23, FILE_SIZE).read_to_end(&mut data).expect("generated bytes");
    let expected = digests_of(&data);
    let feeder = std::thread::spawn(move || std::io::Write::write_all(&mut writer, &data));
    let pipe = std::fs::File::from(std::os::fd::OwnedFd::from(reader));
    let body = exhibit_store::ContentBody::from_file(pipe, None).expect("stat the pipe");
    assert!(!body.is_rereadable(), "a pipe is read once");
    let receipt = store.put_content_from("sha256/", body, HashSelection::default()).await.expect("put");
    feeder.join().expect("feeder").expect("fed");
    assert_eq!((receipt.size, receipt.digests, receipt.created), (FILE_SIZE, expected, true));
    let sent = requests.take();
    assert!(sent.iter().any(|r| r.contains("staging")), "read once, staged and copied: {sent:#?}");
    assert_eq!(leftovers(&server.endpoint, &bucket, "exhibit/").await, (vec![format!("exhibit/{}", receipt.key)], 0));
}
