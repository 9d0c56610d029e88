//! The artefacts of a case, from the read model.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use tracing::instrument;

use crate::ApiState;
use crate::cases::readable;
use crate::dto::{ArtefactInfo, ArtefactList};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, Caller};

/// Every artefact of a case, by exhibit and source path.
#[utoipa::path(get, path = "/v1/cases/{case}/artefacts", security(("bearer" = [])),
    params(("case" = String, Path, description = "Case ID, percent-encoded")),
    responses(
        (status = 200, description = "The artefacts", body = ArtefactList),
        (status = 400, description = "Not a case ID", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such case, or not yours", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn list(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiPath(typed): ApiPath<String>,
) -> Result<Json<ArtefactList>, ApiError> {
    let (case, _) = readable(&state, &caller, &typed).await?;
    state.reader.refresh(&case).await?;
    let artefacts = state.reader.model().artefacts(&case, None).await?;
    Ok(Json(ArtefactList { case: case.to_string(), artefacts: artefacts.iter().map(ArtefactInfo::from).collect() }))
}
