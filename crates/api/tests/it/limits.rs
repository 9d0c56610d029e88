//! Per-token limits as hostile clients meet them: a token that holds its
//! uploads open and trickles bytes (slowloris) gets no more than its
//! concurrent uploads, answered 429 with Retry-After, while another token
//! and its own reads go on; a slot frees when its client goes away. The
//! uploads route here is a stand-in that reads the whole body, as tus does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::patch;
use exhibit_api::limits::{TokenLimitConfig, TokenLimits};
use exhibit_app::access::{AccessState, IssuedToken, Role, SqliteAccessState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn read_whole_body(body: Body) -> String {
    match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => format!("got {}", bytes.len()),
        Err(_) => "client went away".into(),
    }
}

async fn token(access: &dyn AccessState, user: &str) -> String {
    let org = match access.org("Force A").await.unwrap() {
        Some(org) => org,
        None => access.add_org("Force A").await.unwrap(),
    };
    let user = access.user(&org, user, Role::Submitter).await.unwrap();
    let issued = IssuedToken::generate();
    access.add_token(&user, &issued, None).await.unwrap();
    issued.text
}

async fn start(access: Arc<dyn AccessState>, config: TokenLimitConfig) -> std::net::SocketAddr {
    let uploads = Router::new()
        .route("/v1/uploads/{id}", patch(|body: Body| read_whole_body(body)))
        .route("/v1/other", axum::routing::get(|| async { "fine" }));
    let app = exhibit_api::with_token_limits(uploads, TokenLimits::new(config, access));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(exhibit_api::serve_app(listener, None, app, std::future::pending()));
    addr
}

/// Sends a PATCH that declares `declared` bytes and sends 10; the stream
/// stays open.
async fn trickle(addr: std::net::SocketAddr, token: &str, declared: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH /v1/uploads/abc HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-length: {declared}\r\n\r\n0123456789"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// A whole request on a new connection; the status and the response.
async fn request(addr: std::net::SocketAddr, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let text = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(text.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

/// Waits until a status line arrives on a trickling stream.
async fn status_of(stream: &mut TcpStream) -> (u16, String) {
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    (text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0), text)
}

#[tokio::test]
async fn a_token_holding_its_uploads_open_gets_no_more_and_others_go_on() {
    let access: Arc<dyn AccessState> = Arc::new(SqliteAccessState::in_memory().await.unwrap());
    let (mallory, alice) = (token(access.as_ref(), "mallory").await, token(access.as_ref(), "alice").await);
    let config = TokenLimitConfig { requests_per_minute: 6000, burst: 100, concurrent_uploads: 2 };
    let addr = start(access, config).await;

    let first = trickle(addr, &mallory, 1000).await;
    let _second = trickle(addr, &mallory, 1000).await;
    // The two are counted once the server has read their headers: poll.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (status, text) = loop {
        let mut third = trickle(addr, &mallory, 1000).await;
        let answer = status_of(&mut third).await;
        if answer.0 == 429 || Instant::now() > deadline {
            break answer;
        }
    };
    assert_eq!(status, 429, "{text}");
    assert!(text.to_lowercase().contains("retry-after: 5"), "{text}");
    assert!(text.contains("too_many_uploads") && text.contains("wait for one to finish"), "{text}");

    assert_eq!(request(addr, "PATCH", "/v1/uploads/x", &alice, "data").await.0, 200, "another token uploads");
    assert_eq!(request(addr, "GET", "/v1/other", &mallory, "").await.0, 200, "reads are not uploads");
    let (status, _) = request(addr, "PATCH", "/v1/uploads/x", "exh_000000000000_forged", "data").await;
    assert_eq!(status, 200, "no valid token: not counted here (the route itself answers 401 in serve)");

    // Mallory hangs up one upload: its slot frees.
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, text) = request(addr, "PATCH", "/v1/uploads/x", &mallory, "data").await;
        if status == 200 {
            assert!(text.ends_with("got 4"), "{text}");
            break;
        }
        assert_eq!(status, 429);
        assert!(Instant::now() < deadline, "the slot was never freed");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_flood_from_one_token_is_cut_at_its_burst_with_retry_after() {
    let access: Arc<dyn AccessState> = Arc::new(SqliteAccessState::in_memory().await.unwrap());
    let (mallory, alice) = (token(access.as_ref(), "mallory").await, token(access.as_ref(), "alice").await);
    let config = TokenLimitConfig { requests_per_minute: 2, burst: 5, concurrent_uploads: 2 };
    let addr = start(access, config).await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(request(addr, "GET", "/v1/other", &mallory, "").await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5, "{statuses:?}");
    let (status, text) = request(addr, "GET", "/v1/other", &mallory, "").await;
    assert_eq!(status, 429);
    let retry: u64 = text
        .lines()
        .find_map(|l| l.to_lowercase().strip_prefix("retry-after: ").map(str::to_owned))
        .expect("Retry-After")
        .trim()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "30 s at 2 a minute: {retry}");
    assert_eq!(request(addr, "GET", "/v1/other", &alice, "").await.0, 200, "alice's bucket is her own");
}
