//! Typed transcode errors. The kind is what callers branch on; the reason is
//! for people and goes into the `failed` custody event.

use serde::{Deserialize, Serialize};

/// What class of failure happened, so retry logic never parses strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The input is empty (zero bytes).
    Empty,
    /// The input is not audio or video that libavformat recognises.
    NotMedia,
    /// Media, but nothing the policy maps (a still image, no streams).
    Unsupported,
    /// A declared or decoded property exceeds [`Limits`](crate::Limits).
    LimitExceeded,
    /// The input could not be decoded at all.
    Corrupt,
    /// The child process ran past its timeout and was killed.
    Timeout,
    /// The child process died (signal, abort, memory limit).
    Crashed,
    /// The policy file is missing, malformed or inconsistent.
    Policy,
    /// Reading or writing files failed.
    Io,
    /// An encoder or muxer failed on valid input: a bug or a library limit.
    Internal,
    /// A re-run did not give the recorded result.
    Mismatch,
}

/// A transcode failure: a kind plus a reason that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind:?}: {reason}")]
pub struct TranscodeError {
    /// What class of failure.
    pub kind: ErrorKind,
    /// What went wrong, for the custody event.
    pub reason: String,
}

impl TranscodeError {
    /// Builds an error of `kind`.
    pub fn new(kind: ErrorKind, reason: impl Into<String>) -> Self {
        Self { kind, reason: reason.into() }
    }

    /// The error's kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn io(what: &str, e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{what}: {e}"))
    }

    pub(crate) fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        Self::new(ErrorKind::Internal, format!("{what}: {e}"))
    }

    pub(crate) fn limit(reason: impl Into<String>) -> Self {
        Self::new(ErrorKind::LimitExceeded, reason)
    }
}
