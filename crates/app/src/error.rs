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
    /// A name or case the caller wanted is another's already.
    #[error("{what} is taken")]
    Taken {
        /// What was asked for.
        what: String,
    },
    /// A value the caller gave is not allowed.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which value.
        what: String,
        /// What is allowed.
        reason: String,
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
    /// A case's ledger could not be opened for appending.
    #[error("cannot open the ledger of case {case}")]
    Ledger {
        /// The case.
        case: String,
        /// Why.
        #[source]
        source: exhibit_custody::CustodyError,
    },
    /// The ledger (or a manifest) fails its check, so nothing was done:
    /// a verify failure, not a usage error.
    #[error("{0}")]
    Refused(String),
    /// Stored content or a manifest the ledger vouches for changed or
    /// vanished: a verification finding, not an error a rerun could fix.
    #[error("{0}")]
    Damaged(String),
    /// The store failed while reading `what`.
    #[error("{what}")]
    StoreAt {
        /// What was being read.
        what: String,
        /// Why.
        #[source]
        source: exhibit_store::StoreError,
    },
    /// A stored manifest or listing does not parse, or fails its hash
    /// check as it is read.
    #[error("{what}")]
    Unreadable {
        /// What, and what to do.
        what: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The integrity report's inputs could not be read.
    #[error(transparent)]
    Report(#[from] exhibit_report::ReportError),
    /// Re-running a derivation failed (a tool, or a policy other than
    /// the recorded one); the text is the whole cause.
    #[error("{0}")]
    Rederive(String),
    /// The signing key may not join the case (see `TrustPolicy`).
    #[error("{0}")]
    KeyNotAdmitted(String),
    /// A request this use case cannot take (an operator name, a case ID).
    #[error("{0}")]
    Request(String),
    /// The sources to ingest cannot be planned (a path missing, a set
    /// without a member...); nothing was written.
    #[error(transparent)]
    Plan(#[from] exhibit_intake::PlanError),
    /// The run stopped (a job queue or store failure); running the same
    /// ingest again resumes it.
    #[error(transparent)]
    Stopped(#[from] exhibit_pipeline::StageError),
}

impl AppError {
    /// The workspace-wide kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::ReadModel { .. } | Self::Migrate(_) | Self::Io { .. } => ErrorKind::Io,
            Self::Conflict { .. } | Self::Taken { .. } => ErrorKind::Conflict,
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::Corrupt { .. } => ErrorKind::Corrupt,
            Self::UnsupportedUri { .. } => ErrorKind::Invalid,
            Self::Store(e) => e.kind().core_kind(),
            Self::Custody(e) | Self::Ledger { source: e, .. } => e.kind(),
            Self::Refused(_) | Self::Damaged(_) | Self::Unreadable { .. } => ErrorKind::Corrupt,
            Self::StoreAt { source, .. } => source.kind().core_kind(),
            Self::Report(e) => e.kind(),
            Self::KeyNotAdmitted(_) => ErrorKind::Conflict,
            Self::Request(_) | Self::Rederive(_) => ErrorKind::Invalid,
            Self::Plan(e) => e.kind(),
            Self::Stopped(e) => match e.kind {
                exhibit_pipeline::StageErrorKind::Input => ErrorKind::Invalid,
                exhibit_pipeline::StageErrorKind::Transient => ErrorKind::Io,
            },
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
