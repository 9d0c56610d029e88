//! Media errors carry a kind so callers decide without parsing messages.

use thiserror::Error;

/// What kind of failure a media error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaErrorKind {
    /// A structure is damaged or inconsistent.
    Corrupt,
    /// Reading the medium failed.
    Io,
    /// A valid structure this reader does not handle (e.g. NTFS compression).
    Unsupported,
    /// A configured limit was crossed.
    LimitExceeded,
    /// Not this format at all (probe failed).
    NotRecognised,
}

/// An error from a media reader, naming the structure and offset.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{message}")]
pub struct MediaError {
    /// What kind of failure.
    pub kind: MediaErrorKind,
    /// What failed, where (structure, byte offset), and what to do.
    pub message: String,
}

impl MediaError {
    /// A damaged structure.
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self { kind: MediaErrorKind::Corrupt, message: message.into() }
    }

    /// A failed read.
    pub fn io(context: impl std::fmt::Display, e: std::io::Error) -> Self {
        Self { kind: MediaErrorKind::Io, message: format!("{context}: {e}") }
    }

    /// A feature this reader does not handle.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self { kind: MediaErrorKind::Unsupported, message: message.into() }
    }

    /// A limit crossed.
    pub fn limit(message: impl Into<String>) -> Self {
        Self { kind: MediaErrorKind::LimitExceeded, message: message.into() }
    }

    /// Not this format.
    pub fn not_recognised(message: impl Into<String>) -> Self {
        Self { kind: MediaErrorKind::NotRecognised, message: message.into() }
    }

    /// The shared error kind.
    pub fn core_kind(&self) -> exhibit_core::ErrorKind {
        use exhibit_core::ErrorKind;
        match self.kind {
            MediaErrorKind::Corrupt | MediaErrorKind::NotRecognised => ErrorKind::Corrupt,
            MediaErrorKind::Io => ErrorKind::Io,
            MediaErrorKind::Unsupported | MediaErrorKind::LimitExceeded => ErrorKind::Invalid,
        }
    }
}
