//! The dashboard's case page typed by hand: a name two organisations'
//! shared cases carry, without `?owner=`, is a page that says the name is
//! ambiguous and links each case with its owner (it was the not-found
//! page, where the API answers 409). Through the real login form and
//! session cookie, over HTTP.

use exhibit_app::access::Role;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{Server, post_json, seg};

const CASE: &str = "2024/00888/POL";

/// One HTTP/1.1 exchange on its own connection: status, headers, body.
async fn exchange(addr: &str, head: &str, body: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("{head}Host: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (headers, body) = answer.split_once("\r\n\r\n").unwrap();
    let status = headers[9..12].parse().unwrap();
    (status, headers.to_owned(), body.to_owned())
}

/// The `exhibit_session=...` pair of a `Set-Cookie`.
fn session_cookie(headers: &str) -> String {
    let line = headers.lines().find(|l| l.to_ascii_lowercase().starts_with("set-cookie: exhibit_session=")).unwrap();
    line["set-cookie: ".len()..].split(';').next().unwrap().to_owned()
}

/// Signs in with an API token through the login form; the session cookie.
async fn sign_in(addr: &str, token: &str) -> String {
    let (status, headers, body) = exchange(addr, "GET /dashboard/login HTTP/1.1\r\n", "").await;
    assert_eq!(status, 200, "{body}");
    let cookie = session_cookie(&headers);
    let csrf = body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let form = format!("csrf_token={csrf}&token={token}");
    let head = format!(
        "POST /dashboard/login HTTP/1.1\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    );
    let (status, headers, body) = exchange(addr, &head, &form).await;
    assert_eq!(status, 303, "{body}");
    session_cookie(&headers)
}

async fn page(addr: &str, cookie: &str, path: &str) -> (u16, String) {
    let (status, _, body) = exchange(addr, &format!("GET {path} HTTP/1.1\r\nCookie: {cookie}\r\n"), "").await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_typed_name_two_shared_cases_carry_asks_which_linking_each_owner() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Admin).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let dave = server.token("Defence", "dave", Role::Reviewer).await;
    let c = seg(CASE);
    for token in [&alice, &bob] {
        assert_eq!(post_json(&server, "/v1/cases", token, json!({"case": CASE})).await.status, 201);
        let shared = post_json(&server, &format!("/v1/cases/{c}/shares"), token, json!({"org": "Defence"})).await;
        assert_eq!(shared.status, 201, "{shared:?}");
    }
    // Force C's case of that name is not shared with Defence: never listed.
    let carol = server.token("Force C", "carol", Role::Admin).await;
    assert_eq!(post_json(&server, "/v1/cases", &carol, json!({"case": CASE})).await.status, 201);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = exhibit_api::dashboard::router(&server.state, exhibit_dashboard::DashboardConfig::default()).unwrap();
    tokio::spawn(exhibit_api::serve_app(listener, None, app, std::future::pending()));

    let cookie = sign_in(&addr, &dave).await;
    let (status, html) = page(&addr, &cookie, &format!("/dashboard/cases/{c}")).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("Which case 2024/00888/POL?"), "{html}");
    assert!(html.contains(&format!("href=\"/dashboard/cases/{c}?owner=Force+A\"")), "{html}");
    assert!(html.contains(&format!("href=\"/dashboard/cases/{c}?owner=Force+B\"")), "{html}");
    assert!(!html.contains("Force C"), "a case not shared with Defence is not named: {html}");
    // Each link resolves.
    for owner in ["Force+A", "Force+B"] {
        let (status, html) = page(&addr, &cookie, &format!("/dashboard/cases/{c}?owner={owner}")).await;
        assert_eq!(status, 200, "{owner}: {html}");
    }
    // A name nobody shared with Defence, and an owner that has none, stay
    // not found.
    let (status, _) = page(&addr, &cookie, "/dashboard/cases/NOSUCH").await;
    assert_eq!(status, 404);
    let (status, _) = page(&addr, &cookie, &format!("/dashboard/cases/{c}?owner=Force+C")).await;
    assert_eq!(status, 404);
    // An organisation that owns a case of the name gets its own.
    let cookie = sign_in(&addr, &bob).await;
    let (status, html) = page(&addr, &cookie, &format!("/dashboard/cases/{c}")).await;
    assert_eq!(status, 200, "{html}");
}
