//! Stored content that changed or vanished since it was recorded: an
//! object or manifest the ledger vouches for is missing, cut short, fails
//! its hash, or has grown past any size exhibit writes. That is a
//! verification finding, never an error a rerun could fix.

use exhibit_store::{StoreError, StoreErrorKind};

use crate::AppError;

/// Whether a store error while reading recorded content means the stored
/// data changed or vanished (rather than a disk or permission fault).
pub fn is_damage(e: &StoreError) -> bool {
    matches!(e.kind(), StoreErrorKind::NotFound | StoreErrorKind::Corrupt | StoreErrorKind::TooLarge)
}

/// `e` as [`AppError::Damaged`] when it is damage, with `what` in front
/// and `exhibit verify` named; any other error as [`AppError::StoreAt`],
/// keeping its own kind.
pub fn stored_error(e: StoreError, what: &str) -> AppError {
    if is_damage(&e) {
        AppError::Damaged(format!(
            "{what}: {e}; stored data changed or vanished since it was recorded, run `exhibit verify` to see what"
        ))
    } else {
        AppError::StoreAt { what: what.to_owned(), source: e }
    }
}
