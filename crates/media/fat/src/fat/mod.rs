//! FAT12, FAT16 and FAT32: boot sector validation, FAT chains, 8.3 and VFAT
//! long names, and deleted entries (first byte 0xE5) with sleuthkit-style
//! recovery. Timestamps are local time of an unknown zone, recorded as UTC
//! with an attribute saying so.
//!
//! A deleted file keeps `size` = its declared size while its `data` extents
//! cover only `recovery.recoverable_bytes`: read exactly that many bytes (a
//! full read fails at that point, since the rest is gone).

mod bpb;
mod dirent;
mod table;
mod walk;

use std::sync::Arc;

use exhibit_media_core::{FileSystem, FsEntry, Limits, MediaError, ReadAt};

pub use bpb::FatKind;
use dirent::name11;
use table::FatTable;
use walk::Source;

use crate::dirstream::DirStream;
use crate::util::byte;
use crate::walk::WalkState;

/// An opened FAT12/16/32 volume.
pub struct FatFs {
    volume: Arc<dyn ReadAt>,
    bpb: bpb::Bpb,
    table: FatTable,
    label: Option<String>,
}

/// Whether `volume` starts with a plausible FAT boot sector.
pub fn probe_fat(volume: &dyn ReadAt) -> bool {
    let mut jump = [0u8; 3];
    let jumps = volume.read_at(0, &mut jump).is_ok_and(|n| n == 3) && (jump[0] == 0xE9 || jump[0] == 0xEB);
    jumps && bpb::read(volume).is_ok()
}

/// Opens a FAT volume as a [`FileSystem`].
pub fn open_fat(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    Ok(Box::new(FatFs::open(volume, limits)?))
}

impl FatFs {
    /// Validates the boot sector and reads the volume label.
    pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Self, MediaError> {
        let span = tracing::info_span!("fat.open", size = volume.size());
        let _guard = span.enter();
        let bpb = bpb::read(volume.as_ref())?;
        let table = FatTable::new(volume.clone(), &bpb);
        let mut fs = Self { volume, bpb, table, label: None };
        fs.label = fs.root_label(limits).or_else(|| fs.bpb.label.as_deref().map(oem_text));
        tracing::debug!(kind = fs.kind(), label = ?fs.label, "opened FAT volume");
        Ok(fs)
    }

    /// The volume serial number from the extended boot record, if present.
    pub fn volume_id(&self) -> Option<u32> {
        self.bpb.volume_id
    }

    /// FAT12, FAT16 or FAT32.
    pub fn fat_kind(&self) -> FatKind {
        self.bpb.kind
    }

    /// The label entry of the root directory (attribute 0x08), if any.
    fn root_label(&self, limits: &Limits) -> Option<String> {
        let source = match self.bpb.kind {
            FatKind::Fat32 => Source::Chain(self.bpb.root_cluster),
            _ => Source::FixedRoot,
        };
        let mut st = WalkState::new(limits, self.volume.size());
        let mut stream = DirStream::new(self.volume.as_ref(), self.dir_runs(&source, &mut st)?);
        while let Ok(Some((_, slot))) = stream.next_slot() {
            let attr = byte(&slot, 11);
            match slot[0] {
                0 => return None,
                0xE5 => {}
                _ if attr & 0x3F != 0x0F && attr & 0x18 == 0x08 => {
                    return Some(oem_text(&bpb::trim_label(&name11(&slot))));
                }
                _ => {}
            }
        }
        None
    }
}

/// OEM code-page text shown as UTF-8 (bytes outside ASCII become U+FFFD).
fn oem_text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

impl FileSystem for FatFs {
    fn kind(&self) -> &'static str {
        match self.bpb.kind {
            FatKind::Fat12 => "fat12",
            FatKind::Fat16 => "fat16",
            FatKind::Fat32 => "fat32",
        }
    }

    fn label(&self) -> Option<String> {
        self.label.clone()
    }

    fn walk(
        &self,
        limits: &Limits,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let span = tracing::info_span!("fat.walk", kind = self.kind());
        let _guard = span.enter();
        walk::walk(self, WalkState::new(limits, self.volume.size()), visit)
    }

    fn volume(&self) -> Arc<dyn ReadAt> {
        self.volume.clone()
    }

    fn declared_size(&self) -> Option<u64> {
        Some(self.bpb.declared)
    }
}
