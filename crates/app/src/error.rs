//! The application layer's error type. Every error carries a kind, so the
//! CLI and the HTTP API pick exit codes and statuses without parsing text.

use exhibit_core::ErrorKind;
use thiserror::Error;

/// A failed use case or read-model operation.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AppError {
    /// The read model's database failed (open, query, migration).
    #[error("read model {what}: {source}; it is a cache of the ledger: delete it and it is rebuilt")]
    ReadModel {
        /// What was being done.
        what: String,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// The read model's migrations failed.
    #[error("read model migration failed: {0}; delete the read model file and run again")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another writer advanced a case's projection first.
    #[error("read model of case {case} moved on while it was being updated; read it again")]
    Conflict {
        /// The case.
        case: String,
    },
    /// A stored row does not parse (the read model was altered or is from
    /// another version).
    #[error("read model row {what} does not parse: {reason}; delete the read model and it is rebuilt")]
    Corrupt {
        /// Which row.
        what: String,
        /// Why.
        reason: String,
    },
    /// A read-model URI this build cannot open.
    #[error("read model URI {uri:?} is not supported; use sqlite://PATH, sqlite::memory: or postgres://...")]
    UnsupportedUri {
        /// The URI given.
        uri: String,
    },
    /// A local file or folder of the read model could not be made.
    #[error("cannot create {path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] exhibit_store::StoreError),
    /// The ledger could not be read.
    #[error(transparent)]
    Custody(#[from] exhibit_custody::CustodyError),
}

impl AppError {
    /// The workspace-wide kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::ReadModel { .. } | Self::Migrate(_) | Self::Io { .. } => ErrorKind::Io,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::Corrupt { .. } => ErrorKind::Corrupt,
            Self::UnsupportedUri { .. } => ErrorKind::Invalid,
            Self::Store(e) => e.kind().core_kind(),
            Self::Custody(e) => e.kind(),
        }
    }

    /// Wraps a database error with what was being done.
    pub(crate) fn db(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Self {
        let what = what.into();
        move |source| Self::ReadModel { what, source }
    }
}

/// Results of this crate.
pub type Result<T, E = AppError> = std::result::Result<T, E>;
