//! Every form needs its session's CSRF token: without it (or with another
//! session's) the answer is 403 with a page that says so, and nothing
//! changes.

use crate::support::{BASE, TestServer, csrf_in};

async fn assert_refused_page(resp: &crate::support::Resp) {
    assert_eq!(resp.status, 403, "{}", resp.text());
    let html = resp.text();
    assert!(html.contains("Your form could not be sent"), "{html}");
    assert!(html.contains("nothing was changed"));
    assert!(resp.header("set-cookie").is_none());
}

#[tokio::test]
async fn sign_in_without_the_token_is_refused_and_signs_nobody_in() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let login = format!("{BASE}/login");
    client.get(&login).await;
    let long = "a".repeat(64);
    for csrf in [None, Some(""), Some("0000"), Some(long.as_str())] {
        let mut fields = vec![("username", "alice"), ("password", "alice-pass")];
        if let Some(csrf) = csrf {
            fields.push(("csrf_token", csrf));
        }
        let resp = client.post_form(&login, &fields).await;
        assert_refused_page(&resp).await;
    }
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 303, "not signed in");
}

#[tokio::test]
async fn another_sessions_token_is_refused() {
    let server = TestServer::start().await;
    let mut attacker = server.client();
    let their_token = attacker.csrf_from(&format!("{BASE}/login")).await;
    let mut victim = server.client();
    victim.get(&format!("{BASE}/login")).await;
    let resp = victim
        .post_form(
            &format!("{BASE}/login"),
            &[("csrf_token", &their_token), ("username", "alice"), ("password", "alice-pass")],
        )
        .await;
    assert_refused_page(&resp).await;
}

#[tokio::test]
async fn a_form_without_any_session_is_refused() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let resp = client
        .post_form(&format!("{BASE}/login"), &[("csrf_token", "x"), ("username", "alice"), ("password", "alice-pass")])
        .await;
    assert_refused_page(&resp).await;
    assert!(server.dashboard.sessions().is_empty());
}

#[tokio::test]
async fn sign_out_without_the_token_is_refused_and_the_session_lives() {
    let server = TestServer::start().await;
    let mut client = server.signed_in("alice").await;
    let login_token = {
        let mut other = server.client();
        other.csrf_from(&format!("{BASE}/login")).await
    };
    for fields in [vec![], vec![("csrf_token", login_token.as_str())]] {
        let resp = client.post_form(&format!("{BASE}/logout"), &fields).await;
        assert_refused_page(&resp).await;
    }
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 200, "still signed in");
}

#[tokio::test]
async fn the_token_changes_at_sign_in() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let before = client.csrf_from(&format!("{BASE}/login")).await;
    client.login("alice", "alice-pass").await;
    let after = csrf_in(&client.get(&format!("{BASE}/cases")).await.text());
    assert_ne!(before, after);
    let resp = client.post_form(&format!("{BASE}/logout"), &[("csrf_token", &before)]).await;
    assert_eq!(resp.status, 403, "the login form's token does not sign out");
}

#[tokio::test]
async fn unreadable_forms_are_refused_with_a_clear_page() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let login = format!("{BASE}/login");
    let csrf = client.csrf_from(&login).await;
    let repeated = format!("csrf_token={csrf}&csrf_token={csrf}&username=alice&password=alice-pass");
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let resp = client.request("POST", &login, &form, repeated.as_bytes()).await;
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("sent more than once"));

    let huge = format!("csrf_token={csrf}&username={}", "a".repeat(64 * 1024));
    let resp = client.request("POST", &login, &form, huge.as_bytes()).await;
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("over 16384 bytes"));

    let json = format!(r#"{{"csrf_token":"{csrf}","username":"alice","password":"alice-pass"}}"#);
    let resp = client.request("POST", &login, &[("content-type", "application/json")], json.as_bytes()).await;
    assert_eq!(resp.status, 400);
    assert!(resp.text().contains("application/x-www-form-urlencoded"));
    assert_eq!(client.get(&format!("{BASE}/cases")).await.status, 303, "nobody signed in");
}
