//! Sign-in throttling as an attacker meets it: guessing one user's
//! password locks that user name out (even the right password is then
//! refused unchecked, 429 with Retry-After and a message saying when to
//! come back), spraying many names from one address locks the address, and
//! both end when the lockout period has passed.

use std::time::Duration;

use crate::support::TestServer;

const BASE: &str = "/dashboard";

#[tokio::test]
async fn guessing_one_password_locks_that_user_name_until_the_lockout_ends() {
    let server = TestServer::start_with(|c| {
        c.login_failures_per_user = 3;
        c.login_lockout = Duration::from_secs(600);
    })
    .await;
    let mut attacker = server.client();
    for guess in ["password1", "letmein", "alice2024"] {
        assert_eq!(attacker.login("alice", guess).await.status, 401, "{guess}");
    }
    let locked = attacker.login("ALICE", "alice-pass").await;
    assert_eq!(locked.status, 429, "the right password, but locked: {}", locked.text());
    let retry: u64 = locked.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((590..=600).contains(&retry), "{retry}");
    let text = locked.text();
    assert!(text.contains("Too many failed sign-in attempts. Try again after") && text.contains("UTC"), "{text}");
    assert!(server.dashboard.sessions().len() <= 1, "nobody signed in");

    let bea = server.client().login("bea", "bea-pass").await;
    assert_eq!(bea.status, 303, "another user still signs in");

    server.advance(Duration::from_secs(601));
    assert_eq!(server.client().login("alice", "alice-pass").await.status, 303, "the lockout ended");
}

#[tokio::test]
async fn spraying_names_from_one_address_locks_the_address() {
    let server = TestServer::start_with(|c| {
        c.login_failures_per_address = 4;
        c.login_lockout = Duration::from_secs(60);
    })
    .await;
    let mut sprayer = server.client();
    for name in ["root", "admin", "alice", "carol"] {
        assert_eq!(sprayer.login(name, "Summer2024!").await.status, 401, "{name}");
    }
    let locked = sprayer.login("bea", "bea-pass").await;
    assert_eq!(locked.status, 429, "{}", locked.text());
    // A token sign-in from the address is refused too.
    let csrf = sprayer.csrf_from(&format!("{BASE}/login")).await;
    let token = sprayer.post_form(&format!("{BASE}/login"), &[("csrf_token", &csrf), ("token", "whatever")]).await;
    assert_eq!(token.status, 429);
    server.advance(Duration::from_secs(61));
    assert_eq!(server.client().login("bea", "bea-pass").await.status, 303);
}
