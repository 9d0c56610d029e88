//! Signing in and out: the cookie's flags, a new session at sign-in, the
//! error summary, and sessions ended by sign-out, revocation and idleness.

use std::time::Duration;

use crate::support::{BASE, TestServer, csrf_in};

fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect()
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_for_a_new_session() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let form = client.get(&format!("{BASE}/login")).await;
    assert_eq!(form.status, 200);
    let set = form.header("set-cookie").expect("the login form starts a session").to_owned();
    let attributes = cookie_attributes(&set);
    for wanted in ["httponly", "samesite=strict", "path=/dashboard"] {
        assert!(attributes.contains(&wanted.to_owned()), "{wanted} missing from {set}");
    }
    assert!(!attributes.contains(&"secure".to_owned()), "no TLS, so not Secure: {set}");
    let before = client.cookie.clone().unwrap();

    let csrf = csrf_in(&form.text());
    let resp = client
        .post_form(
            &format!("{BASE}/login"),
            &[("csrf_token", &csrf), ("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    assert_eq!(resp.status, 303, "{}", resp.text());
    assert_eq!(resp.header("location"), Some("/dashboard/cases"));
    let after = client.cookie.clone().unwrap();
    assert_ne!(before, after, "signing in starts a new session");
    assert!(cookie_attributes(resp.header("set-cookie").unwrap()).contains(&"httponly".to_owned()));

    let cases = client.get(&format!("{BASE}/cases")).await;
    assert_eq!(cases.status, 200);
    assert!(cases.text().contains("Signed in as alice (submitter, force-a)"));

    // The session from before sign-in is worth nothing now.
    client.cookie = Some(before);
    let resp = client.get(&format!("{BASE}/cases")).await;
    assert_eq!((resp.status, resp.header("location")), (303, Some("/dashboard/login")));
}

#[tokio::test]
async fn with_tls_the_cookie_is_secure() {
    let server = TestServer::start_with(|c| c.tls = true).await;
    let mut client = server.client();
    let form = client.get(&format!("{BASE}/login")).await;
    let set = form.header("set-cookie").unwrap();
    assert!(set.starts_with("__Secure-exhibit_session="), "{set}");
    assert!(cookie_attributes(set).contains(&"secure".to_owned()), "{set}");
    let resp = client.login("bea", "bea-pass").await;
    assert_eq!(resp.status, 303);
    assert!(cookie_attributes(resp.header("set-cookie").unwrap()).contains(&"secure".to_owned()));
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 200);
}

#[tokio::test]
async fn a_wrong_password_shows_the_error_summary_and_signs_nobody_in() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let resp = client.login("alice", "not-her-password").await;
    assert_eq!(resp.status, 401);
    let html = resp.text();
    assert!(html.contains("<title>Error: Sign in"), "GOV.UK titles start with Error: on a form error");
    assert!(html.contains(r#"class="govuk-error-summary""#));
    assert!(html.contains(r##"<a href="#username">Enter a correct user name and password</a>"##), "{html}");
    assert!(html.contains(r#"value="alice""#), "the user name is kept");
    assert!(!html.contains("not-her-password"), "the password is never sent back");
    assert!(resp.header("set-cookie").is_none(), "still the same anonymous session");
    let cases = client.get(&format!("{BASE}/cases")).await;
    assert_eq!(cases.status, 303);
}

#[tokio::test]
async fn an_incomplete_form_names_what_is_missing() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let login = format!("{BASE}/login");
    let csrf = client.csrf_from(&login).await;
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], r##"<a href="#username">Enter your user name and password, or an API token</a>"##),
        (&[("username", "alice")], r##"<a href="#password">Enter your password</a>"##),
        (&[("password", "x")], r##"<a href="#username">Enter your user name</a>"##),
        (&[("username", "alice"), ("token", "token-alice")], r##"<a href="#token">Enter a user name"##),
    ];
    for (fields, expected) in cases {
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        let resp = client.post_form(&login, &all).await;
        assert_eq!(resp.status, 400, "{fields:?}");
        assert!(resp.text().contains(expected), "{fields:?}: {expected} not in the page");
    }
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 303);
}

#[tokio::test]
async fn an_api_token_signs_in_and_a_wrong_one_does_not() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let login = format!("{BASE}/login");
    let csrf = client.csrf_from(&login).await;
    let wrong = client.post_form(&login, &[("csrf_token", &csrf), ("token", "token-alicE")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains(r##"<a href="#token">Enter a correct API token</a>"##));
    let right = client.post_form(&login, &[("csrf_token", &csrf), ("token", " token-dan ")]).await;
    assert_eq!(right.status, 303);
    assert!(client.get(&format!("{BASE}/cases")).await.text().contains("Signed in as dan"));
}

#[tokio::test]
async fn signing_out_ends_the_session_and_clears_the_cookie() {
    let server = TestServer::start().await;
    let mut client = server.signed_in("alice").await;
    let session = client.cookie.clone().unwrap();
    let csrf = client.csrf_from(&format!("{BASE}/cases")).await;
    let resp = client.post_form(&format!("{BASE}/logout"), &[("csrf_token", &csrf)]).await;
    assert_eq!((resp.status, resp.header("location")), (303, Some("/dashboard/login?signed_out=1")));
    let cleared = resp.header("set-cookie").unwrap();
    assert!(cleared.starts_with("exhibit_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert!(client.get(&format!("{BASE}/login?signed_out=1")).await.text().contains("You have signed out"));

    client.cookie = Some(session);
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 303, "the old cookie is dead on the server too");
}

#[tokio::test]
async fn revoking_a_user_ends_their_session_at_the_next_request() {
    let server = TestServer::start().await;
    let mut client = server.signed_in("bea").await;
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 200);
    server.auth.revoke("bea");
    let resp = client.get(&format!("{BASE}/cases")).await;
    assert_eq!((resp.status, resp.header("location")), (303, Some("/dashboard/login")));
    let again = client.login("bea", "bea-pass").await;
    assert_eq!(again.status, 401, "and cannot sign in again");
}

#[tokio::test]
async fn an_idle_session_ends() {
    let server = TestServer::start_with(|c| c.session_idle = Duration::from_secs(600)).await;
    let mut client = server.signed_in("alice").await;
    server.advance(Duration::from_secs(599));
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 200);
    server.advance(Duration::from_secs(600));
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 303);
    assert!(server.dashboard.sessions().is_empty(), "the expired session is gone from the store");
}

#[tokio::test]
async fn pages_need_a_signed_in_session() {
    let server = TestServer::start().await;
    let mut client = server.client();
    for path in ["/cases", "/cases/42AB1234520", ""] {
        let resp = client.get(&format!("{BASE}{path}")).await;
        assert_eq!(resp.status, 303, "{path}");
        assert!(resp.header("location").unwrap().starts_with("/dashboard/"), "{path}");
    }
    // A forged cookie is no session.
    client.cookie = Some(format!("exhibit_session={}", "0".repeat(64)));
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 303);
}
