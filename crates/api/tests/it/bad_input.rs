//! Hostile and broken requests: each gets a clear JSON error and changes
//! nothing (no case claimed, no file in the store, no ledger entry).

use exhibit_app::access::{IssuedToken, Role};
use serde_json::json;

use crate::common::{Reply, Server, files_under, get, post_json, request, seg};

const CASE: &str = "42AB1234520";

/// What a refused request must leave as it was.
async fn snapshot(server: &Server, token: &str) -> (Vec<String>, serde_json::Value) {
    (files_under(&server.dir.path().join("store")), get(server, "/v1/cases", token).await.json())
}

fn clear(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["kind"], kind, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
    assert_eq!(reply.header("content-type"), Some("application/json"));
}

async fn post_raw(server: &Server, token: &str, content_type: &str, body: &[u8]) -> Reply {
    request("POST", &server.url("/v1/cases"), Some(token), &[("Content-Type", content_type)], Some(body.to_vec())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_mistyped_and_oversize_bodies_are_refused_and_change_nothing() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    server.ingest(CASE, 1).await;
    let before = snapshot(&server, &token).await;

    clear(&post_raw(&server, &token, "application/json", b"{\"case\": ").await, 400, "malformed_json");
    clear(&post_raw(&server, &token, "application/json", b"[1,2]").await, 400, "malformed_json");
    clear(&post_raw(&server, &token, "application/json", b"{\"case\": 12}").await, 400, "malformed_json");
    clear(
        &post_raw(&server, &token, "application/json", b"{\"case\": \"X1\", \"owner\": \"B\"}").await,
        400,
        "malformed_json",
    );
    clear(&post_raw(&server, &token, "text/plain", b"{\"case\": \"X2\"}").await, 415, "unsupported_media_type");
    let huge = serde_json::to_vec(&json!({"case": "X3", "pad": "x".repeat(200_000)})).unwrap();
    clear(&post_raw(&server, &token, "application/json", &huge).await, 413, "too_large");
    // Path traversal and other IDs that are no case ID, in a body and in a path.
    for bad in ["../../etc", "..", "/abs", "a\\b", "x/../y", "case\u{0}nul", "%2e%2e", "", &"9".repeat(65)] {
        clear(&post_json(&server, "/v1/cases", &token, json!({"case": bad})).await, 400, "invalid");
    }
    for bad in ["..%2F..%2Fetc", "%2E%2E", "a%5Cb", "x%2F..%2Fy", "%00"] {
        clear(&get(&server, &format!("/v1/cases/{bad}"), &token).await, 400, "invalid");
        clear(&get(&server, &format!("/v1/cases/{bad}/artefacts"), &token).await, 400, "invalid");
    }
    // Path traversal as an artefact ID ("exhibit ref" of the download path).
    for bad in ["..%2F..%2Fledger%2F00000000000000000001.json", "..", "ABCDEF", "0123456789abcdef0123456789abcdeF"] {
        let path = format!("/v1/cases/{}/artefacts/{bad}/content", seg(CASE));
        clear(&get(&server, &path, &token).await, 400, "invalid");
    }
    assert_eq!(server.accessed(CASE).await.len(), 0);
    assert_eq!(snapshot(&server, &token).await, before, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_malformed_expired_and_revoked_tokens_are_401() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Admin).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    let before = snapshot(&server, &token).await;

    let org = server.access.org("Force A").await.unwrap().unwrap();
    let user = server.access.user(&org, "alice", Role::Admin).await.unwrap();
    let expired = IssuedToken::generate();
    let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    server.access.add_token(&user, &expired, Some(past)).await.unwrap();
    let revoked = IssuedToken::generate();
    server.access.add_token(&user, &revoked, None).await.unwrap();
    assert_eq!(get(&server, "/v1/cases", &revoked.text).await.status, 200, "works until revoked");
    server.access.revoke_token(&revoked.id, time::OffsetDateTime::now_utc()).await.unwrap();

    let paths = ["/v1/cases", "/openapi.json", &format!("/v1/cases/{CASE}"), &format!("/v1/cases/{CASE}/artefacts")];
    for path in paths {
        let none = request("GET", &server.url(path), None, &[], None).await;
        clear(&none, 401, "unauthenticated");
        assert_eq!(none.header("www-authenticate"), Some("Bearer"));
        let basic = request("GET", &server.url(path), None, &[("Authorization", "Basic YWxpY2U6cHc=")], None).await;
        clear(&basic, 401, "unauthenticated");
        clear(&get(&server, path, "exh_not_a_token").await, 401, "unauthenticated");
        clear(&get(&server, path, &IssuedToken::generate().text).await, 401, "unauthenticated");
        clear(&get(&server, path, &expired.text).await, 401, "token_expired");
        clear(&get(&server, path, &revoked.text).await, 401, "token_revoked");
    }
    for bad in [&expired.text, &revoked.text] {
        clear(&post_json(&server, "/v1/cases", bad, json!({"case": "NEW1"})).await, 401, bad_kind(bad, &expired.text));
    }
    assert_eq!(snapshot(&server, &token).await, before, "nothing changed");
}

fn bad_kind(token: &str, expired: &str) -> &'static str {
    if token == expired { "token_expired" } else { "token_revoked" }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_that_may_not_write_get_403_on_their_own_organisations_cases() {
    let server = Server::start().await;
    let reviewer = server.token("Force A", "rita", Role::Reviewer).await;
    let auditor = server.token("Force A", "aud", Role::Auditor).await;
    for token in [&reviewer, &auditor] {
        clear(&post_json(&server, "/v1/cases", token, json!({"case": CASE})).await, 403, "forbidden");
    }
    assert_eq!(get(&server, "/v1/cases", &reviewer).await.json(), json!({"cases": []}));
    let unknown = request("GET", &server.url("/v2/nothing"), Some(&reviewer), &[], None).await;
    clear(&unknown, 404, "not_found");
}

/// A client that sends half a request's head and then nothing has its
/// connection closed after the header read timeout; one that talks is
/// served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_moves_no_byte_is_closed() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = exhibit_api::router(server.state.clone());
    let idle = std::time::Duration::from_secs(1);
    tokio::spawn(exhibit_api::serve_app_timed(listener, None, app, std::future::pending(), idle));
    let stalls = [
        "GET /v1/cases HTTP/1.1\r\nHost: x\r\nAuthor".to_owned(),
        "POST /v1/cases HTTP/1.1\r\nHost: x\r\nContent-Le".to_owned(),
    ];
    for stall in stalls {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(stall.as_bytes()).await.unwrap();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(std::time::Duration::from_secs(60), stream.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "still open after 60 s: {stall:?}");
    }
    // A client that talks is answered as usual.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let ask =
        format!("GET /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(ask.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

/// A connection that never sends a byte is closed after the header
/// timeout too (hyper's timer starts at the first byte), and one client
/// cannot hold more than [`exhibit_api::connections::MAX_CONNECTIONS_PER_CLIENT`]
/// connections: the ones over it are closed at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_and_one_client_holds_a_bounded_number() {
    use tokio::io::AsyncReadExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let idle = std::time::Duration::from_secs(1);
    tokio::spawn(exhibit_api::serve_app_timed(listener, None, app, std::future::pending(), idle));
    let mut silent = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(60), silent.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a connection that sent nothing was still open after 60 s");

    // The cap, on a server whose header timeout outlasts the test.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    tokio::spawn(exhibit_api::serve_app(listener, None, app, std::future::pending()));
    let cap = exhibit_api::connections::MAX_CONNECTIONS_PER_CLIENT;
    let mut held = Vec::new();
    for _ in 0..cap {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut over = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut rest = Vec::new();
    let refused = tokio::time::timeout(std::time::Duration::from_secs(20), over.read_to_end(&mut rest)).await;
    assert!(refused.is_ok(), "connection {} of one client was kept open", cap + 1);
}

/// Plain HTTP is HTTP/1.1 only: an HTTP/2 prior-knowledge preface (h2c) is
/// not served, since the header timeout is HTTP/1's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_preface_is_not_served() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    tokio::spawn(exhibit_api::serve_app(listener, None, app, std::future::pending()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    // An HTTP/2 server answers the preface with a SETTINGS frame (type 4
    // at byte 3); HTTP/1 answers 400 or closes.
    assert!(answer.len() < 9 || answer[3] != 4 || answer.starts_with(b"HTTP/1.1"), "{answer:?}");
}

/// The header timeout limits the head, not the time spent answering: a
/// request whose answer takes longer (an upload's ingest) is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answered_after_longer_than_the_idle_limit_is_still_answered() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Stands for a handler busy for three header timeouts (an ingest).
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::post(|body: String| async move {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            body
        }),
    );
    let idle = std::time::Duration::from_secs(1);
    tokio::spawn(exhibit_api::serve_app_timed(listener, None, slow, std::future::pending(), idle));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        .await
        .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200") && text.ends_with("hello"), "{text}");
}

/// A JSON body sent slower than its `Content-Length` promised is timed:
/// after the configured limit the answer is 408 (it held the request and
/// its connection for ever), and a body sent in time is answered as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_body_that_stalls_mid_way_is_answered_408() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = tempfile::tempdir().unwrap();
    let access: std::sync::Arc<dyn exhibit_app::access::AccessState> = std::sync::Arc::new(
        exhibit_app::access::SqliteAccessState::open(&dir.path().join("access.sqlite")).await.unwrap(),
    );
    let options = exhibit_api::ApiOptions {
        body_timeout: std::time::Duration::from_secs(1),
        ..exhibit_api::ApiOptions::default()
    };
    let server = Server::start_with(dir, access, options).await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
    );
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(format!("{head}{{\"case\": \"2024/1").as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), stream.read(&mut answer)).await;
    let n = read.expect("no answer within 60 s").unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request_timeout"), "{text}");
    assert!(server.access.all_cases().await.unwrap().is_empty(), "nothing created");
    let body = r#"{"case": "2024/1/POL"}"#;
    let whole = head.replace("Content-Length: 40", &format!("Content-Length: {}", body.len()));
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(format!("{whole}{body}").as_bytes()).await.unwrap();
    let n = stream.read(&mut answer).await.unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 201"));
    // A submission's manifest is timed alike.
    let manifest = format!(
        "POST /v1/cases/2024%2F1%2FPOL/submissions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nexhibit,sha256\n"
    );
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(manifest.as_bytes()).await.unwrap();
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), stream.read(&mut answer)).await;
    let n = read.expect("no answer within 60 s").unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
}

/// Upload and submission IDs outside their pattern are 400 with the JSON
/// error, as artefact IDs are, whatever case they name (one that exists,
/// one that does not): they were the 404 of an ID not found. A well-formed
/// ID that is not there stays 404, and no token is still 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_and_submission_ids_outside_their_pattern_are_400() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    let hex = "0123456789abcdef0123456789abcdef";
    let bad = [
        "..",
        "ABCDEF",
        "0123456789abcdef0123456789abcdeF",
        "put-",
        "put-..",
        "PUT-0123456789abcdef0123456789abcdef",
        "x%2F..%2Fy",
        "%00",
        &format!("{hex}0"),
    ];
    for case in [CASE, "NOSUCHCASE"] {
        for id in bad {
            for route in ["uploads", "submissions"] {
                let path = format!("/v1/cases/{}/{route}/{id}", seg(case));
                clear(&get(&server, &path, &token).await, 400, "invalid");
            }
        }
        let put = format!("/v1/cases/{}/submissions/put-{hex}", seg(case));
        clear(&get(&server, &put, &token).await, 400, "invalid");
    }
    for (route, id) in [("uploads", hex.to_owned()), ("uploads", format!("put-{hex}")), ("submissions", hex.to_owned())]
    {
        let path = format!("/v1/cases/{}/{route}/{id}", seg(CASE));
        clear(&get(&server, &path, &token).await, 404, "not_found");
    }
    let anonymous = request("GET", &server.url(&format!("/v1/cases/{}/uploads/..", seg(CASE))), None, &[], None).await;
    clear(&anonymous, 401, "unauthenticated");
}
