//! GOV.UK Frontend's files under /assets/, and the headers every response
//! carries.

use crate::support::{BASE, TestServer};

#[tokio::test]
async fn assets_are_served_with_their_types() {
    let server = TestServer::start().await;
    let mut client = server.client();
    for (path, content_type) in [
        ("govuk-frontend.min.css", "text/css; charset=utf-8"),
        ("govuk-frontend.min.js", "text/javascript; charset=utf-8"),
        ("exhibit/init.mjs", "text/javascript; charset=utf-8"),
        ("exhibit/supported.js", "text/javascript; charset=utf-8"),
        ("fonts/bold-b542beb274-v2.woff2", "font/woff2"),
        ("images/favicon.svg", "image/svg+xml"),
    ] {
        let resp = client.get(&format!("{BASE}/assets/{path}")).await;
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.header("content-type"), Some(content_type), "{path}");
        assert!(!resp.body.is_empty());
    }
    let css = client.get(&format!("{BASE}/assets/govuk-frontend.min.css")).await.text();
    assert!(css.contains("url(/dashboard/assets/fonts/bold-b542beb274-v2.woff2)"), "fonts load under the base path");
}

#[tokio::test]
async fn an_unchanged_asset_is_304() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let path = format!("{BASE}/assets/govuk-frontend.min.js");
    let first = client.get(&path).await;
    let etag = first.header("etag").unwrap().to_owned();
    let again = client.request("GET", &path, &[("if-none-match", &etag)], b"").await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn nothing_outside_the_assets_is_served() {
    let server = TestServer::start().await;
    let mut client = server.client();
    for path in ["..%2FCargo.toml", "..%2F..%2Fsrc%2Flib.rs", "%2Fetc%2Fpasswd", "VERSION", "nope.css", "exhibit/"] {
        let resp = client.get(&format!("{BASE}/assets/{path}")).await;
        assert_eq!(resp.status, 404, "{path}");
    }
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let server = TestServer::start().await;
    let mut alice = server.signed_in("alice").await;
    for path in ["/login", "/cases", "/cases/42AB1234520", "/cases/nope", "/assets/govuk-frontend.min.css"] {
        let resp = alice.get(&format!("{BASE}{path}")).await;
        let csp = resp.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"), "{path}: {csp}");
        assert_eq!(resp.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(resp.header("x-frame-options"), Some("DENY"), "{path}");
        if !path.starts_with("/assets") {
            assert_eq!(resp.header("cache-control"), Some("no-store"), "{path}");
            let html = resp.text();
            assert!(!html.contains("<script>"), "{path}: no inline script");
        }
    }
}
