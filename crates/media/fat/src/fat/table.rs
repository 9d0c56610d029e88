//! FAT entry lookups (12-, 16- and 28-bit), read through a block cache.

use std::sync::Arc;

use exhibit_media_core::{MediaError, ReadAt};

use super::bpb::{Bpb, FatKind};
use crate::cache::BlockCache;
use crate::chain::Link;

/// The FAT in use.
pub(crate) struct FatTable {
    vol: Arc<dyn ReadAt>,
    kind: FatKind,
    offset: u64,
    cache: BlockCache,
}

impl FatTable {
    /// The active FAT of `bpb` on `vol`.
    pub(crate) fn new(vol: Arc<dyn ReadAt>, bpb: &Bpb) -> Self {
        Self { vol, kind: bpb.kind, offset: bpb.fat_offset, cache: BlockCache::new() }
    }

    /// The raw entry for cluster `c`.
    pub(crate) fn entry(&self, c: u32) -> Result<u32, MediaError> {
        let c64 = u64::from(c);
        let at = |i: u64| self.cache.byte(self.vol.as_ref(), self.offset + i, "FAT entry").map(u32::from);
        match self.kind {
            FatKind::Fat12 => {
                let i = c64 + c64 / 2;
                let v = at(i)? | (at(i + 1)? << 8);
                Ok(if c & 1 == 1 { v >> 4 } else { v & 0x0FFF })
            }
            FatKind::Fat16 => Ok(at(c64 * 2)? | (at(c64 * 2 + 1)? << 8)),
            FatKind::Fat32 => {
                let i = c64 * 4;
                Ok((at(i)? | (at(i + 1)? << 8) | (at(i + 2)? << 16) | (at(i + 3)? << 24)) & 0x0FFF_FFFF)
            }
        }
    }

    /// What follows cluster `c`.
    pub(crate) fn link(&self, c: u32) -> Result<Link, MediaError> {
        let v = self.entry(c)?;
        let eoc = match self.kind {
            FatKind::Fat12 => 0x0FF8,
            FatKind::Fat16 => 0xFFF8,
            FatKind::Fat32 => 0x0FFF_FFF8,
        };
        Ok(match v {
            0 | 1 => Link::Broken(v),
            v if v >= eoc => Link::End,
            v if v >= eoc - 1 => Link::Broken(v),
            v => Link::Next(v),
        })
    }

    /// Whether cluster `c` is free.
    pub(crate) fn is_free(&self, c: u32) -> Result<bool, MediaError> {
        Ok(self.entry(c)? == 0)
    }
}
