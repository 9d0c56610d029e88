//! Dashboard errors. Each has a [`DashboardErrorKind`] and a status; the
//! router answers each with a GOV.UK error page that says what to do.

use axum::http::StatusCode;
use exhibit_core::ErrorKind;
use thiserror::Error;

/// What kind of failure a [`DashboardError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DashboardErrorKind {
    /// The request is malformed or lacks its CSRF token (a client error).
    Invalid,
    /// No such page or case for this user.
    NotFound,
    /// A hook or the templates failed.
    Io,
}

impl From<DashboardErrorKind> for ErrorKind {
    fn from(kind: DashboardErrorKind) -> Self {
        match kind {
            DashboardErrorKind::Invalid => ErrorKind::Invalid,
            DashboardErrorKind::NotFound => ErrorKind::NotFound,
            DashboardErrorKind::Io => ErrorKind::Io,
        }
    }
}

/// A refused or failed dashboard request.
#[derive(Debug, Error)]
pub enum DashboardError {
    /// A form came without the session's CSRF token, or with another.
    #[error("the form's security token is missing or does not match this session")]
    Csrf,
    /// A form body that cannot be read (not URL-encoded, too large, a
    /// field repeated).
    #[error("the form could not be read: {0}")]
    BadForm(String),
    /// A form body that did not arrive whole within [`crate::form::FORM_BODY_TIMEOUT`].
    #[error("the form did not arrive whole within {} s", .0.as_secs())]
    FormTimedOut(std::time::Duration),
    /// A page address whose query cannot be used (an owner given twice).
    #[error("the page address is not valid: {0}")]
    BadQuery(String),
    /// No such page, or a case this user may not see (one answer for both).
    #[error("page not found")]
    NotFound,
    /// A hook failed.
    #[error("{hook} failed: {reason}")]
    Hook {
        /// Which hook.
        hook: &'static str,
        /// What it said.
        reason: String,
    },
    /// A template failed to render.
    #[error("rendering a page failed: {0}")]
    Render(#[from] askama::Error),
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl DashboardError {
    /// The kind of this error.
    pub fn kind(&self) -> DashboardErrorKind {
        match self {
            Self::Csrf | Self::BadForm(_) | Self::FormTimedOut(_) | Self::BadQuery(_) | Self::Config(_) => {
                DashboardErrorKind::Invalid
            }
            Self::NotFound => DashboardErrorKind::NotFound,
            Self::Hook { .. } | Self::Render(_) => DashboardErrorKind::Io,
        }
    }

    /// The status the page is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadForm(_) | Self::BadQuery(_) => StatusCode::BAD_REQUEST,
            Self::FormTimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Hook { .. } | Self::Render(_) | Self::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A configuration the router cannot run with.
#[derive(Debug, Error)]
#[error("invalid dashboard config: {key}: {reason}")]
pub struct ConfigError {
    /// The offending key.
    pub key: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl ConfigError {
    /// The kind of every config error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}
