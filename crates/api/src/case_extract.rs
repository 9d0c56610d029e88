//! Extractors for the case a request under `/v1/cases/{case}` is about:
//! the caller, the `{case}` path segment, and what the access state says
//! of the two. Every handler of a case takes one of them, so every one
//! refuses the same way: a case the caller's organisation neither owns nor
//! was shared is 404, exactly as a case that does not exist; a write to a
//! case that is only shared is that 404 too; a role that may not write to
//! its own organisation's case is 403.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use exhibit_app::access::CaseAccess;
use exhibit_core::ids::CaseId;

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::{ApiPath, Caller};

/// A case the caller may read: owned by or shared with its organisation.
#[derive(Debug)]
pub struct ReadableCase {
    /// Who asks.
    pub caller: Caller,
    /// The case, as its owner spelled it.
    pub case: CaseId,
    /// How the caller's organisation reaches it.
    pub access: CaseAccess,
}

/// A case the caller's organisation owns; a shared or unknown one is 404.
#[derive(Debug)]
pub struct OwnedCase {
    /// Who asks.
    pub caller: Caller,
    /// The case, as its owner spelled it.
    pub case: CaseId,
}

/// A case the caller may submit evidence to: owned by the caller's
/// organisation (else 404) and the caller's role submits (else 403).
#[derive(Debug)]
pub struct WritableCase {
    /// Who asks.
    pub caller: Caller,
    /// The case, as its owner spelled it.
    pub case: CaseId,
}

impl ReadableCase {
    /// The case `typed` names, if `caller` may read it.
    pub async fn of(state: &ApiState, caller: Caller, typed: &str) -> Result<Self, ApiError> {
        let case: CaseId = typed.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(e.to_string()))?;
        let (case, access) =
            state.access.case_access(&case, caller.0.user.org.id).await?.ok_or_else(ApiError::not_found)?;
        Ok(Self { caller, case, access })
    }
}

impl OwnedCase {
    /// The case `typed` names, if `caller`'s organisation owns it.
    pub async fn of(state: &ApiState, caller: Caller, typed: &str) -> Result<Self, ApiError> {
        match ReadableCase::of(state, caller, typed).await? {
            ReadableCase { caller, case, access: CaseAccess::Owner } => Ok(Self { caller, case }),
            ReadableCase { access: CaseAccess::Shared, .. } => Err(ApiError::not_found()),
        }
    }
}

impl WritableCase {
    /// The case `typed` names, if `caller` may submit evidence to it.
    pub async fn of(state: &ApiState, caller: Caller, typed: &str) -> Result<Self, ApiError> {
        let OwnedCase { caller, case } = OwnedCase::of(state, caller, typed).await?;
        let role = &caller.0.user.role;
        if !role.may_submit() {
            return Err(ApiError::forbidden(format!("a {role} may not submit evidence")));
        }
        Ok(Self { caller, case })
    }
}

/// The `{case}` segment of the route, percent-decoded.
async fn case_segment(parts: &mut Parts, state: &Arc<ApiState>) -> Result<String, ApiError> {
    let ApiPath(mut segments) = ApiPath::<HashMap<String, String>>::from_request_parts(parts, state).await?;
    segments.remove("case").ok_or_else(|| ApiError::internal("the route has no {case} segment", &parts.uri.path()))
}

/// The extractor of each level: the caller (401 first), then the `{case}`
/// segment, then [`ReadableCase::of`] and the like. A handler that must
/// refuse its body or another path ID before the case is looked up (as
/// 400 whatever exists) takes the caller and calls `of` itself.
macro_rules! case_extractor {
    ($level:ty) => {
        impl FromRequestParts<Arc<ApiState>> for $level {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                let typed = case_segment(parts, state).await?;
                Self::of(state, caller, &typed).await
            }
        }
    };
}

case_extractor!(ReadableCase);
case_extractor!(OwnedCase);
case_extractor!(WritableCase);
