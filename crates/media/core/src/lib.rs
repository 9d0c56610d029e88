//! What every media reader in exhibit shares.
//!
//! - [`ReadAt`]: positional, thread-safe reads over an image, a partition or
//!   a stored object. Readers never need the whole medium in memory.
//! - [`FileSystem`]: a parsed volume that streams its [`FsEntry`]s to a
//!   visitor, deleted ones included, each with the extents its data occupies.
//! - [`Limits`]: caps every reader enforces against hostile input.
//! - [`MediaError`]: typed errors with a kind, never a panic.
//!
//! Parsers take bytes from hostile media: every length, offset and count read
//! from disk is checked against the medium's size and the limits before it is
//! used for indexing or allocation.

mod adapters;
mod claims;
mod content;
mod entry;
mod error;
mod limits;
mod ranges;

pub use adapters::{ReadOnlyWriter, ReadSeekAt};
pub use claims::ExtentClaims;
pub use content::{ContentReader, open_content};
pub use entry::{DataLayout, EntryKind, Extent, FsEntry, NamePath, Recovery};
pub use error::{MediaError, MediaErrorKind};
pub use exhibit_core::read_at::{BytesAt, FileAt, ReadAt, SliceAt, read_exact_at};
pub use exhibit_core::view::Transform;
pub use limits::Limits;
pub use ranges::{ContentMap, content_map, push_merged};

/// A parsed file system.
pub trait FileSystem: Send + Sync {
    /// Short type name: `iso9660`, `udf`, `fat12`, `fat16`, `fat32`, `exfat`,
    /// `ntfs`, `ext2`...
    fn kind(&self) -> &'static str;

    /// Volume label or identifier, as the volume records it.
    fn label(&self) -> Option<String>;

    /// Streams every entry (allocated and deleted, directories included) to
    /// `visit`, parents before children. Stops at the first error `visit`
    /// returns. A corrupt structure ends the walk with a `Corrupt` error after
    /// the entries read so far were visited: a partial result, clearly marked.
    fn walk(&self, limits: &Limits, visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>)
    -> Result<(), MediaError>;

    /// The medium the extents of this file system's entries refer to.
    fn volume(&self) -> std::sync::Arc<dyn ReadAt>;

    /// Bytes the file system says its volume spans, when it records that.
    /// More than `volume().size()` means the medium is truncated.
    fn declared_size(&self) -> Option<u64> {
        None
    }
}
