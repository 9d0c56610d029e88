//! Errors of the PRONOM crate. Matching never fails; only reading a
//! signature file can.

/// What went wrong, for callers that decide by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The signature file (or a pattern in it) is malformed.
    Corrupt,
    /// The signature file could not be read or decompressed.
    Io,
}

/// An error reading a signature file.
#[derive(Debug, thiserror::Error)]
#[error("PRONOM signatures: {message}")]
pub struct PronomError {
    kind: ErrorKind,
    message: String,
}

impl PronomError {
    pub(crate) fn corrupt(message: String) -> Self {
        Self { kind: ErrorKind::Corrupt, message }
    }

    pub(crate) fn io(message: String) -> Self {
        Self { kind: ErrorKind::Io, message }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}
