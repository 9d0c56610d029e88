//! The store's error type. Every error carries a [`StoreErrorKind`], so
//! callers decide on retries and exit codes without parsing messages, and a
//! message that names the key or path and says what to do next.

use std::io;

use exhibit_core::ErrorKind;
use exhibit_core::layout::ObjectKey;
use thiserror::Error;

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreErrorKind {
    /// The object does not exist.
    NotFound,
    /// A create-only write found the key already taken.
    AlreadyExists,
    /// Stored bytes are not what was written.
    Corrupt,
    /// The disk, the network or a background task failed.
    Io,
    /// The caller passed a key, prefix or argument that is not allowed.
    Invalid,
    /// An object is bigger than the caller allows.
    TooLarge,
    /// The store URI names a backend this build does not have.
    Unsupported,
    /// The server refused the credentials or the request (HTTP 401/403),
    /// or the bucket does not exist: a person must fix the configuration;
    /// retrying cannot help.
    Denied,
}

impl StoreErrorKind {
    /// The workspace-wide kind this maps to.
    pub fn core_kind(self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::AlreadyExists => ErrorKind::Conflict,
            Self::Corrupt => ErrorKind::Corrupt,
            Self::Io => ErrorKind::Io,
            Self::Invalid | Self::TooLarge | Self::Unsupported | Self::Denied => ErrorKind::Invalid,
        }
    }
}

impl From<StoreErrorKind> for ErrorKind {
    fn from(kind: StoreErrorKind) -> Self {
        kind.core_kind()
    }
}

/// A failed store operation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// See [`StoreErrorKind::NotFound`].
    #[error("object {key} is not in the store; check the key, or list its prefix to see what is stored")]
    NotFound {
        /// The missing key.
        key: String,
    },
    /// See [`StoreErrorKind::AlreadyExists`].
    #[error("object {key} already exists and stored objects are never overwritten; write under a new key")]
    AlreadyExists {
        /// The key that was taken.
        key: String,
    },
    /// See [`StoreErrorKind::Corrupt`].
    #[error("object {key} is corrupt: {detail}; restore it from a replica or re-acquire the exhibit")]
    Corrupt {
        /// The damaged key.
        key: String,
        /// What check failed.
        detail: String,
    },
    /// See [`StoreErrorKind::Io`].
    #[error("I/O error while {action} {target}: {source}; check the disk, its free space and permissions, then retry")]
    Io {
        /// What the store was doing, e.g. "writing".
        action: &'static str,
        /// The key or path it was doing it to.
        target: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The object store could not be reached (connection refused or cut,
    /// a timeout) even after the client's retries. Transient: the run can
    /// be retried once the server is back.
    #[error(
        "cannot reach the object store while {action} {target}: {detail}; check that the server is up and that the endpoint (AWS_ENDPOINT_URL or [store] endpoint) is right, then retry (exhibit kept retrying for about a minute)"
    )]
    Unreachable {
        /// What the store was doing, e.g. "writing".
        action: &'static str,
        /// The key.
        target: String,
        /// The client's error chain.
        detail: String,
    },
    /// See [`StoreErrorKind::Denied`]: 401 or 403.
    #[error(
        "the object store refused {action} {target}: {detail}; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and the bucket's policy"
    )]
    Denied {
        /// What the store was doing.
        action: &'static str,
        /// The key.
        target: String,
        /// The server's status, code and message.
        detail: String,
    },
    /// See [`StoreErrorKind::Denied`]: the bucket is not there.
    #[error(
        "the bucket of {target} does not exist on this object store; create it (for example `aws s3 mb s3://BUCKET`, with Object Lock where the store needs WORM) or fix the bucket in --store / [store] uri"
    )]
    NoBucket {
        /// The key whose bucket is missing.
        target: String,
    },
    /// A background task panicked or was cancelled.
    #[error("a background store task failed: {source}; this is a bug in exhibit, please report it with the log")]
    Task {
        /// Why the task ended.
        #[source]
        source: tokio::task::JoinError,
    },
    /// See [`StoreErrorKind::Invalid`].
    #[error("invalid {what} {value:?}: {rule}")]
    Invalid {
        /// What was rejected, e.g. "content prefix".
        what: &'static str,
        /// The rejected value, escaped.
        value: String,
        /// What is allowed, in words.
        rule: String,
    },
    /// See [`StoreErrorKind::TooLarge`].
    #[error(
        "object {key} is {size} bytes, over the limit of {limit} bytes for this read; stream it instead of reading it whole"
    )]
    TooLarge {
        /// The object.
        key: String,
        /// Its size.
        size: u64,
        /// The caller's limit.
        limit: u64,
    },
    /// The server does not enforce create-only writes, so a ledger there
    /// could be overwritten silently. Not transient: a person must change
    /// the store.
    #[error(
        "the store {uri} accepted a second create of one key (its server ignores If-None-Match: *), so it would silently overwrite ledger entries; exhibit refuses to write a ledger there. Use a server that enforces conditional writes (AWS S3, MinIO, moto, s3s-fs)"
    )]
    NotCreateOnly {
        /// The store.
        uri: String,
    },
    /// A command that only reads found no store folder.
    #[error("no store at {path}: nothing was ever ingested there; check --store, $EXHIBIT_DATA or [store] uri")]
    NoStore {
        /// The folder named.
        path: String,
    },
    /// See [`StoreErrorKind::Unsupported`].
    #[error(
        "store URI {uri:?} uses the {scheme:?} scheme, which this build does not support; use file:///path or a plain path"
    )]
    Unsupported {
        /// The URI given.
        uri: String,
        /// Its scheme.
        scheme: String,
    },
}

impl StoreError {
    /// What kind of failure this is.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            Self::NotFound { .. } | Self::NoStore { .. } => StoreErrorKind::NotFound,
            Self::AlreadyExists { .. } => StoreErrorKind::AlreadyExists,
            Self::Corrupt { .. } => StoreErrorKind::Corrupt,
            Self::Io { .. } | Self::Task { .. } | Self::Unreachable { .. } => StoreErrorKind::Io,
            Self::Denied { .. } | Self::NoBucket { .. } => StoreErrorKind::Denied,
            Self::Invalid { .. } => StoreErrorKind::Invalid,
            Self::TooLarge { .. } => StoreErrorKind::TooLarge,
            Self::Unsupported { .. } | Self::NotCreateOnly { .. } => StoreErrorKind::Unsupported,
        }
    }

    /// The workspace-wide kind this error maps to.
    pub fn core_kind(&self) -> ErrorKind {
        self.kind().core_kind()
    }

    /// The object does not exist.
    pub fn not_found(key: &ObjectKey) -> Self {
        Self::NotFound { key: key.to_string() }
    }

    /// A create-only write found `key` taken.
    pub fn already_exists(key: &ObjectKey) -> Self {
        Self::AlreadyExists { key: key.to_string() }
    }

    /// `key` failed a check.
    pub fn corrupt(key: &ObjectKey, detail: impl Into<String>) -> Self {
        Self::Corrupt { key: key.to_string(), detail: detail.into() }
    }

    /// An I/O error while accessing `key`. A verifying reader's
    /// [`io::ErrorKind::InvalidData`] becomes [`StoreErrorKind::Corrupt`] and a
    /// missing file [`StoreErrorKind::NotFound`], so the kind stays accurate.
    pub fn io(key: &ObjectKey, err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::InvalidData => Self::corrupt(key, err.to_string()),
            io::ErrorKind::NotFound => Self::not_found(key),
            _ => Self::io_at("accessing object", key.to_string(), err),
        }
    }

    /// An I/O error while doing `action` to `target` (a key or a path).
    pub fn io_at(action: &'static str, target: impl Into<String>, source: io::Error) -> Self {
        Self::Io { action, target: target.into(), source }
    }

    /// A background task failed.
    pub fn join(source: tokio::task::JoinError) -> Self {
        Self::Task { source }
    }

    /// The caller passed something not allowed.
    pub fn invalid(what: &'static str, value: &str, rule: impl Into<String>) -> Self {
        Self::Invalid { what, value: value.escape_debug().to_string(), rule: rule.into() }
    }

    /// `key` is `size` bytes, over `limit`.
    pub fn too_large(key: &ObjectKey, size: u64, limit: u64) -> Self {
        Self::TooLarge { key: key.to_string(), size, limit }
    }

    /// `uri` names a backend this build lacks.
    pub fn unsupported_uri(uri: &str, scheme: &str) -> Self {
        Self::Unsupported { uri: uri.to_owned(), scheme: scheme.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_core_kinds() {
        assert_eq!(StoreErrorKind::AlreadyExists.core_kind(), ErrorKind::Conflict);
        assert_eq!(StoreErrorKind::TooLarge.core_kind(), ErrorKind::Invalid);
        assert_eq!(StoreErrorKind::Unsupported.core_kind(), ErrorKind::Invalid);
        assert_eq!(StoreErrorKind::Corrupt.core_kind(), ErrorKind::Corrupt);
    }

    #[test]
    fn io_errors_keep_their_meaning() {
        let key = ObjectKey::new("a/b").unwrap();
        let bad = StoreError::io(&key, io::Error::new(io::ErrorKind::InvalidData, "sha mismatch"));
        assert_eq!(bad.kind(), StoreErrorKind::Corrupt);
        assert!(bad.to_string().contains("a/b"));
        let gone = StoreError::io(&key, io::ErrorKind::NotFound.into());
        assert_eq!(gone.kind(), StoreErrorKind::NotFound);
        let other = StoreError::io(&key, io::ErrorKind::PermissionDenied.into());
        assert_eq!(other.kind(), StoreErrorKind::Io);
        assert!(other.to_string().contains("a/b"));
    }
}
