//! Params of the intake actions: `acquired`, `identified`, `explored`,
//! `extracted`, and `verified` (E01 checks, audits, bundles, reproduction).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digests;

/// `acquired`: an original read from a source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcquiredParams {
    /// The acquire job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The source read (exhibit, path, size, mtime or device identity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    /// Every fact about the source (intake's `AcquiredFacts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Value>,
    /// A block device's acquisition record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition: Option<Value>,
    /// A block device's ddrescue mapfile, stored as a derivative.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapfile: Option<MapfileRef>,
    /// The operator-named file this one was found beside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_beside: Option<String>,
}

/// Where a device acquisition's mapfile is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapfileRef {
    /// Its artefact ID.
    pub artefact: String,
    /// Its content hash, hex.
    pub sha256: String,
}

impl AcquiredParams {
    /// The source's display path (`facts.source.path.display`).
    pub fn source_display(&self) -> Option<&str> {
        self.facts.as_ref()?.pointer("/source/path/display")?.as_str()
    }

    /// The digests computed while reading (`facts.digests`).
    pub fn digests(&self) -> Option<Digests> {
        serde_json::from_value(self.facts.as_ref()?.get("digests")?.clone()).ok()
    }

    /// Unreadable ranges `[offset, len]` that were zero-filled.
    pub fn bad_ranges(&self) -> Vec<[u64; 2]> {
        let ranges = self.facts.as_ref().and_then(|f| f.get("bad_ranges"));
        ranges.and_then(|r| serde_json::from_value(r.clone()).ok()).unwrap_or_default()
    }

    /// The source path's raw bytes (`facts.source.path`).
    pub fn source_path_bytes(&self) -> Option<Vec<u8>> {
        let path = self.facts.as_ref()?.get("source")?.get("path")?.clone();
        serde_json::from_value::<crate::manifest::RecordedPath>(path).ok().map(|p| p.to_bytes())
    }
}

/// `identified`: an artefact's media type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentifiedParams {
    /// The identify job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The media type found from content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Its PRONOM PUID, when one matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub puid: Option<String>,
    /// Why the name's extension does not fit the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension_mismatch: Option<String>,
    /// Why content whose signature claims audio or video is left
    /// unidentified (no demuxer or decoder accepts it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unidentified: Option<String>,
}

/// `explored`: a medium walked, its listing stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExploredParams {
    /// The explore job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The medium's class as a media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    /// The volumes found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<Value>,
    /// How the image is truncated, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Value>,
    /// Entries, files, deleted, failed, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Value>,
}

/// `extracted`: a file taken out of a medium.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtractedParams {
    /// Image, volume, path and stream it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    /// Digests and media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Value>,
}

/// `verified`: one of several checks; each fills its own fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VerifiedParams {
    /// E01: the acquisition metadata in the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// E01: segment names, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<String>>,
    /// E01: the hashes stored in the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stored: Option<Value>,
    /// E01: the hashes computed over the media.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<Value>,
    /// E01: whether the MD5s agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5_matches: Option<bool>,
    /// E01: whether the SHA-1s agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1_matches: Option<bool>,
    /// E01: how the image is truncated, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<Value>,
    /// A fixity audit's record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<Value>,
    /// A scan bundle's reconciliation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Value>,
    /// Reproduction: whether the output was reproduced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduced: Option<bool>,
    /// Reproduction: what was compared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared: Option<String>,
    /// Reproduction: the hash of the reproduced output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reproduced_hash: Option<String>,
}
