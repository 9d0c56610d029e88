//! `PUT /v1/cases/{case}/exhibits/{exhibit}/files/{filename}`: a small file
//! in one request, with RFC 9530 `Content-Digest: sha-256=:BASE64:`
//! required. The body streams to staging at constant memory (tus's
//! `save_body`), is hashed as it arrives, and is ingested only if the hash
//! matches; a mismatch is 400, recorded as a refusal, and nothing is
//! ingested or kept.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use exhibit_app::intake::Refusal;
use exhibit_core::ExhibitRef;
use exhibit_tus::content_digest::{self, ContentDigestError};
use exhibit_tus::{FileName, TusError, UploadId};
use tracing::instrument;

use super::receive::{Received, ingest_received, operator};
use crate::ApiState;
use crate::case_extract::WritableCase;
use crate::dto::PutResult;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::openapi_parts::{AmbiguousCase, CaseNotFound, CasePath, MayNotSubmit, OwnerQuery, Unauthenticated};

/// Stores one file in an exhibit of a case the caller's organisation owns.
#[utoipa::path(put, path = "/v1/cases/{case}/exhibits/{exhibit}/files/{filename}", security(("bearer" = [])),
    params(
        CasePath,
        ("exhibit" = String, Path, description = "Exhibit reference, percent-encoded (JS%2F1). The pattern gives the characters allowed; the server also refuses (400) a part over 32 characters, an empty part and a part ending in `.` or space",
            pattern = r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,263}$"),
        ("filename" = String, Path, description = "The file's name: no path, no control characters, 1 to 255 bytes"),
        ("Content-Digest" = String, Header, description = "RFC 9530: sha-256=:BASE64:"),
        OwnerQuery,
    ),
    request_body(content = inline(crate::dto::Binary), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and recorded", body = PutResult),
        (status = 400, description = "Bad IDs, name or Content-Digest, or the body does not match it (recorded)", body = ErrorBody),
        Unauthenticated, MayNotSubmit, CaseNotFound, AmbiguousCase,
        (status = 413, description = "Body over the server's PUT limit; use tus", body = ErrorBody),
        (status = 500, description = "The ingest failed; nothing was kept, send it again", body = ErrorBody),
        (status = 503, description = "This server takes no uploads", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn put_file(
    State(state): State<Arc<ApiState>>,
    WritableCase { caller, case, name }: WritableCase,
    ApiPath((_, exhibit, filename)): ApiPath<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<PutResult>), ApiError> {
    let exhibit: ExhibitRef =
        exhibit.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(format!("exhibit: {e}")))?;
    let filename: FileName = filename.parse().map_err(|e: String| ApiError::invalid(format!("filename {e}")))?;
    let intake = state.intake.as_ref().ok_or_else(no_uploads)?.receiver();
    let expected = expected_digest(&headers)?;
    // Before a byte is read: a case whose ledger lost entries or fails its
    // check takes nothing more (409 `corrupt`, listed among its problems).
    state.reader.writable(&case, state.options.trusted.as_deref()).await?;
    let id = format!("put-{}", UploadId::random());
    let folder = intake.staging_dir.join("put");
    exhibit_tus::staging::owner_only_dir(&folder)
        .map_err(|e| ApiError::internal("cannot make the PUT staging folder", &e))?;
    let path = folder.join(format!("{id}.bin"));
    let saved = exhibit_tus::receive::save_body(body, &path, intake.max_put_bytes, intake.body_idle)
        .await
        .map_err(body_error)?;
    if saved.sha256 != expected {
        let _ = std::fs::remove_file(&path);
        let mismatch = ContentDigestError::Mismatch { sent: expected, actual: saved.sha256 };
        let refusal = Refusal {
            case: case.clone(),
            org: caller.0.user.org.id,
            operator: operator(&caller.0.user),
            exhibit: Some(exhibit.to_string()),
            filename: Some(filename.to_string()),
            upload: None,
            reason: format!("PUT refused: {mismatch}; nothing was kept, send the file again"),
            at: time::OffsetDateTime::now_utc(),
        };
        state.access.intake().record_refusal(&refusal).await?;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "digest_mismatch",
            format!("{mismatch}; nothing was stored; check the file and send it again"),
        ));
    }
    let received = Received {
        id: id.clone(),
        case: case.clone(),
        exhibit: exhibit.clone(),
        filename: filename.to_string(),
        size: saved.length,
        sha256: saved.sha256,
        data_path: path.clone(),
    };
    let outcome = ingest_received(intake, &caller.0.user, &received).await;
    let _ = std::fs::remove_file(&path);
    outcome.map_err(|reason| {
        let reason =
            if reason.contains("send the file again") { reason } else { format!("{reason}; send the file again") };
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "ingest_failed", reason)
    })?;
    Ok((
        StatusCode::CREATED,
        Json(PutResult {
            upload: id,
            case: name.to_string(),
            exhibit: exhibit.to_string(),
            filename: filename.to_string(),
            size: saved.length,
            sha256: saved.sha256.to_hex(),
            state: "done".into(),
        }),
    ))
}

pub(crate) fn no_uploads() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "uploads_off",
        "this server takes no uploads: its store has no local folder; set [uploads] staging_dir",
    )
}

fn expected_digest(headers: &HeaderMap) -> Result<exhibit_core::Sha256Digest, ApiError> {
    let mut values = headers.get_all("content-digest").iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::invalid("send one Content-Digest: sha-256=:BASE64: header (RFC 9530) with the body"));
    };
    let text = value.to_str().map_err(|_| ApiError::invalid("Content-Digest is not ASCII"))?;
    content_digest::expected_sha256(text).map_err(|e| ApiError::invalid(e.to_string()))
}

fn body_error(e: TusError) -> ApiError {
    match e {
        TusError::TooLarge { limit, .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is over the {limit} bytes a PUT may carry; send larger files by tus at /v1/uploads"),
        ),
        TusError::BodyInterrupted { reason } => {
            ApiError::invalid(format!("the body ended early ({reason}); nothing was kept, send it again"))
        }
        other => ApiError::internal("cannot stage the body", &other),
    }
}
