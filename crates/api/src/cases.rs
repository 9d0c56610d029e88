//! Cases: create, list, read their status, share and unshare. A case of
//! another organisation that is not shared with the caller's is answered
//! exactly as a case that does not exist (404), and so is a write to a case
//! that is only shared.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use exhibit_app::access::{CaseAccess, CaseClaim, OrgId, names};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ledger_key;
use tracing::{info, instrument};

use crate::ApiState;
use crate::case_extract::{OwnedCase, OwnerParam, ReadableCase};
use crate::case_names::{CaseNames, NamesSlot};
use crate::dto::{CaseInfo, CaseList, CaseStatus, JobCount, NewCase, NewShare, ShareInfo};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::openapi_parts::{AmbiguousCase, CaseNotFound, CasePath, NotACaseId, OwnerQuery, Unauthenticated};

/// Creates a case owned by the caller's organisation.
#[utoipa::path(post, path = "/v1/cases", request_body = NewCase, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CaseInfo),
        (status = 200, description = "Your organisation already has a case of this name", body = CaseInfo),
        (status = 400, description = "Malformed JSON or an invalid case name", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "Your role may not create cases", body = ErrorBody),
        (status = 408, description = "The body did not arrive whole in time", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiJson(body): ApiJson<NewCase>,
) -> Result<(StatusCode, Json<CaseInfo>), ApiError> {
    if !caller.0.user.role.may_submit() {
        return Err(ApiError::forbidden(format!("a {} may not create cases", caller.0.user.role)));
    }
    let name: CaseId = body.case.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(e.to_string()))?;
    if let Some(why) = name.non_portable() {
        return Err(ApiError::invalid(format!("case name {name} cannot be used: {why}")));
    }
    let org = &caller.0.user.org;
    let (status, name) = claim(&state, &name, org.id).await?;
    Ok((status, Json(CaseInfo { case: name.to_string(), owner: org.name.clone(), access: CaseAccess::Owner })))
}

/// How many storage IDs a create tries before it gives up (a clash of
/// 64-bit random IDs is not expected at all).
const CLAIM_TRIES: usize = 8;

/// The caller's organisation's case `name`: 200 with its name as first
/// given if it has one, else 201 with a new case stored under a fresh
/// storage ID (the name, `-` and 64 random bits), always: an ID that were
/// the name when free would show through every artefact ID derived from it
/// whether another organisation (or the CLI) holds the name (attack pass
/// on the namespaces). So a create tells nothing of what others hold.
async fn claim(state: &ApiState, name: &CaseId, org: OrgId) -> Result<(StatusCode, CaseId), ApiError> {
    let access = state.access.as_ref();
    if let Some(own) = names::own_case(access, name, org).await? {
        return Ok((StatusCode::OK, own.name));
    }
    for _ in 0..CLAIM_TRIES {
        let id = names::fresh_case_id(name);
        // A ledger no organisation was given (ingested with the CLI) stays
        // the operator's to give: `exhibit admin case add`.
        if ledger_exists(state, &id).await? {
            continue;
        }
        match access.add_case(&id, name, org).await? {
            CaseClaim::Created => {
                info!(case = %id, name = %name, "case created");
                return Ok((StatusCode::CREATED, name.clone()));
            }
            // The same organisation created the name at the same moment.
            CaseClaim::AlreadyOwned | CaseClaim::NameInUse => {
                let own = names::own_case(access, name, org).await?.ok_or_else(ApiError::not_found)?;
                return Ok((StatusCode::OK, own.name));
            }
            CaseClaim::IdTaken => continue,
        }
    }
    Err(ApiError::internal("no storage ID was free for a new case", &name))
}

/// Whether the store holds a ledger for the storage ID `id`; a store that
/// cannot say is an error, not a "no".
async fn ledger_exists(state: &ApiState, id: &CaseId) -> Result<bool, ApiError> {
    match state.store.head(&ledger_key(id, 1)).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == exhibit_store::StoreErrorKind::NotFound => Ok(false),
        Err(e) => Err(ApiError::internal("the store cannot say whether a case exists", &e)),
    }
}

/// The cases the caller's organisation owns or was shared.
#[utoipa::path(get, path = "/v1/cases", security(("bearer" = [])),
    responses(
        (status = 200, description = "The cases", body = CaseList),
        Unauthenticated,
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn list(State(state): State<Arc<ApiState>>, caller: Caller) -> Result<Json<CaseList>, ApiError> {
    let cases = state.access.visible_cases(caller.0.user.org.id).await?;
    Ok(Json(CaseList {
        cases: cases
            .into_iter()
            .map(|c| CaseInfo { case: c.name.to_string(), owner: c.owner, access: c.access })
            .collect(),
    }))
}

/// A case's status as its ledger records it: head, counts, jobs, problems.
#[utoipa::path(get, path = "/v1/cases/{case}", security(("bearer" = [])),
    params(CasePath, OwnerQuery),
    responses(
        (status = 200, description = "The case", body = CaseStatus),
        NotACaseId, Unauthenticated, CaseNotFound, AmbiguousCase,
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn show(
    State(state): State<Arc<ApiState>>,
    ReadableCase { caller, case, name, owner, access }: ReadableCase,
) -> Result<Json<CaseStatus>, ApiError> {
    let status = state.reader.checked_status(&case, state.options.trusted.as_deref()).await?;
    let model = state.reader.model();
    let artefacts = model.artefacts(&case, None).await?.len() as u64;
    let exhibits = model.exhibits(&case).await?.len() as u64;
    let names = CaseNames { id: case, name: name.clone() };
    let problems = crate::problems::case_problems(&state, &names, status.problems).await?;
    Ok(Json(CaseStatus {
        info: CaseInfo { case: name.to_string(), owner, access },
        head_seq: status.head_seq,
        artefacts,
        exhibits,
        jobs: status.jobs.into_iter().map(JobCount::from).collect(),
        problems,
    }))
}

/// Shares a case read-only with another organisation (admins of the owner).
#[utoipa::path(post, path = "/v1/cases/{case}/shares", request_body = NewShare, security(("bearer" = [])),
    params(CasePath, OwnerQuery),
    responses(
        (status = 201, description = "Shared", body = ShareInfo),
        (status = 400, description = "Malformed JSON, an invalid case ID, or your own organisation", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "Your role may not share cases", body = ErrorBody),
        (status = 404, description = "No such case, or not yours to share", body = ErrorBody),
        AmbiguousCase,
        (status = 408, description = "The body did not arrive whole in time", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "No such organisation", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn share(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiPath(typed): ApiPath<String>,
    owner: OwnerParam,
    slot: NamesSlot,
    ApiJson(body): ApiJson<NewShare>,
) -> Result<(StatusCode, Json<ShareInfo>), ApiError> {
    let OwnedCase { caller, case, name } = OwnedCase::of(&state, caller, &owner.with(typed)).await?.remembered(&slot);
    if !caller.0.user.role.may_share() {
        return Err(ApiError::forbidden(format!("a {} may not share cases; ask an admin", caller.0.user.role)));
    }
    let with = known_org(&state, &body.org).await?;
    if !state.access.share(&case, caller.0.user.org.id, with.id).await? {
        return Err(ApiError::not_found());
    }
    info!(case = %case, with = %with.name, "case shared");
    Ok((StatusCode::CREATED, Json(ShareInfo { case: name.to_string(), org: with.name })))
}

/// Ends a share (admins of the owner).
#[utoipa::path(delete, path = "/v1/cases/{case}/shares/{org}", security(("bearer" = [])),
    params(
        CasePath,
        ("org" = String, Path, description = "The organisation the case is shared with"),
        OwnerQuery,
    ),
    responses(
        (status = 204, description = "No longer shared"),
        (status = 400, description = "An invalid case ID", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "Your role may not share cases", body = ErrorBody),
        (status = 404, description = "No such case or share", body = ErrorBody),
        AmbiguousCase,
        (status = 422, description = "No such organisation", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn unshare(
    State(state): State<Arc<ApiState>>,
    OwnedCase { caller, case, .. }: OwnedCase,
    ApiPath((_, org)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !caller.0.user.role.may_share() {
        return Err(ApiError::forbidden(format!("a {} may not share cases; ask an admin", caller.0.user.role)));
    }
    let with = known_org(&state, &org).await?;
    if !state.access.unshare(&case, caller.0.user.org.id, with.id).await? {
        return Err(ApiError::not_found());
    }
    info!(case = %case, with = %with.name, "share ended");
    Ok(StatusCode::NO_CONTENT)
}

async fn known_org(state: &ApiState, name: &str) -> Result<exhibit_app::access::Org, ApiError> {
    state.access.org(name).await?.ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_org", format!("no organisation {name:?}"))
    })
}
