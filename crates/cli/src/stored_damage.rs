//! Stored content that changed or vanished since it was recorded: an
//! object or manifest the ledger vouches for is missing, cut short, fails
//! its hash, or has grown past any size exhibit writes. That is a
//! verification finding (exit 1), never a usage error a rerun could fix.

use std::fmt;

use exhibit_store::{StoreError, StoreErrorKind};

/// A command stopped because stored data is damaged; `main` exits 1.
#[derive(Debug)]
pub struct StoredDamage(pub String);

impl fmt::Display for StoredDamage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoredDamage {}

/// Whether a store error while reading recorded content means the stored
/// data changed or vanished (rather than a disk or permission fault).
pub fn is_damage(e: &StoreError) -> bool {
    matches!(e.kind(), StoreErrorKind::NotFound | StoreErrorKind::Corrupt | StoreErrorKind::TooLarge)
}

/// `e` as [`StoredDamage`] when it is damage, with `what` in front and
/// `exhibit verify` named; any other error keeps its own kind.
pub fn classify(e: StoreError, what: &str) -> anyhow::Error {
    if is_damage(&e) {
        anyhow::Error::new(StoredDamage(format!(
            "{what}: {e}; stored data changed or vanished since it was recorded, run `exhibit verify` to see what"
        )))
    } else {
        anyhow::Error::new(e).context(what.to_owned())
    }
}
