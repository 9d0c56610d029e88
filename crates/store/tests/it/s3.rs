//! The S3 store against real S3 servers on loopback: moto's server (which
//! enforces conditional create and Object Lock) for the conformance suite
//! and the lock, and a stub that accepts every PUT for the capability
//! probe's refusal. Test names name the server.

use std::io::Read;
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
