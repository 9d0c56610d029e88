//! exFAT: boot region checks (name, checksum sector), the FAT and the
//! allocation bitmap, directory entry sets with verified checksums,
//! NoFatChain (contiguous) files, valid data length (the rest reads as
//! zeros), timestamps shifted to UTC by their offset fields, and deleted
//! entry sets recovered as contiguous runs of clusters still free in the
//! bitmap. As with FAT, a deleted file's extents cover only
//! `recovery.recoverable_bytes` of its declared `size`.

mod boot;
mod entries;
mod walk;

use std::sync::Arc;

use exhibit_media_core::{FileSystem, FsEntry, Limits, MediaError, ReadAt};

use crate::cache::BlockCache;
use crate::chain::{self, Link};
use crate::dirstream::DirStream;
use crate::util::{byte, div_ceil, le32, le64, utf16_bytes};

/// An exFAT directory may hold at most 256 MiB.
const MAX_DIR_BYTES: u64 = 256 << 20;
/// Slots of the root scanned at open for the bitmap and label entries.
const ROOT_SCAN_SLOTS: u32 = 4096;

/// An opened exFAT volume.
pub struct ExfatFs {
    volume: Arc<dyn ReadAt>,
    boot: boot::Boot,
    fat: BlockCache,
    bitmap: Vec<(u64, u64)>,
    bitmap_cache: BlockCache,
    label: Option<String>,
}

/// Whether `volume` starts with an exFAT boot sector name.
pub fn probe_exfat(volume: &dyn ReadAt) -> bool {
    boot::signature(volume)
}

/// Opens an exFAT volume as a [`FileSystem`].
pub fn open_exfat(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    Ok(Box::new(ExfatFs::open(volume, limits)?))
}

impl ExfatFs {
    /// Validates the boot region and finds the bitmap and label in the root.
    pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Self, MediaError> {
        let span = tracing::info_span!("exfat.open", size = volume.size());
        let _guard = span.enter();
        let boot = boot::read(volume.as_ref(), limits)?;
        let mut fs = Self {
            volume,
            boot,
            fat: BlockCache::new(),
            bitmap: Vec::new(),
            bitmap_cache: BlockCache::new(),
            label: None,
        };
        fs.scan_root(limits)?;
        tracing::debug!(label = ?fs.label, "opened exFAT volume");
        Ok(fs)
    }

    /// The volume serial number.
    pub fn volume_id(&self) -> u32 {
        self.boot.serial
    }

    fn scan_root(&mut self, limits: &Limits) -> Result<(), MediaError> {
        let geo = self.boot.geo;
        let max = div_ceil(MAX_DIR_BYTES, geo.cluster_size);
        let (runs, _) =
            chain::follow(&geo, self.boot.root_cluster, max, limits, "exFAT root directory", &|c| self.link(c))
                .map_err(|(_, e)| e)?;
        let mut stream = DirStream::new(self.volume.as_ref(), chain::byte_runs(&geo, &runs));
        let mut bitmap = None;
        for _ in 0..ROOT_SCAN_SLOTS {
            let Some((_, slot)) = stream.next_slot()? else { break };
            match slot[0] {
                0 => break,
                0x81 if bitmap.is_none() => bitmap = Some((le32(&slot, 20), le64(&slot, 24))),
                0x83 => {
                    // The spec caps labels at 11 characters; the slot holds 15 and some
                    // tools use them all.
                    let count = usize::from(byte(&slot, 1).min(15));
                    let units: Vec<u16> = (0..count).map(|k| crate::util::le16(&slot, 2 + 2 * k)).collect();
                    self.label = Some(String::from_utf8_lossy(&utf16_bytes(&units)).into_owned());
                }
                _ => {}
            }
        }
        match bitmap {
            Some((first, len)) => self.bitmap = self.bitmap_runs(first, len, limits)?,
            None => tracing::warn!("exFAT root has no allocation bitmap entry; deleted files cannot be recovered"),
        }
        Ok(())
    }

    fn bitmap_runs(&self, first: u32, len: u64, limits: &Limits) -> Result<Vec<(u64, u64)>, MediaError> {
        let geo = self.boot.geo;
        if len < div_ceil(geo.count(), 8) || len > geo.count() * geo.cluster_size {
            return Err(MediaError::corrupt(format!(
                "exFAT allocation bitmap of {len} bytes does not fit {} clusters",
                geo.count()
            )));
        }
        let needed = div_ceil(len, geo.cluster_size);
        let (runs, _) = chain::follow(&geo, first, needed, limits, "exFAT allocation bitmap", &|c| self.link(c))
            .or_else(|_| {
                Ok::<_, MediaError>((vec![(first, u32::try_from(needed).unwrap_or(0))], chain::Ended::Full))
            })?;
        Ok(chain::byte_runs(&geo, &runs))
    }

    /// What the FAT says follows cluster `c`.
    pub(crate) fn link(&self, c: u32) -> Result<Link, MediaError> {
        let at = self.boot.fat_offset + u64::from(c) * 4;
        let mut v = 0u32;
        for k in 0..4 {
            v |= u32::from(self.fat.byte(self.volume.as_ref(), at + k, "exFAT FAT entry")?) << (8 * k);
        }
        Ok(match v {
            0xFFFF_FFFF => Link::End,
            v if self.boot.geo.valid(v) => Link::Next(v),
            v => Link::Broken(v),
        })
    }

    /// Whether the allocation bitmap marks cluster `c` free (false when the
    /// bitmap is missing: nothing is assumed recoverable).
    pub(crate) fn is_free(&self, c: u32) -> Result<bool, MediaError> {
        let index = u64::from(c.saturating_sub(2));
        let mut byte_at = index / 8;
        for &(offset, len) in &self.bitmap {
            if byte_at < len {
                let b = self.bitmap_cache.byte(self.volume.as_ref(), offset + byte_at, "exFAT allocation bitmap")?;
                return Ok(b & (1 << (index % 8)) == 0);
            }
            byte_at -= len;
        }
        Ok(false)
    }
}

impl FileSystem for ExfatFs {
    fn kind(&self) -> &'static str {
        "exfat"
    }

    fn label(&self) -> Option<String> {
        self.label.clone()
    }

    fn walk(
        &self,
        limits: &Limits,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let span = tracing::info_span!("exfat.walk");
        let _guard = span.enter();
        walk::walk(self, crate::walk::WalkState::new(limits, self.volume.size()), visit)
    }

    fn volume(&self) -> Arc<dyn ReadAt> {
        self.volume.clone()
    }

    fn declared_size(&self) -> Option<u64> {
        Some(self.boot.declared)
    }
}
