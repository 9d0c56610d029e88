//! Every error the API returns: a status and `{"error": ..., "kind": ...}`,
//! where `kind` is a stable word clients branch on and `error` says what
//! went wrong and what to do.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use exhibit_core::ErrorKind;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do, for people.
    pub error: String,
    /// A stable word for programs: `unauthenticated`, `token_expired`,
    /// `token_revoked`, `not_found`, `forbidden`, `invalid`,
    /// `malformed_json`, `malformed_manifest`, `too_large` (a body over
    /// any limit), `unsupported_media_type`, `method_not_allowed`,
    /// `conflict`, `corrupt`, `range_not_satisfiable`, `rate_limited`,
    /// `internal`; tus adds its own (`invalid_metadata`,
    /// `offset_mismatch`...).
    pub kind: String,
}

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
}

impl ApiError {
    /// An error with this status, kind and message.
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self { status, kind, message: message.into() }
    }

    /// The one answer for a case (or anything in it) the caller may not
    /// see, whether it exists or not: nothing tells the two apart.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found, or not shared with your organisation")
    }

    /// A value in the request that is not allowed.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// The caller's role does not allow this on its own organisation's case.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// A failure of the server's own; the details go to the log, not the client.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("{context}; the server log has the cause"))
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable word for programs.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// What went wrong and what to do.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<exhibit_app::AppError> for ApiError {
    fn from(e: exhibit_app::AppError) -> Self {
        if let exhibit_app::AppError::KeyNotAdmitted(why) = &e {
            // Names the server's key file and the operator's remedies: for
            // the server's log, not for the client.
            tracing::warn!(%why, "the server's signing key may not sign this case");
            return Self::new(
                StatusCode::CONFLICT,
                "signer_not_admitted",
                "the server cannot record this in the case's chain of custody yet; its operator has the details in the server's log",
            );
        }
        match e.kind() {
            ErrorKind::Invalid => Self::invalid(e.to_string()),
            ErrorKind::Conflict => Self::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            ErrorKind::Corrupt => Self::new(StatusCode::CONFLICT, "corrupt", e.to_string()),
            ErrorKind::NotFound => Self::not_found(),
            ErrorKind::Io => Self::internal("the server's state or store failed", &e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody { error: self.message, kind: self.kind.to_owned() })).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
