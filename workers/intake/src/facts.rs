//! What acquisition learned about a source, carried from the `acquired`
//! event to the identify job and into the manifest.

use exhibit_core::digest::Digests;
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{SourceInfo, Timestamps};
use serde::{Deserialize, Serialize};

/// Facts about one acquired source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquiredFacts {
    /// The artefact the source became.
    pub artefact: ArtefactId,
    /// Where it was.
    pub source: SourceInfo,
    /// Bytes stored.
    pub size: u64,
    /// Their digests.
    pub digests: Digests,
    /// Timestamps as found before reading.
    pub timestamps: Timestamps,
    /// `symlink` for a link recorded as its target path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Image ranges `[offset, len]` that could not be read from a device
    /// and were zero-filled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bad_ranges: Vec<[u64; 2]>,
}
