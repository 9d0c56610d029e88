//! Parameters and error responses that many operations share, named once
//! for the route annotations: `params(CasePath)`,
//! `responses((status = 200, ...), NotACaseId, Unauthenticated, CaseNotFound)`.
//! They describe; nothing builds them.

#![allow(dead_code)]

use utoipa::{IntoParams, IntoResponses};

use crate::error::ErrorBody;

/// The `{case}` segment.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct CasePath {
    /// The case's name in your organisation's namespace, percent-encoded
    /// (2024%2F00123%2FPOL): your own case of that name, else the one case
    /// of that name shared with your organisation. The pattern gives the
    /// characters and length allowed; the server also refuses (400) an
    /// empty part, a part ending in `.` or space, and names Windows
    /// reserves (`con`)
    #[param(pattern = r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,63}$")]
    case: String,
}

/// `?owner=`, on every route of a case.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OwnerQuery {
    /// The organisation that owns the case meant: names a case shared with
    /// yours when your organisation has a case of the same name, or when
    /// several organisations shared cases of that name with yours
    owner: Option<String>,
}

/// 400: the `{case}` segment is no case ID.
#[derive(IntoResponses)]
#[response(status = 400, description = "Not a case ID")]
pub(crate) struct NotACaseId(ErrorBody);

/// 401: no token, or one that is unknown, expired or revoked.
#[derive(IntoResponses)]
#[response(status = 401, description = "No valid token")]
pub(crate) struct Unauthenticated(ErrorBody);

/// 403: the caller's role may not submit to its organisation's case.
#[derive(IntoResponses)]
#[response(status = 403, description = "Your role may not submit evidence")]
pub(crate) struct MayNotSubmit(ErrorBody);

/// 409: several cases of that name were shared with the caller's
/// organisation, which owns none of that name.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "Several organisations shared a case of this name with yours (add ?owner=); or, on a request that records into the case, its ledger lost entries or fails its check (kind `corrupt`)"
)]
pub(crate) struct AmbiguousCase(ErrorBody);

/// 404: a case the caller may not see, answered as one that does not exist.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such case, or not yours")]
pub(crate) struct CaseNotFound(ErrorBody);
