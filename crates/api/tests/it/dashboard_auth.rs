//! The dashboard's authenticator over the access state: a password signs
//! in its user only; wrong, unknown, oversize and hostile names are
//! refused alike; a session ends when its token is revoked or its user's
//! password is set again.

use std::sync::Arc;

use exhibit_api::dashboard::AccessAuthenticator;
use exhibit_app::access::{AccessState, IssuedToken, Role, SqliteAccessState, password};
use exhibit_dashboard::{Authenticator, Credentials, HookError};
use time::OffsetDateTime;

const PASSWORD: &str = "correct horse battery staple";

fn with_password(username: &str, password: &str) -> Credentials {
    Credentials::Password { username: username.into(), password: password.into() }
}

#[tokio::test]
async fn passwords_and_tokens_sign_in_and_stop_working_when_changed_or_revoked() {
    let access: Arc<dyn AccessState> = Arc::new(SqliteAccessState::in_memory().await.unwrap());
    let force = access.add_org("Force A").await.unwrap();
    let alice = access.user(&force, "alice", Role::Reviewer).await.unwrap();
    let first = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    access.set_password(&alice, &password::hash(PASSWORD).unwrap(), first).await.unwrap();
    let auth = AccessAuthenticator::new(access.clone());

    let principal = auth.authenticate(&with_password("Alice", PASSWORD)).await.unwrap();
    assert_eq!(
        (principal.org.as_str(), principal.user.as_str(), principal.role.as_str()),
        ("Force A", "alice", "reviewer")
    );
    assert!(auth.still_valid(&principal).await.unwrap());
    for (name, guess) in [
        ("alice", "correct horse battery stapl"),
        ("nobody", PASSWORD),
        ("alice' OR '1'='1", PASSWORD),
        ("alice", &"x".repeat(100_000)),
        ("", ""),
    ] {
        let refused = auth.authenticate(&with_password(name, guess)).await;
        assert!(matches!(refused, Err(HookError::Refused(_))), "{name:?}: {refused:?}");
    }
    let mut forged = principal.clone();
    forged.credential = "password:1".into();
    assert!(!auth.still_valid(&forged).await.unwrap(), "a made-up credential");
    forged.credential = "admin".into();
    assert!(!auth.still_valid(&forged).await.unwrap());

    let later = first + time::Duration::hours(1);
    access.set_password(&alice, &password::hash("a brand new passphrase").unwrap(), later).await.unwrap();
    assert!(!auth.still_valid(&principal).await.unwrap(), "a new password ends the old sessions");

    let issued = IssuedToken::generate();
    access.add_token(&alice, &issued, None).await.unwrap();
    let by_token = auth.authenticate(&Credentials::Token(issued.text.clone())).await.unwrap();
    assert!(auth.still_valid(&by_token).await.unwrap());
    access.revoke_token(&issued.id, OffsetDateTime::now_utc()).await.unwrap();
    assert!(!auth.still_valid(&by_token).await.unwrap(), "revoking the token ends its session");
    let refused = auth.authenticate(&Credentials::Token(issued.text)).await;
    let said = "the token was revoked; ask your administrator for a new one";
    assert!(matches!(&refused, Err(HookError::Refused(text)) if text == said), "the API's words: {refused:?}");
}
