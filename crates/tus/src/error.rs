//! Upload errors. Each has a [`TusErrorKind`] and the HTTP status the tus
//! protocol gives it, so the router never matches on messages.

use axum::http::StatusCode;
use exhibit_core::ErrorKind;
use thiserror::Error;

/// What kind of failure a [`TusError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TusErrorKind {
    /// The request breaks the protocol or a limit (a client error).
    Invalid,
    /// No such upload for this caller (or it is another organisation's).
    NotFound,
    /// The request disagrees with the upload's state (offset, lock).
    Conflict,
    /// A chunk's bytes do not match the checksum the client sent.
    Corrupt,
    /// The staging folder or a hook failed.
    Io,
}

impl From<TusErrorKind> for ErrorKind {
    fn from(kind: TusErrorKind) -> Self {
        match kind {
            TusErrorKind::Invalid => ErrorKind::Invalid,
            TusErrorKind::NotFound => ErrorKind::NotFound,
            TusErrorKind::Conflict => ErrorKind::Conflict,
            TusErrorKind::Corrupt => ErrorKind::Corrupt,
            TusErrorKind::Io => ErrorKind::Io,
        }
    }
}

/// A refused or failed upload request.
#[derive(Debug, Error)]
pub enum TusError {
    /// `Tus-Resumable` is missing or names a version other than 1.0.0.
    #[error("this server speaks tus 1.0.0; send `Tus-Resumable: 1.0.0` ({})", version_sent(.got.as_deref()))]
    UnsupportedVersion {
        /// The header as sent, if it was.
        got: Option<String>,
    },
    /// A protocol header is missing, repeated or malformed.
    #[error("bad {header} header: {reason}")]
    BadHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `Upload-Metadata` is malformed or lacks a required key.
    #[error("bad Upload-Metadata: {reason}")]
    BadMetadata {
        /// The key at fault (`case`, `exhibit`, `filename`), when one is.
        key: Option<&'static str>,
        /// What is wrong with it.
        reason: String,
    },
    /// `Upload-Checksum` names an algorithm this server does not take.
    #[error("unsupported checksum algorithm {algorithm:?}: this server takes sha256")]
    UnsupportedChecksum {
        /// The algorithm as sent.
        algorithm: String,
    },
    /// A PATCH whose body is not `application/offset+octet-stream`.
    #[error("a PATCH body must be Content-Type application/offset+octet-stream")]
    UnsupportedMediaType,
    /// The caller could not be identified.
    #[error("not authenticated: {reason}")]
    Unauthenticated {
        /// The stable word for programs (`unauthenticated`,
        /// `token_expired`, `token_revoked`).
        kind: &'static str,
        /// Why, as the authorizer put it.
        reason: String,
    },
    /// The case is the caller's organisation's, but the caller may not
    /// upload to it (its role).
    #[error("{reason}")]
    Forbidden {
        /// Why, as the authorizer put it.
        reason: String,
    },
    /// No such upload, or not the caller's organisation's, or a case the
    /// caller may not upload to. One answer for all, so nothing leaks.
    #[error("no such upload or case")]
    NotFound,
    /// The upload expired and will be (or was) removed.
    #[error("upload {id} expired")]
    Expired {
        /// The upload's ID.
        id: String,
    },
    /// The PATCH's `Upload-Offset` is not where the upload is.
    #[error("Upload-Offset {sent} does not match the upload's offset {actual}")]
    OffsetMismatch {
        /// The offset the client sent.
        sent: u64,
        /// The offset the server holds.
        actual: u64,
    },
    /// Another request holds the upload for longer than the lock wait.
    #[error("upload {id} is busy with another request")]
    Locked {
        /// The upload's ID.
        id: String,
    },
    /// A length, a body or a chunk is over a limit.
    #[error("{what} is over the limit of {limit} bytes")]
    TooLarge {
        /// What was too large, in words.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The caller already has as many unfinished uploads as allowed.
    #[error("{limit} unfinished uploads already; finish or terminate one first")]
    TooManyUploads {
        /// The per-principal limit.
        limit: usize,
    },
    /// The chunk's SHA-256 is not the one in `Upload-Checksum`; the chunk was discarded.
    #[error("chunk checksum mismatch: the chunk was discarded, the offset stays at {offset}")]
    ChecksumMismatch {
        /// The offset the upload stays at.
        offset: u64,
    },
    /// The client's body stopped before it ended (disconnect or idle timeout).
    #[error("the request body ended early: {reason}")]
    BodyInterrupted {
        /// What happened.
        reason: String,
    },
    /// The server is stopping: it takes no more bytes now. What arrived
    /// is kept, and the client resumes from the offset HEAD gives.
    #[error("the server is stopping; resume the upload from the offset HEAD gives once it is back")]
    Stopping,
    /// The staging folder failed.
    #[error("staging I/O failed: {context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A sidecar in the staging folder cannot be read as one.
    #[error("staging record {path} is damaged: {reason}")]
    CorruptRecord {
        /// The sidecar's path.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The authorizer or the completion hook failed (not a refusal).
    #[error("{hook} failed: {reason}")]
    Hook {
        /// Which hook.
        hook: &'static str,
        /// What it said.
        reason: String,
    },
}

/// What a request said its tus version was, in words.
fn version_sent(got: Option<&str>) -> String {
    match got {
        None => "the request had no Tus-Resumable header".to_owned(),
        Some(v) => format!("the request sent {v:?}"),
    }
}

impl TusError {
    /// The kind of this error.
    pub fn kind(&self) -> TusErrorKind {
        use TusError::*;
        match self {
            UnsupportedVersion { .. }
            | BadHeader { .. }
            | BadMetadata { .. }
            | UnsupportedChecksum { .. }
            | UnsupportedMediaType
            | Unauthenticated { .. }
            | Forbidden { .. }
            | TooLarge { .. }
            | TooManyUploads { .. }
            | BodyInterrupted { .. } => TusErrorKind::Invalid,
            NotFound | Expired { .. } => TusErrorKind::NotFound,
            OffsetMismatch { .. } | Locked { .. } => TusErrorKind::Conflict,
            ChecksumMismatch { .. } => TusErrorKind::Corrupt,
            Io { .. } | CorruptRecord { .. } | Hook { .. } | Stopping => TusErrorKind::Io,
            Config(_) => TusErrorKind::Invalid,
        }
    }

    /// The status the tus protocol answers this error with.
    pub fn status(&self) -> StatusCode {
        use TusError::*;
        match self {
            UnsupportedVersion { .. } => StatusCode::PRECONDITION_FAILED,
            BadHeader { .. } | BadMetadata { .. } | UnsupportedChecksum { .. } | BodyInterrupted { .. } => {
                StatusCode::BAD_REQUEST
            }
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Forbidden { .. } => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            Expired { .. } => StatusCode::GONE,
            OffsetMismatch { .. } => StatusCode::CONFLICT,
            Locked { .. } => StatusCode::LOCKED,
            TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyUploads { .. } => StatusCode::TOO_MANY_REQUESTS,
            Stopping => StatusCode::SERVICE_UNAVAILABLE,
            // The checksum extension's own status.
            ChecksumMismatch { .. } => StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST),
            Io { .. } | CorruptRecord { .. } | Hook { .. } | Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// An I/O failure with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }

    pub(crate) fn bad_header(header: &'static str, reason: impl Into<String>) -> Self {
        Self::BadHeader { header, reason: reason.into() }
    }

    pub(crate) fn bad_metadata(reason: impl Into<String>) -> Self {
        Self::BadMetadata { key: None, reason: reason.into() }
    }

    pub(crate) fn bad_metadata_key(key: &'static str, reason: impl Into<String>) -> Self {
        Self::BadMetadata { key: Some(key), reason: reason.into() }
    }

    /// A stable word for programs, as the API's error bodies carry.
    pub fn kind_word(&self) -> &'static str {
        use TusError::*;
        match self {
            UnsupportedVersion { .. } => "unsupported_version",
            BadHeader { .. } | UnsupportedChecksum { .. } => "invalid",
            BadMetadata { .. } => "invalid_metadata",
            UnsupportedMediaType => "unsupported_media_type",
            Unauthenticated { kind, .. } => kind,
            Forbidden { .. } => "forbidden",
            NotFound => "not_found",
            Expired { .. } => "expired",
            OffsetMismatch { .. } => "offset_mismatch",
            Locked { .. } => "locked",
            TooLarge { .. } => "too_large",
            TooManyUploads { .. } => "too_many_uploads",
            ChecksumMismatch { .. } => "checksum_mismatch",
            BodyInterrupted { .. } => "body_interrupted",
            Stopping => "stopping",
            Io { .. } | CorruptRecord { .. } | Hook { .. } | Config(_) => "internal",
        }
    }
}

/// A configuration the router cannot run with.
#[derive(Debug, Error)]
#[error("invalid tus config: {key}: {reason}")]
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
