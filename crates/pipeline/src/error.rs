//! Stage errors carry a kind, so the worker decides on retries without
//! parsing messages.

use exhibit_core::ErrorKind;
use thiserror::Error;

/// The param of a `failed` event that names an evidence fault: the
/// evidence itself is at fault, a rerun cannot mend it, and the run is not
/// counted as failed for it (ingest reports it as needing attention).
pub const PARAM_FAULT: &str = "fault";
/// Fault: a record inside an image is damaged (its data cannot be read).
pub const FAULT_DAMAGED: &str = "damaged-record";
/// Fault: no decoder accepts the content, so nothing could be derived.
pub const FAULT_UNCONVERTED: &str = "unconverted";
/// Fault: a configured limit (`limits.*`) refused it. A rerun with the same
/// configuration gives the same result, so it needs a person, not a retry.
pub const FAULT_LIMIT: &str = "limit";
/// Fault: a FIFO, socket or device node found among files: it holds no
/// content to store, so only its name is recorded.
pub const FAULT_NOT_A_FILE: &str = "not-a-file";
/// Fault: a set found in a folder (an E01 set, a cue sheet and its files)
/// lacks a member; its head is stored as a plain file, not explored.
pub const FAULT_INCOMPLETE_SET: &str = "incomplete-set";

/// Whether a failed job is worth another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageErrorKind {
    /// The input is bad or changed; retrying gives the same result.
    Input,
    /// Storage, the ledger or the OS failed; a retry may succeed.
    Transient,
}

/// Why a stage could not finish a job.
#[derive(Debug, Error)]
#[error("{message}")]
pub struct StageError {
    /// Retry or not.
    pub kind: StageErrorKind,
    /// What went wrong and what to do, naming the file.
    pub message: String,
    /// The evidence fault (`FAULT_LIMIT` ...) a stage knows it to be, named
    /// by the `failed` event; `None` lets the worker decide.
    pub fault: Option<&'static str>,
}

impl StageError {
    /// A failure caused by the input itself.
    pub fn input(message: impl Into<String>) -> Self {
        Self { kind: StageErrorKind::Input, message: message.into(), fault: None }
    }

    /// A configured limit refused the input (the message names the key
    /// and the size): not retried, and recorded as [`FAULT_LIMIT`], which
    /// needs a person rather than a rerun.
    pub fn limit(message: impl Into<String>) -> Self {
        Self { fault: Some(FAULT_LIMIT), ..Self::input(message) }
    }

    /// A failure that a retry may cure.
    pub fn transient(message: impl Into<String>) -> Self {
        Self { kind: StageErrorKind::Transient, message: message.into(), fault: None }
    }

    /// Classifies by a shared error kind: I/O and conflicts are transient.
    pub fn from_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        match kind {
            ErrorKind::Io | ErrorKind::Conflict => Self::transient(message),
            ErrorKind::NotFound | ErrorKind::Corrupt | ErrorKind::Invalid => Self::input(message),
        }
    }
}
