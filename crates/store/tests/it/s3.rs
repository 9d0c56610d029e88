//! The S3 store against real S3 servers on loopback: moto's server (which
//! enforces conditional create and Object Lock) for the conformance suite
//! and the lock, and a stub that accepts every PUT for the capability
//! probe's refusal. Test names name the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
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

/// A stub S3 server that answers every request 200 OK: it "accepts" every
/// PUT, conditional or not, as a server that ignores If-None-Match does.
fn start_accept_everything() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer_ok(stream));
        }
    });
    format!("http://127.0.0.1:{port}")
}

fn answer_ok(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let reply = "HTTP/1.1 200 OK\r\nETag: \"stub\"\r\nContent-Length: 0\r\n\r\n";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn accept_everything_stub_is_refused_by_the_capability_probe() {
    let endpoint = start_accept_everything();
    let store = store_at(&endpoint, "s3://any-bucket/ledger-here");
    let key = ObjectKey::new("cases/C1/ledger/000001.json").unwrap();
    let err =
        store.put_new(&key, Box::new(&b"{}"[..]), HashSelection::SHA256_ONLY).await.expect_err("the probe must refuse");
    let text = err.to_string();
    assert!(text.contains("If-None-Match") && text.contains("refuses"), "says why: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moto_passes_the_capability_probe() {
    let moto = S3Server::moto();
    let bucket = make_bucket(&moto.endpoint, false).await;
    let store = store_at(&moto.endpoint, &format!("s3://{bucket}"));
    exhibit_store::s3::probe_create_only(&store).await.expect("moto enforces If-None-Match: *");
}
