//! `GET /v1/cases/{case}/status`: what a case received (uploads by state,
//! failed ingests with what to do, refused uploads) from the intake
//! journal, and its jobs and problems from the read model.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use exhibit_app::access::CaseAccess;
use exhibit_app::intake::{Refusal, UploadEntry};
use exhibit_core::ids::CaseId;
use time::format_description::well_known::Rfc3339;
use tracing::instrument;

use crate::ApiState;
use crate::case_extract::ReadableCase;
use crate::case_names::{CaseNames, hidden};
use crate::dto::{IntakeStatus, JobCount, RefusalInfo, UploadCounts, UploadFailure, UploadInfo};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;
use crate::id_params::UploadIdParam;
use crate::openapi_parts::{AmbiguousCase, CaseNotFound, CasePath, NotACaseId, OwnerQuery, Unauthenticated};

/// Every time in an answer: RFC 3339 in UTC, whole seconds, `Z`
/// (`2026-12-07T15:04:05Z`), so clients parse one shape; the journal keeps
/// finer times, which no client needs.
pub(crate) fn rfc3339(at: time::OffsetDateTime) -> String {
    let whole = at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(at);
    whole.format(&Rfc3339).unwrap_or_default()
}

/// The intake and job status of a case the caller can see.
#[utoipa::path(get, path = "/v1/cases/{case}/status", security(("bearer" = [])),
    params(CasePath, OwnerQuery),
    responses(
        (status = 200, description = "The status", body = IntakeStatus),
        NotACaseId, Unauthenticated, CaseNotFound, AmbiguousCase,
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn case_status(
    State(state): State<Arc<ApiState>>,
    ReadableCase { caller, case, name, owner, .. }: ReadableCase,
) -> Result<Json<IntakeStatus>, ApiError> {
    let names = CaseNames { id: case.clone(), name: name.clone() };
    let intake = state.access.intake().case_intake(&case).await?;
    let status = state.reader.checked_status(&case, state.options.trusted.as_deref()).await?;
    let problems = crate::problems::case_problems(&state, &names, status.problems).await?;
    let counts = intake.counts;
    Ok(Json(IntakeStatus {
        case: name.to_string(),
        uploads: UploadCounts {
            receiving: receiving_count(&state, &owner, &name).await?,
            queued: counts.queued,
            running: counts.running,
            done: counts.done,
            failed: counts.failed,
        },
        jobs: status.jobs.into_iter().map(JobCount::from).collect(),
        failures: intake.failed.iter().map(|u| failure(u, &names)).collect(),
        refusals: intake.refusals.iter().map(|r| refusal(r, &names)).collect(),
        problems,
    }))
}

/// How many tus uploads to the case `name` of organisation `owner` are
/// not whole yet (a whole one is about to be queued) (tus names cases as the uploader's organisation does,
/// and only the owner uploads).
async fn receiving_count(state: &ApiState, owner: &str, name: &CaseId) -> Result<u64, ApiError> {
    let (Some(intake), Some(org)) = (state.intake.as_ref(), state.access.org(owner).await?) else { return Ok(0) };
    let records = intake
        .uploads()
        .unfinished_of_org(&org.id.0.to_string())
        .map_err(|e| ApiError::internal("cannot read the uploads' records", &e))?;
    let name = name.normalised();
    Ok(records.iter().filter(|r| !r.is_complete() && r.target.case.normalised() == name).count() as u64)
}

/// One received file of a case the caller can see, and how its ingest went.
#[utoipa::path(get, path = "/v1/cases/{case}/uploads/{id}", security(("bearer" = [])),
    params(
        CasePath,
        ("id" = String, Path, description = "The upload's ID: the last segment of its tus URL (32 lowercase hex digits), or a PUT's `upload` (`put-` and 32); anything else is 400",
            pattern = r"^(put-)?[0-9a-f]{32}$"),
        OwnerQuery,
    ),
    responses(
        (status = 200, description = "The upload", body = UploadInfo),
        (status = 400, description = "Not a case ID or upload ID", body = ErrorBody),
        Unauthenticated, AmbiguousCase,
        (status = 404, description = "No such case or finished upload, or not yours", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn upload_status(
    UploadIdParam(id): UploadIdParam,
    State(state): State<Arc<ApiState>>,
    ReadableCase { caller, case, name, access, .. }: ReadableCase,
) -> Result<Json<UploadInfo>, ApiError> {
    let Some(upload) = state.access.intake().upload(&case, &id).await? else {
        if access != CaseAccess::Owner {
            // Uploads go only to the uploader's own cases.
            return Err(ApiError::not_found());
        }
        return receiving(&state, &caller, &name, &id).await.map(Json);
    };
    let names = CaseNames { id: case, name };
    Ok(Json(UploadInfo {
        upload: upload.id,
        case: names.name.to_string(),
        exhibit: upload.exhibit.to_string(),
        filename: upload.filename,
        size: upload.size,
        received: upload.size,
        sha256: Some(upload.sha256.to_hex()),
        operator: upload.operator,
        state: upload.state.as_str().to_owned(),
        reason: upload.reason.map(|r| hidden(&r, &names)),
        updated_at: rfc3339(upload.updated_at),
    }))
}

/// A tus upload by the caller's organisation to its own case `name` (tus
/// names cases as the uploader's organisation does) that is not whole yet:
/// `receiving`, with the bytes kept so far. Anything else is the same 404.
async fn receiving(state: &ApiState, caller: &Caller, name: &CaseId, id: &str) -> Result<UploadInfo, ApiError> {
    let Some(intake) = state.intake.as_ref() else { return Err(ApiError::not_found()) };
    let record =
        intake.uploads().unfinished(id).map_err(|e| ApiError::internal("cannot read an upload's record", &e))?;
    let record = record
        .filter(|r| r.principal.org == caller.0.user.org.id.0.to_string())
        .filter(|r| r.target.case.normalised() == name.normalised())
        .ok_or_else(ApiError::not_found)?;
    let operator = match super::auth::user_of(state.access.as_ref(), &record.principal).await {
        Ok(Some(user)) => super::receive::operator(&user),
        _ => String::new(),
    };
    Ok(UploadInfo {
        upload: record.id.to_string(),
        case: name.to_string(),
        exhibit: record.target.exhibit.to_string(),
        filename: record.target.filename.as_str().to_owned(),
        size: record.length,
        received: record.offset,
        sha256: None,
        operator,
        state: "receiving".into(),
        reason: None,
        updated_at: rfc3339(record.created_at),
    })
}

fn failure(u: &UploadEntry, names: &CaseNames) -> UploadFailure {
    UploadFailure {
        upload: u.id.clone(),
        exhibit: u.exhibit.to_string(),
        filename: u.filename.clone(),
        sha256: u.sha256.to_hex(),
        operator: u.operator.clone(),
        reason: hidden(&u.reason.clone().unwrap_or_default(), names),
        at: rfc3339(u.updated_at),
    }
}

fn refusal(r: &Refusal, names: &CaseNames) -> RefusalInfo {
    RefusalInfo {
        upload: r.upload.clone(),
        exhibit: r.exhibit.clone(),
        filename: r.filename.clone(),
        operator: r.operator.clone(),
        reason: hidden(&r.reason, names),
        at: rfc3339(r.at),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn times_are_whole_seconds_in_utc() {
        assert_eq!(super::rfc3339(datetime!(2026-12-07 15:04:05.123456789 UTC)), "2026-12-07T15:04:05Z");
        assert_eq!(super::rfc3339(datetime!(2026-12-07 15:04:05 UTC)), "2026-12-07T15:04:05Z");
        assert_eq!(super::rfc3339(datetime!(2026-12-07 16:04:05.5 +01:00)), "2026-12-07T15:04:05Z");
    }
}
