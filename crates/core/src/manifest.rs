//! The manifest of an artefact: what it is and where it came from. It is
//! written once, create-only, beside the content object, and its SHA-256 is
//! recorded in the custody event that stores it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::{Digests, Sha256Digest};
use crate::ids::{ArtefactId, CaseId, ExhibitRef};

/// Format tag of manifests written by this version.
pub const MANIFEST_FORMAT: &str = "exhibit-manifest/1";

/// How an artefact came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtefactKind {
    /// Acquired as given: a file, an image, a scan.
    Original,
    /// Taken out of a container or file system inside another artefact.
    Extracted,
    /// Made from another artefact (transcode, OCR).
    Derivative,
}

/// A path as the operating system gave it, kept losslessly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedPath {
    /// Display form; invalid UTF-8 is replaced by U+FFFD.
    pub display: String,
    /// The exact bytes as hex, present only when `display` is lossy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_hex: Option<String>,
}

impl RecordedPath {
    /// Records raw path bytes.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(s) => Self { display: s.to_owned(), bytes_hex: None },
            Err(_) => {
                Self { display: String::from_utf8_lossy(bytes).into_owned(), bytes_hex: Some(hex::encode(bytes)) }
            }
        }
    }

    /// The exact bytes this path was recorded from.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes_hex.as_deref().and_then(|h| hex::decode(h).ok()).unwrap_or_else(|| self.display.as_bytes().to_vec())
    }
}

/// Where an original was found, as the operator gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The full path as given on the command line, joined with the path
    /// inside a walked folder.
    pub path: RecordedPath,
    /// The final component of `path`.
    pub name: RecordedPath,
}

/// One timestamp and the structure it was read from (e.g. `stat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcedTime {
    /// The instant, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Where it came from, e.g. `stat.mtime` or `statx.btime`.
    pub from: String,
}

/// The four classic file timestamps; each absent when the source has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamps {
    /// Birth time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<SourcedTime>,
    /// Last content change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<SourcedTime>,
    /// Last access, as seen before exhibit read the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessed: Option<SourcedTime>,
    /// Last metadata change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<SourcedTime>,
}

/// A media type found from content signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaType {
    /// MIME type, `application/octet-stream` when nothing matched.
    pub mime: String,
    /// Usual file extension for the type, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Which detector decided, e.g. `infer 0.16`.
    pub detected_by: String,
    /// The PRONOM format whose signature matched, when one did (manifests
    /// written before PRONOM identification have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronom: Option<PronomFormat>,
    /// Why the file name's extension does not fit the content, when it names
    /// formats the content is not (a `.jpg` that is text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_mismatch: Option<String>,
    /// For audio and video: the container and codecs libavformat and
    /// libavcodec found (manifests written before this have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub av: Option<AvFormat>,
    /// Why content whose signature claims a format is left unidentified:
    /// no demuxer or decoder accepts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unidentified: Option<String>,
}

/// Audio or video as libavformat reads it: the container (as ffprobe's
/// `format_name` says) apart from the codecs of its streams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvFormat {
    /// Demuxer name, e.g. `avi` or `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    /// Demuxer description, e.g. `AVI (Audio Video Interleaved)`.
    pub container_long_name: String,
    /// The container's brand (`major_brand`), for the ISO/QuickTime family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// The streams, in container order (at most [`AvFormat::MAX_STREAMS`]).
    pub streams: Vec<AvStream>,
    /// How many streams the container declares.
    pub stream_count: usize,
    /// The stream a decoder took a frame from; `None` when the declared
    /// values are over a configured limit and decoding was not tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded_stream: Option<usize>,
    /// The library that read it, e.g. `libavformat 59.27.100`.
    pub probed_by: String,
}

impl AvFormat {
    /// Most streams recorded; a hostile file can declare thousands.
    pub const MAX_STREAMS: usize = 64;
}

/// One stream of an audio or video container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvStream {
    /// Index in the container.
    pub index: usize,
    /// `video`, `audio`, `subtitle`, `data`, `attachment` or `unknown`.
    pub kind: String,
    /// libavcodec's codec name, e.g. `h263`, `aac`, `pcm_s16le`.
    pub codec: String,
}

/// A format in the PRONOM registry (The National Archives), as DROID,
/// Siegfried and fido name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PronomFormat {
    /// Persistent unique identifier, e.g. `fmt/43`.
    pub puid: String,
    /// Format name, e.g. `JPEG File Interchange Format`.
    pub name: String,
    /// Format version, when PRONOM gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Other PUIDs whose signatures matched as well, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// The signature file that decided, e.g. `PRONOM v109`.
    pub signatures: String,
}

/// The artefact this one came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentRef {
    /// The parent's ID.
    pub id: ArtefactId,
    /// The parent's content hash.
    pub sha256: Sha256Digest,
    /// Byte offset inside the parent, where meaningful.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// The volume (partition and file system) an extracted artefact came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRef {
    /// Partition number in its table, absent for an unpartitioned medium.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<u32>,
    /// `mbr`, `gpt`, or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Byte offset of the volume in the parent medium.
    pub offset: u64,
    /// File-system type (`fat32`, `ntfs`, `iso9660`...).
    pub fs: String,
}

/// How much of a deleted file's data was recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryInfo {
    /// Bytes recovered.
    pub recovered_bytes: u64,
    /// Whether that is the whole declared size.
    pub complete: bool,
}

/// Where an extracted artefact sits inside its parent, and in what state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsideInfo {
    /// The volume it was found on.
    pub volume: VolumeRef,
    /// Its path inside the volume, as bytes with a lossless display form.
    pub path: RecordedPath,
    /// Alternate data stream name, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<RecordedPath>,
    /// The volume's own address for it (inode, MFT record...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<u64>,
    /// False for a deleted entry.
    pub allocated: bool,
    /// For deleted entries, how much was recovered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoveryInfo>,
    /// Attributes as the volume names them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// File byte ranges `[start, end)` that were zero-filled because the
    /// sectors under them could not be read during acquisition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zero_filled: Vec<[u64; 2]>,
    /// File byte ranges `[start, end)` the file system marks sparse: zeros
    /// that were never on the medium.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sparse: Vec<[u64; 2]>,
    /// File byte ranges `[start, end)` that lie past the end of a truncated
    /// medium: they were not in the evidence, and read as zeros.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<[u64; 2]>,
}

/// How a derivative was made, so a third party can re-run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Derivation {
    /// The policy rule that asked for it (e.g. `video-access`).
    pub rule: String,
    /// Version of the policy the rule belongs to.
    pub policy_version: String,
    /// Whether a re-run with the same versions gives the same bytes. When
    /// false, `details` holds a hash of the decoded content to compare.
    pub deterministic: bool,
    /// Everything else the deriving tool reports (settings, validation,
    /// damaged ranges, per-page results). Integers only, no floats.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// The tool that made an artefact or an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Tool name.
    pub name: String,
    /// Tool version.
    pub version: String,
    /// Versions of libraries that shaped the result (libavcodec, tesseract...).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub libraries: std::collections::BTreeMap<String, String>,
}

impl ToolInfo {
    /// This build of exhibit, with the named component.
    pub fn exhibit(component: &str) -> Self {
        Self {
            name: format!("{}/{component}", crate::TOOL_NAME),
            version: crate::TOOL_VERSION.to_owned(),
            libraries: Default::default(),
        }
    }
}

/// Everything recorded about one artefact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtefactManifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The artefact's ID.
    pub id: ArtefactId,
    /// The case it belongs to.
    pub case: CaseId,
    /// The exhibit it belongs to.
    pub exhibit: ExhibitRef,
    /// Original, extracted or derivative.
    pub kind: ArtefactKind,
    /// Where it was found (originals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
    /// Size in bytes.
    pub size: u64,
    /// Content digests.
    pub digests: Digests,
    /// Media type by content.
    pub media_type: MediaType,
    /// Timestamps of the source.
    pub timestamps: Timestamps,
    /// The artefact it came from, for extracted and derivative artefacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    /// For extracted artefacts: where inside the parent, and in what state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inside: Option<InsideInfo>,
    /// For extracted artefacts kept in place: the base and runs their
    /// content is read from. Absent for content stored as its own object
    /// (and in every manifest written before views existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<crate::view::ViewInfo>,
    /// For derivatives: the rule and settings that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derivation: Option<Derivation>,
    /// Who ran the acquisition.
    pub operator: String,
    /// Which tool made it.
    pub tool: ToolInfo,
    /// Markers such as `needs-review` or `deleted`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_written_before_pronom_still_read_and_write_the_same() {
        let old = r#"{"mime":"image/gif","extension":"gif","detected_by":"infer 0.16"}"#;
        let media: MediaType = serde_json::from_str(old).unwrap();
        assert_eq!((media.pronom.as_ref(), media.extension_mismatch.as_ref()), (None, None));
        assert_eq!(serde_json::to_string(&media).unwrap(), old);
        let new = MediaType {
            pronom: Some(PronomFormat {
                puid: "fmt/4".into(),
                name: "Graphics Interchange Format".into(),
                version: Some("89a".into()),
                also: Vec::new(),
                signatures: "PRONOM v109".into(),
            }),
            ..media
        };
        let back: MediaType = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
    }

    #[test]
    fn invalid_utf8_paths_are_kept_exactly() {
        let raw = b"dir/\xff\xfename";
        let p = RecordedPath::from_bytes(raw);
        assert!(p.bytes_hex.is_some());
        assert_eq!(p.to_bytes(), raw);
        assert_eq!(RecordedPath::from_bytes(b"ok").bytes_hex, None);
    }
}
