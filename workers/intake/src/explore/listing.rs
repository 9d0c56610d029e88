//! The listing of every entry found on an image, written as JSON lines
//! while walking (constant memory) and stored as a derivative artefact.
//! `exhibit listing` renders it as DFXML, CSV or JSON.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};

use exhibit_core::digest::Digests;
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{RecordedPath, Timestamps};
use exhibit_media::{EntryKind, Extent, Recovery};
use serde::{Deserialize, Serialize};

/// Media type of stored listings.
pub const LISTING_MIME: &str = "application/x-exhibit-listing+jsonl";

/// One volume of an explored image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeRow {
    /// Which medium of the artefact it is on (`image`, `media`, `track 01`).
    pub medium: String,
    /// Position among the image's volumes, from 0.
    pub index: u32,
    /// Partition number, absent for an unpartitioned medium.
    pub partition: Option<u32>,
    /// `mbr`, `gpt` or absent.
    pub scheme: Option<String>,
    /// Partition type as the table records it.
    pub partition_type: Option<String>,
    /// Byte offset on the medium.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// File-system type, when one opened.
    pub fs: Option<String>,
    /// Volume label.
    pub label: Option<String>,
    /// Why the volume could not be read, or why its walk ended early.
    pub error: Option<String>,
    /// For a cue sheet's data track: where its sectors are in the `.bin`,
    /// so listings can give offsets in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sectors: Option<Box<TrackSectors>>,
}

/// A data track's place in its `.bin`: user-data byte `i` of the track is
/// byte `start + (i / 2048) * sector_size + user_offset + i % 2048`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackSectors {
    /// The `.bin` file's name, as the cue sheet gives it.
    pub file: String,
    /// Byte of the `.bin` where the track's first sector starts.
    pub start: u64,
    /// Bytes per sector in the `.bin` (2048, 2336 or 2352).
    pub sector_size: u64,
    /// Bytes of each sector before its user data.
    pub user_offset: u64,
}

impl TrackSectors {
    /// Track user-data bytes `[at, at + len)` as runs `(offset in the .bin,
    /// len)`, one per sector, merged where sectors hold no header.
    pub fn bin_runs(&self, at: u64, len: u64) -> Vec<(u64, u64)> {
        const USER: u64 = 2048;
        let mut out: Vec<(u64, u64)> = Vec::new();
        let (mut pos, end) = (at, at.saturating_add(len));
        while pos < end {
            let (sector, within) = (pos / USER, pos % USER);
            let n = (USER - within).min(end - pos);
            let raw = self.start + sector * self.sector_size + self.user_offset + within;
            match out.last_mut() {
                Some(last) if last.0 + last.1 == raw => last.1 += n,
                _ => out.push((raw, n)),
            }
            pos += n;
        }
        out
    }
}

/// One entry of one volume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRow {
    /// The image artefact.
    pub image: ArtefactId,
    /// Index of the volume in the image's `volumes`.
    pub volume: u32,
    /// Path from the volume root.
    pub path: RecordedPath,
    /// Alternate data stream name.
    pub stream: Option<RecordedPath>,
    /// What it is.
    pub kind: EntryKind,
    /// Declared size.
    pub size: u64,
    /// False for deleted entries.
    pub allocated: bool,
    /// For deleted entries, what is recoverable.
    pub recovery: Option<Recovery>,
    /// Timestamps, each naming its structure.
    pub timestamps: Timestamps,
    /// Attributes as the volume names them.
    pub attributes: BTreeMap<String, String>,
    /// Inode, MFT record...
    pub address: Option<u64>,
    /// Where its bytes are, relative to the volume.
    pub extents: Vec<Extent>,
    /// The artefact its content became.
    pub artefact: Option<ArtefactId>,
    /// Digests of its content.
    pub digests: Option<Digests>,
    /// File byte ranges zero-filled over unreadable sectors.
    pub zero_filled: Vec<[u64; 2]>,
    /// File byte ranges the file system marks sparse.
    #[serde(default)]
    pub sparse: Vec<[u64; 2]>,
    /// File byte ranges past the end of a truncated medium.
    #[serde(default)]
    pub missing: Vec<[u64; 2]>,
    /// Why its content was not extracted.
    pub error: Option<String>,
}

/// One line of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "row", rename_all = "kebab-case")]
pub enum ListingLine {
    /// A volume, written before its entries.
    Volume(VolumeRow),
    /// An entry.
    Entry(Box<EntryRow>),
}

/// Writes listing lines to a temporary file.
pub struct ListingWriter {
    out: BufWriter<tempfile::NamedTempFile>,
}

impl ListingWriter {
    /// A writer to a new temporary file.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self { out: BufWriter::new(exhibit_pipeline::scratch_file()?) })
    }

    /// Appends one line.
    pub fn write(&mut self, line: &ListingLine) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, line)?;
        self.out.write_all(b"\n")
    }

    /// Flushes and returns the file, rewound, for storing.
    pub fn finish(self) -> std::io::Result<std::fs::File> {
        use std::io::Seek;
        let temp = self.out.into_inner().map_err(|e| e.into_error())?;
        let mut file = temp.reopen()?;
        file.rewind()?;
        Ok(file)
    }
}
