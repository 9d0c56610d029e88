//! Cases: create, list, read their status, share and unshare. A case of
//! another organisation that is not shared with the caller's is answered
//! exactly as a case that does not exist (404), and so is a write to a case
//! that is only shared.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use exhibit_app::access::{CaseAccess, CaseClaim};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ledger_key;
use tracing::{info, instrument};

use crate::ApiState;
use crate::case_extract::{OwnedCase, ReadableCase};
use crate::dto::{CaseInfo, CaseList, CaseStatus, JobCount, NewCase, NewShare, ProblemInfo, ShareInfo};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::openapi_parts::{CaseNotFound, CasePath, NotACaseId, Unauthenticated};

async fn owner_name(state: &ApiState, caller: &Caller, case: &CaseId, access: CaseAccess) -> Result<String, ApiError> {
    if access == CaseAccess::Owner {
        return Ok(caller.0.user.org.name.clone());
    }
    let visible = state.access.visible_cases(caller.0.user.org.id).await?;
    Ok(visible.into_iter().find(|v| v.case == *case).map(|v| v.owner).unwrap_or_default())
}

/// Creates a case owned by the caller's organisation.
#[utoipa::path(post, path = "/v1/cases", request_body = NewCase, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = CaseInfo),
        (status = 200, description = "Your organisation already has this case", body = CaseInfo),
        (status = 400, description = "Malformed JSON or an invalid case ID", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "Your role may not create cases", body = ErrorBody),
        (status = 409, description = "The case ID is taken", body = ErrorBody),
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
    let case: CaseId = body.case.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(e.to_string()))?;
    if let Some(why) = case.non_portable() {
        return Err(ApiError::invalid(format!("case ID {case} cannot be used: {why}")));
    }
    let org = &caller.0.user.org;
    let owned = matches!(state.access.case_access(&case, org.id).await?, Some((_, CaseAccess::Owner)));
    let status = if owned {
        StatusCode::OK
    } else {
        // A ledger no organisation was given (ingested with the CLI) is
        // not for the first caller to claim: `exhibit admin case add`.
        if state.store.head(&ledger_key(&case, 1)).await.is_ok() {
            return Err(taken(&case));
        }
        match state.access.add_case(&case, org.id).await? {
            CaseClaim::Created => StatusCode::CREATED,
            CaseClaim::AlreadyOwned => StatusCode::OK,
            CaseClaim::Taken => {
                // Case IDs are one namespace for every organisation, so a
                // taken ID cannot be hidden from a creator; a run of these
                // from one user is someone probing, for the operator to see.
                tracing::warn!(case = %case, org = %org.name, "a case ID that is taken was asked for");
                return Err(taken(&case));
            }
        }
    };
    let (case, _) = state.access.case_access(&case, org.id).await?.ok_or_else(ApiError::not_found)?;
    info!(case = %case, created = status == StatusCode::CREATED, "case claimed");
    Ok((status, Json(CaseInfo { case: case.to_string(), owner: org.name.clone(), access: CaseAccess::Owner })))
}

fn taken(case: &CaseId) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", format!("case ID {case} is not available; choose another"))
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
            .map(|c| CaseInfo { case: c.case.to_string(), owner: c.owner, access: c.access })
            .collect(),
    }))
}

/// A case's status as its ledger records it: head, counts, jobs, problems.
#[utoipa::path(get, path = "/v1/cases/{case}", security(("bearer" = [])),
    params(("case" = String, Path, description = "Case ID, percent-encoded (2024%2F00123%2FPOL)")),
    responses(
        (status = 200, description = "The case", body = CaseStatus),
        NotACaseId, Unauthenticated, CaseNotFound,
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn show(
    State(state): State<Arc<ApiState>>,
    ReadableCase { caller, case, access }: ReadableCase,
) -> Result<Json<CaseStatus>, ApiError> {
    let status = state.reader.status(&case).await?;
    let model = state.reader.model();
    let artefacts = model.artefacts(&case, None).await?.len() as u64;
    let exhibits = model.exhibits(&case).await?.len() as u64;
    let owner = owner_name(&state, &caller, &case, access).await?;
    Ok(Json(CaseStatus {
        info: CaseInfo { case: case.to_string(), owner, access },
        head_seq: status.head_seq,
        artefacts,
        exhibits,
        jobs: status.jobs.into_iter().map(JobCount::from).collect(),
        problems: status.problems.into_iter().map(ProblemInfo::from).collect(),
    }))
}

/// Shares a case read-only with another organisation (admins of the owner).
#[utoipa::path(post, path = "/v1/cases/{case}/shares", request_body = NewShare, security(("bearer" = [])),
    params(CasePath),
    responses(
        (status = 201, description = "Shared", body = ShareInfo),
        (status = 400, description = "Malformed JSON, an invalid case ID, or your own organisation", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "Your role may not share cases", body = ErrorBody),
        (status = 404, description = "No such case, or not yours to share", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "No such organisation", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn share(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiPath(typed): ApiPath<String>,
    ApiJson(body): ApiJson<NewShare>,
) -> Result<(StatusCode, Json<ShareInfo>), ApiError> {
    let OwnedCase { caller, case } = OwnedCase::of(&state, caller, &typed).await?;
    if !caller.0.user.role.may_share() {
        return Err(ApiError::forbidden(format!("a {} may not share cases; ask an admin", caller.0.user.role)));
    }
    let with = known_org(&state, &body.org).await?;
    if !state.access.share(&case, caller.0.user.org.id, with.id).await? {
        return Err(ApiError::not_found());
    }
    info!(case = %case, with = %with.name, "case shared");
    Ok((StatusCode::CREATED, Json(ShareInfo { case: case.to_string(), org: with.name })))
}

/// Ends a share (admins of the owner).
#[utoipa::path(delete, path = "/v1/cases/{case}/shares/{org}", security(("bearer" = [])),
    params(
        CasePath,
        ("org" = String, Path, description = "The organisation the case is shared with"),
    ),
    responses(
        (status = 204, description = "No longer shared"),
        (status = 400, description = "An invalid case ID", body = ErrorBody),
        Unauthenticated,
        (status = 403, description = "Your role may not share cases", body = ErrorBody),
        (status = 404, description = "No such case or share", body = ErrorBody),
        (status = 422, description = "No such organisation", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn unshare(
    State(state): State<Arc<ApiState>>,
    OwnedCase { caller, case }: OwnedCase,
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
