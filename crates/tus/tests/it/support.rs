//! A real server on 127.0.0.1:0 with the router, a stub authorizer, a
//! recording completion hook and a settable clock; and a raw HTTP/1.1
//! client, so tests can send what well-behaved clients never would.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use exhibit_core::CaseId;
use exhibit_tus::{
    AuthRefusal, CompletedUpload, Principal, RefusedChunk, StagedBytes, TusConfig, TusService, UploadAuthorizer,
    UploadCompletion,
};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const FORCE_A: &str = "Bearer force-a:alice";
pub const FORCE_A_BOB: &str = "Bearer force-a:bob";
pub const FORCE_B: &str = "Bearer force-b:bea";
/// A user of force A whose role may not upload: refused 403 on its own
/// organisation's cases.
pub const FORCE_A_VIEWER: &str = "Bearer force-a:viewer";

/// Force A may upload to CASE-A, force B to CASE-B.
pub struct StubAuth {
    allowed: HashSet<(String, String)>,
}

#[async_trait]
impl UploadAuthorizer for StubAuth {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthRefusal> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|v| v.split_once(':'))
            .ok_or_else(|| AuthRefusal::Unauthenticated("no bearer token".into()))?;
        Ok(Principal { org: token.0.to_owned(), id: token.1.to_owned() })
    }

    async fn may_upload(&self, principal: &Principal, case: &CaseId) -> Result<bool, AuthRefusal> {
        let allowed = self.allowed.contains(&(principal.org.clone(), case.normalised()));
        if allowed && principal.id == "viewer" {
            return Err(AuthRefusal::Forbidden("a viewer may not upload".into()));
        }
        Ok(allowed)
    }
}

/// Records every completed upload; can be told to fail.
#[derive(Default)]
pub struct Recorder {
    pub completed: Mutex<Vec<CompletedUpload>>,
    pub refused: Mutex<Vec<RefusedChunk>>,
    pub fail: AtomicBool,
    /// Answer that the staged bytes may go.
    pub remove: AtomicBool,
}

#[async_trait]
impl UploadCompletion for Recorder {
    async fn upload_completed(&self, upload: &CompletedUpload) -> Result<StagedBytes, String> {
        if self.fail.load(Ordering::SeqCst) {
            return Err("ingest is down".into());
        }
        self.completed.lock().unwrap().push(upload.clone());
        Ok(if self.remove.load(Ordering::SeqCst) { StagedBytes::Remove } else { StagedBytes::Keep })
    }

    async fn chunk_refused(&self, chunk: &RefusedChunk) {
        self.refused.lock().unwrap().push(chunk.clone());
    }
}

impl Recorder {
    pub fn all(&self) -> Vec<CompletedUpload> {
        self.completed.lock().unwrap().clone()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub service: Arc<TusService>,
    pub recorder: Arc<Recorder>,
    pub staging: TempDir,
    pub now: Arc<Mutex<OffsetDateTime>>,
    pub config: TusConfig,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn test_config(staging: &std::path::Path) -> TusConfig {
    TusConfig { staging_dir: staging.to_owned(), lock_wait: Duration::from_secs(30), ..TusConfig::default() }
}

impl TestServer {
    pub async fn start(edit: impl FnOnce(&mut TusConfig)) -> Self {
        let staging = tempfile::tempdir().unwrap();
        let mut config = test_config(staging.path());
        edit(&mut config);
        Self::start_in(staging, config).await
    }

    /// A server over an existing staging folder (a restart).
    pub async fn start_in(staging: TempDir, config: TusConfig) -> Self {
        let recorder = Arc::new(Recorder::default());
        let now = Arc::new(Mutex::new(OffsetDateTime::now_utc()));
        let clock_now = Arc::clone(&now);
        let allowed = [("force-a", "CASE-A"), ("force-b", "CASE-B")]
            .into_iter()
            .map(|(o, c)| (o.to_owned(), c.to_owned()))
            .collect();
        let service = TusService::new(config.clone(), Arc::new(StubAuth { allowed }), recorder.clone())
            .unwrap()
            .with_clock(Arc::new(move || *clock_now.lock().unwrap()));
        let service = Arc::new(service);
        let app = axum::Router::new().nest("/v1/uploads", exhibit_tus::router(Arc::clone(&service)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, service, recorder, staging, now, config, task }
    }

    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }

    /// Stops serving and hands back the staging folder.
    pub fn stop(mut self) -> (TempDir, TusConfig) {
        self.task.abort();
        let staging = std::mem::replace(&mut self.staging, tempfile::tempdir().unwrap());
        (staging, self.config.clone())
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        send(self.addr, method, path, headers, body).await
    }

    /// POSTs a new upload to CASE-A as force A; returns its path.
    pub async fn create(&self, token: &str, length: u64) -> String {
        let resp = self.create_with(token, length, &metadata("CASE-A", "JS/1", "disk.img")).await;
        assert_eq!(resp.status, 201, "{}", resp.text());
        resp.header("location").unwrap().to_owned()
    }

    pub async fn create_with(&self, token: &str, length: u64, metadata: &str) -> Resp {
        let length = length.to_string();
        let headers = [
            ("tus-resumable", "1.0.0"),
            ("authorization", token),
            ("upload-length", length.as_str()),
            ("upload-metadata", metadata),
        ];
        self.send("POST", "/v1/uploads", &headers, b"").await
    }

    pub async fn patch(&self, token: &str, path: &str, offset: u64, body: &[u8], checksum: Option<&str>) -> Resp {
        let offset = offset.to_string();
        let mut headers = vec![
            ("tus-resumable", "1.0.0"),
            ("authorization", token),
            ("upload-offset", offset.as_str()),
            ("content-type", "application/offset+octet-stream"),
        ];
        if let Some(c) = checksum {
            headers.push(("upload-checksum", c));
        }
        self.send("PATCH", path, &headers, body).await
    }

    pub async fn head(&self, token: &str, path: &str) -> Resp {
        self.send("HEAD", path, &[("tus-resumable", "1.0.0"), ("authorization", token)], b"").await
    }

    pub async fn offset(&self, token: &str, path: &str) -> u64 {
        let resp = self.head(token, path).await;
        assert_eq!(resp.status, 200);
        resp.header("upload-offset").unwrap().parse().unwrap()
    }

    pub fn data_len(&self, path: &str) -> u64 {
        let id = path.rsplit('/').next().unwrap();
        std::fs::metadata(self.staging.path().join(format!("{id}.bin"))).unwrap().len()
    }
}

pub fn metadata(case: &str, exhibit: &str, filename: &str) -> String {
    format!(
        "case {},exhibit {},filename {}",
        STANDARD.encode(case),
        STANDARD.encode(exhibit),
        STANDARD.encode(filename)
    )
}

pub fn sha256_checksum(data: &[u8]) -> String {
    format!("sha256 {}", STANDARD.encode(Sha256::digest(data)))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Deterministic bytes that do not compress or repeat.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn request_head(method: &str, path: &str, headers: &[(&str, &str)]) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head
}

/// One request on a fresh connection; `Content-Length` from the body
/// unless the headers set it or ask for chunked encoding.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut head = request_head(method, path, headers);
    let framed = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding"));
    if !framed && (!body.is_empty() || matches!(method, "POST" | "PATCH")) {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (e.g. 413) and close before reading it all.
    let _ = stream.write_all(body).await;
    read_response(stream, method == "HEAD").await
}

/// Sends the head of a PATCH that promises `promised` bytes and `sent`
/// bytes of it; the caller drops the stream to disconnect.
pub async fn start_patch(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    promised: usize,
    sent: &[u8],
) -> TcpStream {
    let mut head = request_head("PATCH", path, headers);
    head.push_str(&format!("content-type: application/offset+octet-stream\r\ncontent-length: {promised}\r\n\r\n"));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(sent).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

impl TestServer {
    /// Polls the staged file until it holds at least `len` bytes (the
    /// server has received them), with a deadline.
    pub async fn wait_for_data(&self, path: &str, len: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.data_len(path) < len {
            assert!(tokio::time::Instant::now() < deadline, "the server never wrote {len} bytes");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn read_response(mut stream: TcpStream, head_only: bool) -> Resp {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if head_only { Vec::new() } else { raw[split + 4..].to_vec() };
    Resp { status, headers, body }
}
