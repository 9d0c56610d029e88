//! Error kinds shared by every crate, so callers decide on retries and exit
//! codes without parsing messages.

use thiserror::Error;

/// What kind of failure an error is. Every crate's error type maps to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The thing asked for does not exist.
    NotFound,
    /// Stored or supplied data is damaged or fails a check.
    Corrupt,
    /// The operating system or network failed.
    Io,
    /// A create-only write lost to another writer, or state disagrees.
    Conflict,
    /// The caller supplied something that is not allowed.
    Invalid,
}

/// An identifier that failed validation.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("invalid {what} {value:?}: {rule}")]
pub struct IdError {
    /// Which kind of identifier, e.g. "case ID".
    pub what: &'static str,
    /// The rejected input, shown escaped.
    pub value: String,
    /// What is allowed, in words.
    pub rule: &'static str,
}

impl IdError {
    /// The kind of every identifier error.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Invalid
    }
}
