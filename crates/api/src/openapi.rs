//! The OpenAPI 3.1 document of the API, served at `/openapi.json` and made
//! from the same route annotations the handlers carry, so the two cannot
//! drift apart silently (a test compares the document's paths with the
//! router's).

use axum::Json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{Modify, OpenApi};

use crate::dto::{
    ArtefactInfo, ArtefactList, CaseInfo, CaseList, CaseStatus, IntakeStatus, JobCount, NewCase, NewShare, ProblemInfo,
    PutResult, RefusalInfo, ShareInfo, SubmissionInfo, SubmissionRowInfo, UploadCounts, UploadFailure, UploadInfo,
};
use crate::error::ErrorBody;
use crate::openapi_tus::TusOperations;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "exhibit API", description = "Cases, artefacts and downloads of exhibit, kept apart organisation by organisation. Every request needs Authorization: Bearer TOKEN. Cases are named per organisation: a case path names your organisation's own case of that name, else the one case of that name shared with yours; `?owner=ORGANISATION` picks a shared case when the name is ambiguous. A case your organisation neither owns nor was shared is answered 404, as one that does not exist."),
    paths(
        crate::cases::create,
        crate::cases::list,
        crate::cases::show,
        crate::cases::share,
        crate::cases::unshare,
        crate::artefacts::list,
        crate::download::content,
        crate::intake::status::case_status,
        crate::intake::status::upload_status,
        crate::intake::submissions::submit,
        crate::intake::submissions::show,
        crate::intake::put::put_file,
    ),
    components(schemas(
        ErrorBody, NewCase, CaseInfo, CaseList, CaseStatus, JobCount, ProblemInfo, NewShare, ShareInfo,
        ArtefactInfo, ArtefactList, PutResult, UploadCounts, UploadFailure, RefusalInfo, IntakeStatus,
        SubmissionRowInfo, SubmissionInfo, UploadInfo
    )),
    modifiers(&BearerAuth, &TusOperations, &RateLimited),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The token limits answer any request that carries a valid token, before
/// its handler: every operation can be 429, with `Retry-After`.
struct RateLimited;

impl Modify for RateLimited {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                operation.responses.responses.entry("429".to_owned()).or_insert_with(|| rate_limited().into());
            }
        }
    }
}

fn rate_limited() -> Response {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1));
    ResponseBuilder::new()
        .description("This token made too many requests, or has as many uploads running as it may")
        .header("Retry-After", HeaderBuilder::new().schema(seconds).description(Some("Seconds to wait")).build())
        .content("application/json", content)
        .build()
}

/// `GET /openapi.json`, with a token like every request.
pub async fn document(_caller: crate::extract::Caller) -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
