//! Entries of a walked folder that cannot be planned: a path longer than
//! the system opens (`PATH_MAX`), a sub-folder without read permission,
//! an entry gone during the walk. Each fails alone, as the ingest records
//! it; the rest of the folder goes ahead. A root that cannot be read at
//! all still fails the plan.

use std::path::{Path, PathBuf};

use exhibit_core::ids::ExhibitRef;
use exhibit_queue::JobId;

use crate::plan::{PlanError, exhibit_path_bytes, path_bytes, unreadable};

/// Why an entry of a walked folder was not planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryFaultKind {
    /// Its path is longer than the system opens (`ENAMETOOLONG`).
    PathTooLong,
    /// It was there when its folder was listed and gone when it was read.
    Vanished,
    /// Its folder or its metadata cannot be read (permissions, I/O).
    Unreadable,
}

/// An entry of a walked folder that could not be planned.
#[derive(Debug, Clone)]
pub struct EntryFault {
    /// The entry, as read (the folder's path joined with the names inside).
    pub path: PathBuf,
    /// Which kind of fault.
    pub kind: EntryFaultKind,
    /// The OS's words.
    pub os_reason: String,
}

impl EntryFault {
    /// The fault of `path` for an I/O error.
    pub fn from_io(path: &Path, error: &std::io::Error) -> Self {
        let kind = match error.kind() {
            std::io::ErrorKind::InvalidFilename => EntryFaultKind::PathTooLong,
            std::io::ErrorKind::NotFound => EntryFaultKind::Vanished,
            _ if error.raw_os_error() == Some(libc::ENAMETOOLONG) => EntryFaultKind::PathTooLong,
            _ => EntryFaultKind::Unreadable,
        };
        Self { path: path.to_owned(), kind, os_reason: error.to_string() }
    }

    /// The ID its `failed` event is recorded under: one per exhibit and
    /// entry, so a rerun that meets it again records nothing twice.
    pub fn job_id(&self, exhibit: &ExhibitRef) -> JobId {
        JobId::derive("plan-entry", &exhibit_path_bytes(exhibit, path_bytes(&self.path)), crate::POLICY_VERSION)
    }

    /// The `failed` event's input: the path, and its exact bytes as hex.
    pub fn job_input(&self) -> serde_json::Value {
        serde_json::json!({ "path": self.path.to_string_lossy(), "path_hex": hex::encode(path_bytes(&self.path)) })
    }

    /// What the ledger and the summary say: the path, why, what to do.
    pub fn reason(&self) -> String {
        let (path, os) = (self.path.display(), &self.os_reason);
        match self.kind {
            EntryFaultKind::PathTooLong => format!(
                "{path}: the path is too long for this system to open ({os}): copy it to a shorter folder or image the medium, and ingest that"
            ),
            EntryFaultKind::Vanished => format!(
                "{path}: was in its folder's listing but gone when it was read ({os}); if it should be there, ingest the folder again"
            ),
            EntryFaultKind::Unreadable => {
                format!("{path}: cannot be read ({os}); fix its permissions and ingest the folder again")
            }
        }
    }
}

/// What a `walkdir` error of a folder walked from `root` means for the
/// plan: the root itself unreadable fails it; any entry below is a fault
/// of that entry only.
pub(crate) fn walk_error(root: &Path, error: walkdir::Error) -> Result<EntryFault, PlanError> {
    let path = error.path().unwrap_or(root).to_owned();
    match error.io_error() {
        Some(io) if error.depth() > 0 => Ok(EntryFault::from_io(&path, io)),
        // A loop cannot happen (links are not followed); any other error
        // without an OS error is the entry's too.
        None if error.depth() > 0 => {
            Ok(EntryFault { path, kind: EntryFaultKind::Unreadable, os_reason: error.to_string() })
        }
        _ => Err(unreadable(&path, error)),
    }
}
