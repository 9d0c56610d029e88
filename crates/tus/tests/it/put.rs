//! The plain-PUT helpers, as the API server will use them: `save_body`
//! streams to a file with its SHA-256, `content_digest::verify` checks it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use exhibit_tus::content_digest;
use exhibit_tus::receive::save_body;

use crate::support::*;

const LIMIT: u64 = 1 << 20;

/// Test scaffolding: a PUT handler shaped like the server's.
async fn put(State(dir): State<Arc<PathBuf>>, headers: HeaderMap, body: Body) -> (StatusCode, String) {
    let path = dir.join("put.bin");
    let Some(digest) = headers.get("content-digest").and_then(|v| v.to_str().ok()) else {
        return (StatusCode::BAD_REQUEST, "Content-Digest is required".into());
    };
    let saved = match save_body(body, &path, LIMIT, Duration::from_secs(30)).await {
        Ok(saved) => saved,
        Err(e) => return (e.status(), e.to_string()),
    };
    match content_digest::verify(digest, &saved.sha256) {
        Ok(()) => (StatusCode::CREATED, saved.sha256.to_hex()),
        Err(e) => {
            std::fs::remove_file(&path).unwrap();
            (StatusCode::BAD_REQUEST, e.to_string())
        }
    }
}

async fn serve() -> (std::net::SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = axum::Router::new().route("/put", axum::routing::put(put)).with_state(Arc::new(dir.path().to_owned()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, dir)
}

fn digest_of(data: &[u8]) -> String {
    content_digest::header_value(&exhibit_core::Sha256Digest::of(data))
}

#[tokio::test]
async fn a_put_with_the_right_content_digest_is_saved() {
    let (addr, dir) = serve().await;
    let data = pseudo_random(LIMIT as usize, 21);
    let resp = send(addr, "PUT", "/put", &[("content-digest", &digest_of(&data))], &data).await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.text(), sha256_hex(&data));
    assert_eq!(std::fs::read(dir.path().join("put.bin")).unwrap(), data);
}

#[tokio::test]
async fn a_put_whose_content_digest_does_not_match_is_refused() {
    let (addr, dir) = serve().await;
    let resp = send(addr, "PUT", "/put", &[("content-digest", &digest_of(b"other"))], b"evidence").await;
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("mismatch"), "{}", resp.text());
    assert!(!dir.path().join("put.bin").exists());
    let resp = send(addr, "PUT", "/put", &[("content-digest", "md5=:AAAAAAAAAAAAAAAAAAAAAA==:")], b"evidence").await;
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("no sha-256"), "{}", resp.text());
}

#[tokio::test]
async fn a_put_over_the_limit_is_413_and_leaves_no_file() {
    let (addr, dir) = serve().await;
    let data = pseudo_random(LIMIT as usize + 1, 22);
    let resp = send(addr, "PUT", "/put", &[("content-digest", &digest_of(&data))], &data).await;
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert!(!dir.path().join("put.bin").exists());
}
