//! tus's [`UploadAuthorizer`] over the access state: the bearer token names
//! a user; a submitter or admin of the organisation that owns the case may
//! upload to it. A case only shared with the caller's organisation, another
//! organisation's case and a case no one has are all "no" (404).

use std::sync::Arc;

use async_trait::async_trait;
use axum::http::HeaderMap;
use exhibit_app::access::{AccessState, CaseAccess, TokenRefusal, User, authenticate};
use exhibit_core::CaseId;
use exhibit_tus::{AuthRefusal, Principal, UploadAuthorizer};

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
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| AuthRefusal::Unauthenticated("send Authorization: Bearer TOKEN".into()))?;
        let now = time::OffsetDateTime::now_utc();
        match authenticate(self.access.as_ref(), token.trim(), now).await {
            Ok(Ok(record)) => Ok(principal_of(&record.user)),
            Ok(Err(TokenRefusal::Unknown)) => Err(AuthRefusal::Unauthenticated("the token is not valid".into())),
            Ok(Err(TokenRefusal::Expired)) => {
                Err(AuthRefusal::Unauthenticated("the token has expired; ask your administrator for a new one".into()))
            }
            Ok(Err(TokenRefusal::Revoked)) => Err(AuthRefusal::Unauthenticated("the token was revoked".into())),
            Err(e) => Err(AuthRefusal::Failed(e.to_string())),
        }
    }

    async fn may_upload(&self, principal: &Principal, case: &CaseId) -> Result<bool, AuthRefusal> {
        let Some(user) = user_of(self.access.as_ref(), principal).await.map_err(AuthRefusal::Failed)? else {
            return Ok(false);
        };
        if !user.role.may_submit() {
            return Ok(false);
        }
        let access =
            self.access.case_access(case, user.org.id).await.map_err(|e| AuthRefusal::Failed(e.to_string()))?;
        Ok(matches!(access, Some((_, CaseAccess::Owner))))
    }
}
