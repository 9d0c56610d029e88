//! Why an export failed, with a kind callers can act on.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// What sort of failure an [`ExportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportErrorKind {
    /// The output already holds something: nothing was written.
    Conflict,
    /// Reading or writing failed.
    Io,
    /// Stored content did not match its recorded hash.
    Corrupt,
    /// A path would have left the output folder (a bug, refused).
    Outside,
}

/// An export failure.
#[derive(Debug, Error)]
pub enum ExportError {
    /// The bag folder exists and is not an empty folder.
    #[error("{0} exists and is not an empty folder; name a new or empty folder")]
    NotEmpty(PathBuf),
    /// An I/O error on a path.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// An artefact's content could not be read, or failed its hash check.
    #[error("artefact {artefact}: {source}")]
    Content {
        /// Which artefact.
        artefact: String,
        /// What went wrong; `InvalidData` for a hash mismatch.
        source: std::io::Error,
    },
    /// A path outside the bag was asked for.
    #[error("refused to write {0:?}: it is not inside the bag")]
    Outside(String),
    /// Some artefacts could not be copied: the bag was left unfinished
    /// (no manifests), so no tool takes it for a whole bag.
    #[error("{failed} artefact(s) could not be exported, the bag is unfinished; the first: {first}")]
    Incomplete {
        /// How many failed.
        failed: usize,
        /// The first failure.
        first: Box<ExportError>,
    },
    /// A JSON document could not be made.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl ExportError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io { path: path.to_owned(), source }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ExportErrorKind {
        match self {
            Self::NotEmpty(_) => ExportErrorKind::Conflict,
            Self::Io { .. } | Self::Json(_) => ExportErrorKind::Io,
            Self::Content { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                ExportErrorKind::Corrupt
            }
            Self::Content { .. } => ExportErrorKind::Io,
            Self::Outside(_) => ExportErrorKind::Outside,
            Self::Incomplete { first, .. } => first.kind(),
        }
    }
}
