//! ext2, ext3 and ext4 volumes, read-only: this crate owns the superblock,
//! group descriptors, inodes, extent trees and indirect block maps, and
//! directory records, and turns them into exhibit's [`FsEntry`]s with each
//! regular file's data as byte extents on the volume, so content streams
//! through [`exhibit_media_core::open_content`] in constant memory.
//!
//! ```no_run
//! use std::sync::Arc;
//! use exhibit_media_core::{FileAt, Limits, ReadAt};
//!
//! let volume: Arc<dyn ReadAt> = Arc::new(FileAt::open("ext2.img".as_ref()).unwrap());
//! if exhibit_media_ext::probe(&*volume) {
//!     let fs = exhibit_media_ext::open(volume, &Limits::default()).unwrap();
//!     fs.walk(&Limits::default(), &mut |e| Ok(println!("{:?} {}", e.path.recorded(), e.size))).unwrap();
//! }
//! ```
//!
//! The journal is not replayed: the volume is read as it lies on the medium
//! (as sleuthkit does). Deleted entries are not recovered. Hand-written
//! rather than on `ext4-view`, whose public API hides inode numbers, ctime,
//! device numbers and block maps, and whose handle is `!Send` (it is used in
//! the tests as an independent check of file content).

mod blocks;
mod dir;
mod inode;
mod superblock;
mod walk;

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, open_content};

use crate::inode::Inode;
use crate::superblock::Superblock;

/// An opened ext2/3/4 volume.
pub struct ExtFs {
    volume: Arc<dyn ReadAt>,
    sb: Superblock,
}

/// Whether `volume` has the ext superblock magic 0xEF53 at byte 1080.
pub fn probe(volume: &dyn ReadAt) -> bool {
    superblock::has_magic(volume)
}

/// Opens an ext2/3/4 volume.
pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    Ok(Box::new(open_ext(volume, limits)?))
}

/// Opens and returns the concrete type.
pub fn open_ext(volume: Arc<dyn ReadAt>, _limits: &Limits) -> Result<ExtFs, MediaError> {
    let span = tracing::info_span!("ext.open", size = volume.size());
    let _enter = span.enter();
    let sb = Superblock::read(&*volume)?;
    let root = Inode::read(&*volume, &sb, 2)?;
    if root.file_type() != 0x4000 {
        return Err(MediaError::corrupt("ext root inode 2 is not a directory"));
    }
    tracing::debug!(kind = sb.kind(), block_size = sb.block_size, blocks = sb.blocks_count, "ext volume opened");
    Ok(ExtFs { volume, sb })
}

impl ExtFs {
    /// The block size in bytes.
    pub fn block_size(&self) -> u64 {
        self.sb.block_size
    }
}

impl FileSystem for ExtFs {
    fn kind(&self) -> &'static str {
        self.sb.kind()
    }

    fn label(&self) -> Option<String> {
        (!self.sb.label.is_empty()).then(|| String::from_utf8_lossy(&self.sb.label).into_owned())
    }

    fn walk(
        &self,
        limits: &Limits,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let _span = tracing::info_span!("ext.walk", kind = self.sb.kind()).entered();
        walk::Walker::new(&*self.volume, &self.sb, limits).run(visit)
    }

    fn volume(&self) -> Arc<dyn ReadAt> {
        self.volume.clone()
    }

    fn declared_size(&self) -> Option<u64> {
        self.sb.blocks_count.checked_mul(self.sb.block_size)
    }
}

/// Fuzzing entry: opens `data` as ext, walks it and reads every file's content.
pub fn fuzz_one(data: &[u8]) {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let limits = Limits { max_alloc: 16 << 20, max_entries: 100_000, ..Limits::default() };
    let Ok(fs) = open(volume.clone(), &limits) else { return };
    let mut sink = std::io::sink();
    let _ = fs.walk(&limits, &mut |entry| {
        if entry.has_content() {
            let _ = std::io::copy(&mut open_content(volume.clone(), &entry).take(64 << 20), &mut sink);
        }
        Ok(())
    });
}
