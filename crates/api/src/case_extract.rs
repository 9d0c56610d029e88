//! Extractors for the case a request under `/v1/cases/{case}` is about:
//! the caller, the `{case}` path segment (a name in the caller's
//! organisation's namespace), the optional `owner` query parameter, and
//! what the access state says of them. Every handler of a case takes one
//! of them, so every one refuses the same way: a name the caller's
//! organisation neither owns nor was shared a case of is 404, exactly as a
//! case that does not exist; a write to a case that is only shared is that
//! 404 too; a role that may not write to its own organisation's case is
//! 403; several shared cases of one name, none the caller's own, are 409
//! asking for `?owner=`.
//!
//! Each carries the case's storage ID (`case`, for the store, ledger and
//! read model) and its `name` (for every answer): clients never see the
//! storage ID.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use exhibit_app::access::names::{Resolved, resolve_case};
use exhibit_app::access::{CaseAccess, VisibleCase};
use exhibit_core::ids::CaseId;

use crate::ApiState;
use crate::case_names::CaseNames;
use crate::error::ApiError;
use crate::extract::{ApiPath, Caller};

/// A case as a request names it: the `{case}` segment as typed and the
/// `owner` query parameter, if given.
#[derive(Debug, Clone)]
pub struct CaseRef {
    /// The case's name, as typed.
    pub typed: String,
    /// The organisation whose shared case is meant, if named.
    pub owner: Option<String>,
}

/// The `owner` query parameter.
#[derive(Debug)]
pub struct OwnerParam(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for OwnerParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        owner_of(parts.uri.query().unwrap_or_default()).map(Self)
    }
}

/// The `owner` parameter of a query string (form-encoded: `+` is a
/// space), if there is one; other parameters are ignored.
fn owner_of(query: &str) -> Result<Option<String>, ApiError> {
    let mut owner = None;
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "owner" {
            continue;
        }
        let value = value.replace('+', " ");
        let decoded = percent_encoding::percent_decode_str(&value)
            .decode_utf8()
            .map_err(|_| ApiError::invalid("owner: not UTF-8 once percent-decoded"))?;
        if owner.replace(decoded.into_owned()).is_some() {
            return Err(ApiError::invalid("owner: give it once"));
        }
    }
    Ok(owner)
}

impl OwnerParam {
    /// The case `typed` names, with this owner.
    pub fn with(self, typed: String) -> CaseRef {
        CaseRef { typed, owner: self.0 }
    }
}

/// A case the caller may read: owned by or shared with its organisation.
#[derive(Debug)]
pub struct ReadableCase {
    /// Who asks.
    pub caller: Caller,
    /// The case's storage ID: never put it in an answer.
    pub case: CaseId,
    /// The case's name, as its owner gave it.
    pub name: CaseId,
    /// The organisation that owns it.
    pub owner: String,
    /// How the caller's organisation reaches it.
    pub access: CaseAccess,
}

/// A case the caller's organisation owns; a shared or unknown one is 404.
#[derive(Debug)]
pub struct OwnedCase {
    /// Who asks.
    pub caller: Caller,
    /// The case's storage ID: never put it in an answer.
    pub case: CaseId,
    /// The case's name, as its owner gave it.
    pub name: CaseId,
}

/// A case the caller may submit evidence to: owned by the caller's
/// organisation (else 404) and the caller's role submits (else 403).
#[derive(Debug)]
pub struct WritableCase {
    /// Who asks.
    pub caller: Caller,
    /// The case's storage ID: never put it in an answer.
    pub case: CaseId,
    /// The case's name, as its owner gave it.
    pub name: CaseId,
}

/// The answer for a name that several shared cases carry.
fn ambiguous(name: &CaseId, owners: &[String]) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "ambiguous_case",
        format!(
            "cases named {name} were shared with your organisation by {}; say which with ?owner=ORGANISATION",
            owners.join(", ")
        ),
    )
}

impl ReadableCase {
    /// The case `named` names, if `caller` may read it.
    pub async fn of(state: &ApiState, caller: Caller, named: &CaseRef) -> Result<Self, ApiError> {
        let name: CaseId = named.typed.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(e.to_string()))?;
        let org = caller.0.user.org.id;
        let found = match resolve_case(state.access.as_ref(), &name, org, named.owner.as_deref()).await? {
            Resolved::Found(found) => found,
            Resolved::NotFound => return Err(ApiError::not_found()),
            Resolved::Ambiguous(owners) => return Err(ambiguous(&name, &owners)),
        };
        let VisibleCase { case, name, owner, access } = found;
        Ok(Self { caller, case, name, owner, access })
    }

    /// The case's names, for [`crate::case_names`] to keep its storage ID
    /// out of error texts.
    fn names(&self) -> CaseNames {
        CaseNames { id: self.case.clone(), name: self.name.clone() }
    }
}

impl OwnedCase {
    /// The case `named` names, if `caller`'s organisation owns it.
    pub async fn of(state: &ApiState, caller: Caller, named: &CaseRef) -> Result<Self, ApiError> {
        match ReadableCase::of(state, caller, named).await? {
            ReadableCase { caller, case, name, access: CaseAccess::Owner, .. } => Ok(Self { caller, case, name }),
            ReadableCase { access: CaseAccess::Shared, .. } => Err(ApiError::not_found()),
        }
    }

    fn names(&self) -> CaseNames {
        CaseNames { id: self.case.clone(), name: self.name.clone() }
    }
}

impl WritableCase {
    /// The case `named` names, if `caller` may submit evidence to it.
    pub async fn of(state: &ApiState, caller: Caller, named: &CaseRef) -> Result<Self, ApiError> {
        let OwnedCase { caller, case, name } = OwnedCase::of(state, caller, named).await?;
        let role = &caller.0.user.role;
        if !role.may_submit() {
            return Err(ApiError::forbidden(format!("a {role} may not submit evidence")));
        }
        Ok(Self { caller, case, name })
    }

    fn names(&self) -> CaseNames {
        CaseNames { id: self.case.clone(), name: self.name.clone() }
    }
}

/// The `{case}` segment of the route, percent-decoded, and `?owner=`.
async fn case_ref(parts: &mut Parts, state: &Arc<ApiState>) -> Result<CaseRef, ApiError> {
    let ApiPath(mut segments) = ApiPath::<HashMap<String, String>>::from_request_parts(parts, state).await?;
    let typed = segments
        .remove("case")
        .ok_or_else(|| ApiError::internal("the route has no {case} segment", &parts.uri.path()))?;
    Ok(OwnerParam::from_request_parts(parts, state).await?.with(typed))
}

/// The extractor of each level: the caller (401 first), then the `{case}`
/// segment and `?owner=`, then [`ReadableCase::of`] and the like. A handler
/// that must refuse its body or another path ID before the case is looked
/// up (as 400 whatever exists) takes the caller and calls `of` itself.
/// Either way the case's names are told to [`crate::case_names`].
macro_rules! case_extractor {
    ($level:ty) => {
        impl FromRequestParts<Arc<ApiState>> for $level {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                let named = case_ref(parts, state).await?;
                let found = Self::of(state, caller, &named).await?;
                crate::case_names::slot_of(&parts.extensions).remember(found.names());
                Ok(found)
            }
        }

        impl $level {
            /// Tells [`crate::case_names`] this request's case, for a
            /// handler that called `of` itself.
            pub fn remembered(self, slot: &crate::case_names::NamesSlot) -> Self {
                slot.remember(self.names());
                self
            }
        }
    };
}

case_extractor!(ReadableCase);
case_extractor!(OwnedCase);
case_extractor!(WritableCase);

#[cfg(test)]
mod tests {
    #[test]
    fn the_owner_is_read_from_the_query_string_alone() {
        let owner = |q: &str| super::owner_of(q).map_err(|e| e.message().to_owned());
        assert_eq!(owner(""), Ok(None));
        assert_eq!(owner("x=1&owner=Force%20A"), Ok(Some("Force A".into())));
        assert_eq!(owner("owner=Force+B"), Ok(Some("Force B".into())));
        assert_eq!(owner("owner=a&owner=b"), Err("owner: give it once".into()));
        assert_eq!(owner("owner=%FF"), Err("owner: not UTF-8 once percent-decoded".into()));
    }
}
