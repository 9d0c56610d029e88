//! The dashboard's [`Authenticator`] over the access state: a user name
//! and password (Argon2id, checked off the async threads, a few at a time)
//! or an API token. The principal remembers which credential it used, so
//! revoking the token or changing the password ends the session at the
//! next request.

use std::sync::Arc;

use async_trait::async_trait;
use exhibit_app::access::{AccessState, User, authenticate, password};
use exhibit_dashboard::{Authenticator, Credentials, HookError, Principal};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

/// Password checks at once: each takes ~19 MiB and a core for tens of ms.
const CONCURRENT_CHECKS: usize = 4;

const TOKEN: &str = "token:";
const PASSWORD: &str = "password:";

/// Signs users in against the access state.
#[derive(Debug)]
pub struct AccessAuthenticator {
    access: Arc<dyn AccessState>,
    checks: Semaphore,
}

impl AccessAuthenticator {
    /// An authenticator over `access`.
    pub fn new(access: Arc<dyn AccessState>) -> Self {
        Self { access, checks: Semaphore::new(CONCURRENT_CHECKS) }
    }

    async fn password_matches(&self, phc: String, password: String) -> Result<bool, HookError> {
        let _permit = self.checks.acquire().await.map_err(|e| HookError::Failed(e.to_string()))?;
        tokio::task::spawn_blocking(move || password::matches(&phc, &password))
            .await
            .map_err(|e| HookError::Failed(format!("the password check stopped: {e}")))
    }

    async fn with_password(&self, username: &str, password: &str) -> Result<Principal, HookError> {
        let record = self.access.password(username).await.map_err(failed)?;
        // An unknown name is checked against a decoy, so it takes as long.
        let phc = record.as_ref().map_or_else(|| password::decoy().to_owned(), |r| r.phc.clone());
        let matched = self.password_matches(phc, password.to_owned()).await?;
        match record {
            Some(record) if matched => {
                Ok(principal(&record.user, format!("{PASSWORD}{}", record.set_at.unix_timestamp())))
            }
            _ => Err(HookError::Refused("wrong user name or password".into())),
        }
    }

    async fn with_token(&self, token: &str) -> Result<Principal, HookError> {
        match authenticate(self.access.as_ref(), token.trim(), OffsetDateTime::now_utc()).await.map_err(failed)? {
            Ok(record) => Ok(principal(&record.user, format!("{TOKEN}{}", record.id))),
            Err(refusal) => Err(HookError::Refused(refusal.message().into())),
        }
    }
}

fn failed(e: exhibit_app::AppError) -> HookError {
    HookError::Failed(e.to_string())
}

fn principal(user: &User, credential: String) -> Principal {
    Principal { org: user.org.name.clone(), user: user.name.clone(), role: user.role.to_string(), credential }
}

fn same_user(principal: &Principal, user: &User) -> bool {
    principal.org == user.org.name && principal.user == user.name && principal.role == user.role.as_str()
}

#[async_trait]
impl Authenticator for AccessAuthenticator {
    #[tracing::instrument(name = "dashboard_sign_in", skip_all)]
    async fn authenticate(&self, credentials: &Credentials) -> Result<Principal, HookError> {
        match credentials {
            Credentials::Password { username, password } => self.with_password(username, password).await,
            Credentials::Token(token) => self.with_token(token).await,
        }
    }

    async fn still_valid(&self, principal: &Principal) -> Result<bool, HookError> {
        if let Some(id) = principal.credential.strip_prefix(TOKEN) {
            let Some(record) = self.access.token_by_id(id).await.map_err(failed)? else { return Ok(false) };
            let live = record.revoked_at.is_none() && record.expires_at.is_none_or(|at| at > OffsetDateTime::now_utc());
            return Ok(live && same_user(principal, &record.user));
        }
        if let Some(set_at) = principal.credential.strip_prefix(PASSWORD) {
            let Some(record) = self.access.password(&principal.user).await.map_err(failed)? else { return Ok(false) };
            return Ok(record.set_at.unix_timestamp().to_string() == set_at && same_user(principal, &record.user));
        }
        Ok(false)
    }
}
