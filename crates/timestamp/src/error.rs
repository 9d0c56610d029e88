//! Errors of the timestamp crate. Each has a [`TimestampErrorKind`], so
//! callers tell an unreachable TSA (retry next run) from a token that is
//! forged or damaged (report it) without reading messages.

use thiserror::Error;

/// What kind of failure a [`TimestampError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampErrorKind {
    /// The TSA could not be reached, timed out, or answered with an HTTP
    /// error: try again later.
    Unreachable,
    /// The TSA answered, but refused the request (PKIStatus rejection).
    Refused,
    /// The bytes are not a well-formed timestamp response or token.
    Malformed,
    /// A well-formed token that does not match what was asked (imprint,
    /// nonce) or whose signature or certificate chain fails.
    Untrusted,
    /// A setting (URL, CA file, policy) is unusable.
    Config,
}

/// A failed timestamp operation.
#[derive(Debug, Error)]
pub enum TimestampError {
    /// The HTTP exchange failed.
    #[error("cannot reach the TSA at {url}: {detail}")]
    Unreachable {
        /// The TSA's URL.
        url: String,
        /// What failed.
        detail: String,
    },
    /// The TSA answered with a rejection.
    #[error(
        "the TSA refused the request: status {status} ({status_name}){}{}",
        if fail_info.is_empty() { String::new() } else { format!(", failInfo {}", fail_info.join(", ")) },
        text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default()
    )]
    Refused {
        /// The PKIStatus number.
        status: u8,
        /// Its RFC 3161 name (`rejection`, `waiting`, ...).
        status_name: &'static str,
        /// The PKIFailureInfo bits set, by RFC name (`badAlg`, ...).
        fail_info: Vec<String>,
        /// The TSA's status text, if any.
        text: Option<String>,
    },
    /// Not DER of the expected structure.
    #[error("not a valid RFC 3161 timestamp: {0}")]
    Malformed(String),
    /// The token fails a check.
    #[error("timestamp token fails verification: {0}")]
    Untrusted(String),
    /// A setting is unusable.
    #[error("{0}")]
    Config(String),
}

impl TimestampError {
    /// What kind of failure this is.
    pub fn kind(&self) -> TimestampErrorKind {
        match self {
            Self::Unreachable { .. } => TimestampErrorKind::Unreachable,
            Self::Refused { .. } => TimestampErrorKind::Refused,
            Self::Malformed(_) => TimestampErrorKind::Malformed,
            Self::Untrusted(_) => TimestampErrorKind::Untrusted,
            Self::Config(_) => TimestampErrorKind::Config,
        }
    }

    pub(crate) fn malformed(what: &str, e: impl std::fmt::Display) -> Self {
        Self::Malformed(format!("{what}: {e}"))
    }

    pub(crate) fn untrusted(detail: impl Into<String>) -> Self {
        Self::Untrusted(detail.into())
    }
}

/// Result with [`TimestampError`].
pub type Result<T, E = TimestampError> = std::result::Result<T, E>;
