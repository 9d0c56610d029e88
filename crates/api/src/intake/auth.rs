//! tus's [`UploadAuthorizer`] over the access state: the bearer token names
//! a user; a submitter or admin of the organisation that owns the case may
//! upload to it, and another role of that organisation is refused (403), as
//! on PUT and submissions. A case only shared with the caller's
//! organisation, another organisation's case and a case no one has are all
//! "no" (404). Behind the token limits' middleware, the [`Caller`] it
//! found is used, so a request looks its token up once.

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{Extensions, HeaderMap, StatusCode};
use exhibit_app::access::{AccessState, User, names};
use exhibit_core::CaseId;
use exhibit_tus::{AuthRefusal, Principal, UploadAuthorizer};

use crate::extract::{Caller, caller_of};

/// Authorises uploads against the access state.
#[derive(Debug)]
pub struct AccessAuthorizer {
    /// Organisations, tokens, ownership.
    pub access: Arc<dyn AccessState>,
}

/// The principal tus keeps for a user: the organisation's and the user's
/// row IDs, so the hooks find them again after a restart.
pub fn principal_of(user: &User) -> Principal {
    Principal { org: user.org.id.0.to_string(), id: user.id.to_string() }
}

/// The user a principal stands for.
pub async fn user_of(access: &dyn AccessState, principal: &Principal) -> Result<Option<User>, String> {
    let Ok(id) = principal.id.parse::<i64>() else { return Ok(None) };
    let user = access.user_by_id(id).await.map_err(|e| e.to_string())?;
    Ok(user.filter(|u| u.org.id.0.to_string() == principal.org))
}

#[async_trait]
impl UploadAuthorizer for AccessAuthorizer {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthRefusal> {
        match caller_of(self.access.as_ref(), headers).await {
            Ok(record) => Ok(principal_of(&record.user)),
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
                Err(AuthRefusal::TokenRefused { kind: e.kind(), reason: e.message().to_owned() })
            }
            Err(e) => Err(AuthRefusal::Failed(e.message().to_owned())),
        }
    }

    async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Principal, AuthRefusal> {
        // The token limits' middleware authenticated it already.
        if let Some(caller) = extensions.get::<Caller>() {
            return Ok(principal_of(&caller.0.user));
        }
        self.authenticate(headers).await
    }

    /// `case` is the `case` metadata: a name in the uploader's
    /// organisation's namespace, which only its own cases answer to.
    async fn may_upload(&self, principal: &Principal, case: &CaseId) -> Result<bool, AuthRefusal> {
        let Some(user) = user_of(self.access.as_ref(), principal).await.map_err(AuthRefusal::Failed)? else {
            return Ok(false);
        };
        let own = names::own_case(self.access.as_ref(), case, user.org.id)
            .await
            .map_err(|e| AuthRefusal::Failed(e.to_string()))?;
        match own {
            Some(_) if user.role.may_submit() => Ok(true),
            Some(_) => Err(AuthRefusal::Forbidden(format!("a {} may not submit evidence", user.role))),
            None => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use exhibit_app::access::{IssuedToken, Role, SqliteAccessState, authenticate};

    use super::*;

    #[tokio::test]
    async fn a_caller_the_middleware_found_is_used_without_a_second_lookup() {
        let access = Arc::new(SqliteAccessState::in_memory().await.unwrap());
        let org = access.add_org("Force A").await.unwrap();
        let user = access.user(&org, "alice", Role::Submitter).await.unwrap();
        let issued = IssuedToken::generate();
        access.add_token(&user, &issued, None).await.unwrap();
        let now = time::OffsetDateTime::now_utc();
        let record = authenticate(access.as_ref(), &issued.text, now).await.unwrap().unwrap();
        let authorizer = AccessAuthorizer { access };

        // No Authorization header: only the extension can name the caller.
        let mut extensions = Extensions::new();
        extensions.insert(Caller(record));
        let principal = authorizer.authenticate_request(&HeaderMap::new(), &extensions).await.unwrap();
        assert_eq!(principal, principal_of(&user));
        let refused = authorizer.authenticate_request(&HeaderMap::new(), &Extensions::new()).await;
        assert!(matches!(refused, Err(AuthRefusal::TokenRefused { kind: "unauthenticated", .. })), "{refused:?}");
    }
}
