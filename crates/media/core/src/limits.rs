//! Caps that every reader enforces, from config.

use serde::{Deserialize, Serialize};

/// Limits against hostile or broken media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Containers nested inside containers (image in a file in an image...).
    pub max_depth: u32,
    /// Entries one file system may yield.
    pub max_entries: u64,
    /// Entries one directory may hold.
    pub max_dir_entries: u64,
    /// Path components from the root.
    pub max_path_depth: u32,
    /// Total bytes extracted from one image, as a multiple of its size
    /// (guards against overlapping extents that repeat the same data).
    pub max_expansion_ratio: u64,
    /// Bytes any single metadata structure may make a reader allocate.
    pub max_alloc: u64,
    /// Bytes of sparse runs the files of one image may have together.
    /// They are never read or stored, and cost nothing against
    /// `max_expansion_ratio`, but every digest still runs over them as
    /// zeros (no shortcut exists), so this bounds the hashing a crafted
    /// image can demand, however many files it declares.
    pub max_sparse_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 4,
            max_entries: 1_000_000,
            max_dir_entries: 100_000,
            max_path_depth: 256,
            max_expansion_ratio: 4,
            max_alloc: 64 << 20,
            max_sparse_bytes: 1 << 40,
        }
    }
}

impl Limits {
    /// Checks an allocation size read from the medium.
    pub fn check_alloc(&self, bytes: u64, what: &str) -> Result<usize, crate::MediaError> {
        if bytes > self.max_alloc {
            return Err(crate::MediaError::limit(format!(
                "{what} claims {bytes} bytes, over the {} byte limit (limits.max_alloc)",
                self.max_alloc
            )));
        }
        usize::try_from(bytes).map_err(|_| crate::MediaError::limit(format!("{what} is too large for this machine")))
    }
}
