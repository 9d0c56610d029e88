//! A dashboard on 127.0.0.1:0 with the stub hooks and a settable clock,
//! and a raw HTTP/1.1 client that keeps the session cookie.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exhibit_dashboard::{Dashboard, DashboardConfig};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::stub::{StubAuth, fixture};

pub const BASE: &str = "/dashboard";

pub struct TestServer {
    pub addr: SocketAddr,
    pub dashboard: Arc<Dashboard>,
    pub auth: Arc<StubAuth>,
    pub now: Arc<Mutex<OffsetDateTime>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(edit: impl FnOnce(&mut DashboardConfig)) -> Self {
        let mut config = DashboardConfig::default();
        edit(&mut config);
        let base = config.base_path.clone();
        let now = Arc::new(Mutex::new(OffsetDateTime::now_utc()));
        let clock_now = Arc::clone(&now);
        let auth = Arc::new(StubAuth::default());
        let dashboard = Dashboard::with_clock(
            config,
            auth.clone(),
            Arc::new(fixture()),
            Arc::new(move || *clock_now.lock().unwrap()),
        )
        .unwrap();
        let dashboard = Arc::new(dashboard);
        let app = axum::Router::new().nest(&base, exhibit_dashboard::router(Arc::clone(&dashboard)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
        });
        Self { addr, dashboard, auth, now, task }
    }

    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap() += by;
    }

    /// A client with no cookie.
    pub fn client(&self) -> Client {
        Client { addr: self.addr, cookie: None }
    }

    /// A client signed in as `user` (password `USER-pass`).
    pub async fn signed_in(&self, user: &str) -> Client {
        let mut client = self.client();
        let resp = client.login(user, &format!("{user}-pass")).await;
        assert_eq!(resp.status, 303, "{}", resp.text());
        client
    }
}

pub struct Client {
    pub addr: SocketAddr,
    /// `name=value` of the session cookie, as last set.
    pub cookie: Option<String>,
}

impl Client {
    pub async fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, &[], b"").await
    }

    /// POSTs a URL-encoded form.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.request("POST", path, &[("content-type", "application/x-www-form-urlencoded")], body.as_bytes()).await
    }

    /// Sends a request with the session cookie; keeps any new one.
    pub async fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(cookie) = &self.cookie {
            all.push(("cookie", cookie));
        }
        let resp = send(self.addr, method, path, &all, body).await;
        if let Some(set) = resp.header("set-cookie") {
            let pair = set.split(';').next().unwrap().to_owned();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        resp
    }

    /// The CSRF token of the form on the page at `path`.
    pub async fn csrf_from(&mut self, path: &str) -> String {
        let resp = self.get(path).await;
        assert_eq!(resp.status, 200, "{}", resp.text());
        csrf_in(&resp.text())
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Resp {
        let csrf = self.csrf_from(&format!("{BASE}/login")).await;
        self.post_form(&format!("{BASE}/login"), &[("csrf_token", &csrf), ("username", user), ("password", password)])
            .await
    }
}

/// The value of the first `csrf_token` field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf_token" value=""#;
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
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

/// One request on a fresh connection, `Content-Length` from the body.
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (e.g. 400 for an oversize form) and close
    // before reading it all.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw, method == "HEAD")
}

fn parse_response(raw: &[u8], head_only: bool) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = if head_only { Vec::new() } else { raw[split + 4..].to_vec() };
    if text.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Resp { status, headers, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
}
