//! The artefacts of a case, from the read model.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tracing::instrument;

use crate::ApiState;
use crate::case_extract::ReadableCase;
use crate::dto::{ArtefactInfo, ArtefactList};
use crate::error::ApiError;
use crate::openapi_parts::{AmbiguousCase, CaseNotFound, CasePath, NotACaseId, OwnerQuery, Unauthenticated};

/// Every artefact of a case, by exhibit and source path.
#[utoipa::path(get, path = "/v1/cases/{case}/artefacts", security(("bearer" = [])),
    params(CasePath, OwnerQuery),
    responses(
        (status = 200, description = "The artefacts", body = ArtefactList),
        NotACaseId, Unauthenticated, CaseNotFound, AmbiguousCase,
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    ReadableCase { caller, case, name, .. }: ReadableCase,
) -> Result<Json<ArtefactList>, ApiError> {
    state.reader.refresh(&case).await?;
    let artefacts = state.reader.model().artefacts(&case, None).await?;
    Ok(Json(ArtefactList { case: name.to_string(), artefacts: artefacts.iter().map(ArtefactInfo::from).collect() }))
}
