//! Errors of the report crate, each with a kind.

use exhibit_core::ErrorKind;
use exhibit_store::StoreError;
use thiserror::Error;

/// Why a report could not be gathered.
#[derive(Debug, Error)]
pub enum ReportError {
    /// Reading the case's manifests from the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReportError {
    /// The workspace-wide kind, for exit codes and retries.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(e) => e.kind().core_kind(),
        }
    }
}
