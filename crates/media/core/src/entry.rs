//! One entry of a file system: a file, directory, link, device, or an
//! alternate data stream, allocated or deleted.

use std::collections::BTreeMap;

use exhibit_core::manifest::{RecordedPath, Timestamps};
use serde::{Deserialize, Serialize};

/// A path inside an image as raw name components. A component may hold any
/// byte, `/`, `..` and NUL included: names are data, never host paths.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NamePath(pub Vec<Vec<u8>>);

impl NamePath {
    /// The root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with one more component.
    pub fn join(&self, name: &[u8]) -> Self {
        let mut parts = self.0.clone();
        parts.push(name.to_vec());
        Self(parts)
    }

    /// Components from the root.
    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// `/a/b` form; a `/` or `\` inside a component is written `\/` or `\\`
    /// so the form stays unambiguous.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.0 {
            out.push(b'/');
            for &b in part {
                if b == b'/' || b == b'\\' {
                    out.push(b'\\');
                }
                out.push(b);
            }
        }
        if out.is_empty() {
            out.push(b'/');
        }
        out
    }

    /// The lossless recorded form (display text plus exact bytes when the
    /// display is lossy).
    pub fn recorded(&self) -> RecordedPath {
        RecordedPath::from_bytes(&self.to_bytes())
    }

    /// The last component, if any.
    pub fn name(&self) -> Option<&[u8]> {
        self.0.last().map(Vec::as_slice)
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum EntryKind {
    /// A regular file (or one of its named data streams).
    File,
    /// A directory.
    Directory,
    /// A symbolic link, recorded, never followed.
    Symlink {
        /// The target as stored.
        target: Vec<u8>,
    },
    /// A block or character device node (e.g. Rock Ridge `PN`).
    Device {
        /// `block` or `char`.
        class: String,
        /// Major number.
        major: u64,
        /// Minor number.
        minor: u64,
    },
    /// A FIFO, socket or anything else.
    Other {
        /// What the volume calls it.
        what: String,
    },
}

/// A run of a file's bytes on the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    /// Offset within the file.
    pub file_offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// Byte offset on the volume, or `None` for a sparse (all-zero) run.
    pub volume_offset: Option<u64>,
}

/// Where an entry's bytes are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataLayout {
    /// No data (directories, devices, empty files).
    None,
    /// Data stored inside the metadata (NTFS resident, UDF embedded).
    Inline(Vec<u8>),
    /// Runs on the volume, in file order, covering `[0, size)`; gaps or a
    /// short total are an error when read.
    Extents(Vec<Extent>),
}

/// How much of a deleted entry's data could be recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// Bytes whose location is known and which are not reallocated.
    pub recoverable_bytes: u64,
    /// Whether that is the whole declared size.
    pub complete: bool,
}

/// One entry, as the file system records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsEntry {
    /// Path from the volume root.
    pub path: NamePath,
    /// Alternate data stream name (NTFS ADS), when this entry is one.
    pub stream: Option<Vec<u8>>,
    /// What it is.
    pub kind: EntryKind,
    /// Declared size in bytes.
    pub size: u64,
    /// Timestamps; each names the structure it came from (`ntfs.$SI.mtime`).
    pub timestamps: Timestamps,
    /// Attributes as the volume names them (`hidden`, `system`, `mode`...).
    pub attributes: BTreeMap<String, String>,
    /// Whether the entry is still allocated (false: deleted).
    pub allocated: bool,
    /// For deleted entries, how much data is recoverable.
    pub recovery: Option<Recovery>,
    /// Inode, MFT record, directory-entry offset: the volume's own address.
    pub address: Option<u64>,
    /// Where its bytes are.
    pub data: DataLayout,
    /// Why this record's content cannot be read (a looping chain, a size the
    /// volume cannot hold): the entry is still listed, its content is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// How the extents' bytes decode to the file (zisofs, LZNT1): the
    /// extents then cover the stored, encoded stream, and `size` is the
    /// decoded size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<exhibit_core::view::Transform>,
    /// Where the record's data ends although it declares more (a FAT chain
    /// that reaches its end-of-chain mark early): the bytes from here to
    /// `size` are missing, recorded and read as zeros as past the end of a
    /// truncated image. The extents cover the bytes before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_from: Option<u64>,
}

impl FsEntry {
    /// A new allocated entry with no data, timestamps or attributes.
    pub fn new(path: NamePath, kind: EntryKind) -> Self {
        Self {
            path,
            stream: None,
            kind,
            size: 0,
            timestamps: Timestamps::default(),
            attributes: BTreeMap::new(),
            allocated: true,
            recovery: None,
            address: None,
            data: DataLayout::None,
            damage: None,
            transform: None,
            missing_from: None,
        }
    }

    /// Whether its content should be extracted as an artefact.
    pub fn has_content(&self) -> bool {
        matches!(self.kind, EntryKind::File)
            && (self.allocated || self.recovery.is_some_and(|r| r.recoverable_bytes > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_data() {
        let p = NamePath::root().join(b"..").join(b"a/b").join(b"c\0\xff");
        assert_eq!(p.to_bytes(), b"/../a\\/b/c\0\xff");
        let rec = p.recorded();
        assert_eq!(rec.to_bytes(), p.to_bytes());
    }
}
