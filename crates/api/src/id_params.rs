//! The `{id}` segments of upload and submission routes, checked against
//! their pattern before the case is looked up: an ID that cannot exist is
//! 400 whatever exists, as an artefact ID is (it was the 404 of an upload
//! or submission not found).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use exhibit_tus::UploadId;

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::{ApiPath, Caller};

/// The `{id}` of `/v1/cases/{case}/uploads/{id}`: a tus upload's ID, or a
/// PUT's (`put-` and the same 32 lowercase hex digits).
#[derive(Debug)]
pub struct UploadIdParam(pub String);

/// The `{id}` of `/v1/cases/{case}/submissions/{id}`: 32 lowercase hex
/// digits.
#[derive(Debug)]
pub struct SubmissionIdParam(pub UploadId);

/// The second path parameter (after `{case}`), once the caller is known:
/// a request without a valid token is 401 whatever its path says. The
/// caller is kept for the case's extractor, which would look it up again.
async fn id_segment(parts: &mut Parts, state: &Arc<ApiState>) -> Result<String, ApiError> {
    let caller = Caller::from_request_parts(parts, state).await?;
    parts.extensions.insert(caller);
    let ApiPath((_, id)) = ApiPath::<(String, String)>::from_request_parts(parts, state).await?;
    Ok(id)
}

impl FromRequestParts<Arc<ApiState>> for UploadIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
        let id = id_segment(parts, state).await?;
        let digits = id.strip_prefix("put-").unwrap_or(&id);
        match digits.parse::<UploadId>() {
            Ok(_) => Ok(Self(id)),
            Err(()) => Err(ApiError::invalid(
                "not an upload ID: 32 lowercase hex digits (the last segment of its tus URL), or put- and 32 (a PUT's)",
            )),
        }
    }
}

impl FromRequestParts<Arc<ApiState>> for SubmissionIdParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
        let id = id_segment(parts, state).await?;
        id.parse().map(Self).map_err(|()| ApiError::invalid("not a submission ID: 32 lowercase hex digits"))
    }
}
