//! Errors of the custody crate. Each maps to an [`ErrorKind`] so callers pick
//! exit codes and retries without reading messages.

use std::path::{Path, PathBuf};

use exhibit_core::ErrorKind;
use exhibit_core::canonical::CanonicalError;
use exhibit_store::StoreError;
use thiserror::Error;

use crate::entry::EntryError;

/// Result with [`CustodyError`].
pub type Result<T, E = CustodyError> = std::result::Result<T, E>;

/// Something the custody ledger could not do.
#[derive(Debug, Error)]
pub enum CustodyError {
    /// The object store failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// The key file or its folder could not be read or written.
    #[error("cannot {action} signing key file {}: {source}; check the path and its folder's permissions", path.display())]
    KeyFile {
        /// What was being done, e.g. "read" or "create".
        action: &'static str,
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    /// The key file grants group or other users some access.
    #[error(
        "signing key file {} has mode {mode:03o}, which lets other users at it; run `chmod 600 {}` (and check who has read it) before using it",
        path.display(),
        path.display()
    )]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The key path names a FIFO, device, folder or socket: refused
    /// unopened, since opening a FIFO blocks and opening a device acts on it.
    #[error("signing key path {} is {what}, not a key file; point [signing] key_file at the key file", path.display())]
    KeyNotAFile {
        /// The key path.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },

    /// The key file is not a usable key.
    #[error(
        "signing key file {} is not an unencrypted OpenSSH Ed25519 private key ({detail}); move it aside so exhibit creates a new key, or point the config at the right file",
        path.display()
    )]
    KeyFormat {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },

    /// Signing failed.
    #[error("cannot sign ledger entry: {0}")]
    Sign(String),

    /// The event names a different signing key than the ledger's signer.
    #[error(
        "event is attributed to public key {event_key:?} but this ledger signs with {signer_key:?}; set actor.public_key from the signer"
    )]
    WrongKey {
        /// Key in `actor.public_key`.
        event_key: String,
        /// The signer's key.
        signer_key: String,
    },

    /// The event belongs to another case.
    #[error("event is for case {event_case} but this ledger is case {ledger_case}")]
    WrongCase {
        /// Case in the event.
        event_case: String,
        /// Case of the ledger.
        ledger_case: String,
    },

    /// An event has no canonical form (e.g. a float in `params`).
    #[error("cannot encode ledger entry: {0}")]
    Canonical(#[from] CanonicalError),

    /// A stored entry the ledger needs to link to is damaged.
    #[error(
        "ledger entry {seq} of case {case} is damaged ({source}); run `exhibit verify {case}` and do not append until it is resolved"
    )]
    DamagedEntry {
        /// Case.
        case: String,
        /// Sequence number.
        seq: u64,
        /// What is wrong.
        source: EntryError,
    },

    /// Appending kept losing races.
    #[error("gave up appending to the ledger of case {case} after {tries} conflicting writes")]
    Conflict {
        /// Case.
        case: String,
        /// Attempts made.
        tries: u32,
    },

    /// A string meant to be an OpenSSH public key is not one.
    #[error("{0:?} is not an OpenSSH public key line (ssh-ed25519 AAAA...)")]
    InvalidPublicKey(String),

    /// Nothing is stored under the case.
    #[error("case {case} not found in the store {store}; `exhibit cases` lists the cases there")]
    CaseNotFound {
        /// Case.
        case: String,
        /// The store's URI.
        store: String,
    },

    /// A background task failed.
    #[error("background task failed: {0}")]
    Join(String),
}

impl CustodyError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Store(e) => e.kind().into(),
            Self::KeyFile { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            Self::KeyFile { .. } | Self::Join(_) | Self::Sign(_) => ErrorKind::Io,
            Self::KeyPermissions { .. } | Self::WrongKey { .. } | Self::WrongCase { .. } | Self::Canonical(_) => {
                ErrorKind::Invalid
            }
            Self::KeyFormat { .. } | Self::DamagedEntry { .. } => ErrorKind::Corrupt,
            Self::Conflict { .. } => ErrorKind::Conflict,
            Self::CaseNotFound { .. } => ErrorKind::NotFound,
            Self::InvalidPublicKey(_) => ErrorKind::Invalid,
            Self::KeyNotAFile { .. } => ErrorKind::Invalid,
        }
    }

    pub(crate) fn key_file(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::KeyFile { action, path: path.to_owned(), source }
    }

    pub(crate) fn key_format(path: &Path, detail: impl std::fmt::Display) -> Self {
        Self::KeyFormat { path: path.to_owned(), detail: detail.to_string() }
    }
}
