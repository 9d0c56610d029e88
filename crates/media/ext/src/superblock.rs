//! The superblock (1024 bytes at byte 1024): geometry, features, label.
//! Every field the reader later multiplies or indexes with is checked here.

use exhibit_media_core::{MediaError, ReadAt, read_exact_at};

/// Byte offset of the superblock.
pub(crate) const OFFSET: u64 = 1024;
const MAGIC: u16 = 0xEF53;

const COMPAT_HAS_JOURNAL: u32 = 0x4;
const INCOMPAT_COMPRESSION: u32 = 0x1;
pub(crate) const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_EXT4: u32 = 0x40 | 0x80 | 0x200 | 0x8000 | 0x2000 | 0x4000; // extents 64bit flex_bg inline csum_seed largedir
const INCOMPAT_64BIT: u32 = 0x80;
const RO_COMPAT_EXT4: u32 = 0x8 | 0x10 | 0x20 | 0x40 | 0x400; // huge_file gdt_csum dir_nlink extra_isize metadata_csum
pub(crate) const RO_COMPAT_HUGE_FILE: u32 = 0x8;

/// The geometry and features the reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Superblock {
    pub block_size: u64,
    pub blocks_count: u64,
    pub first_data_block: u64,
    pub blocks_per_group: u64,
    pub inodes_per_group: u64,
    pub inodes_count: u64,
    pub inode_size: u64,
    pub desc_size: u64,
    pub groups: u64,
    pub first_meta_bg: u64,
    pub compat: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub label: Vec<u8>,
}

fn le16(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 2).map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

pub(crate) fn le32(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 4).and_then(|s| s.try_into().ok()).map_or(0, |a| u64::from(u32::from_le_bytes(a)))
}

fn corrupt(what: impl std::fmt::Display) -> MediaError {
    MediaError::corrupt(format!("ext superblock at byte {OFFSET}: {what}"))
}

/// Whether `volume` has the ext magic at byte 1080.
pub(crate) fn has_magic(volume: &dyn ReadAt) -> bool {
    let mut m = [0u8; 2];
    read_exact_at(volume, OFFSET + 0x38, &mut m).is_ok() && u16::from_le_bytes(m) == MAGIC
}

impl Superblock {
    /// Reads and validates the superblock.
    pub(crate) fn read(volume: &dyn ReadAt) -> Result<Self, MediaError> {
        let mut b = vec![0u8; 1024];
        read_exact_at(volume, OFFSET, &mut b).map_err(|e| MediaError::io("ext superblock at byte 1024", e))?;
        if le16(&b, 0x38) != u64::from(MAGIC) {
            return Err(MediaError::not_recognised("no ext magic 0xEF53 at byte 1080"));
        }
        let log = le32(&b, 0x18);
        if log > 6 {
            return Err(corrupt(format!("block size 1024 << {log} is over 64 KiB")));
        }
        let block_size = 1024u64 << log;
        let incompat = le32(&b, 0x60) as u32;
        let wide = incompat & INCOMPAT_64BIT != 0;
        let blocks_count = le32(&b, 0x04) | if wide { le32(&b, 0x150) << 32 } else { 0 };
        let rev = le32(&b, 0x4C);
        let inode_size = if rev == 0 { 128 } else { le16(&b, 0x58) };
        let desc_size = if wide { le16(&b, 0xFE) } else { 32 };
        let mut sb = Self {
            block_size,
            blocks_count,
            first_data_block: le32(&b, 0x14),
            blocks_per_group: le32(&b, 0x20),
            inodes_per_group: le32(&b, 0x28),
            inodes_count: le32(&b, 0x00),
            inode_size,
            desc_size,
            groups: 0,
            first_meta_bg: le32(&b, 0x104),
            compat: le32(&b, 0x5C) as u32,
            incompat,
            ro_compat: le32(&b, 0x64) as u32,
            label: b.get(0x78..0x88).unwrap_or_default().split(|&c| c == 0).next().unwrap_or_default().to_vec(),
        };
        sb.validate(volume.size())?;
        Ok(sb)
    }

    fn validate(&mut self, volume_size: u64) -> Result<(), MediaError> {
        let bits = self.block_size * 8;
        if self.blocks_per_group == 0 || self.blocks_per_group > bits {
            return Err(corrupt(format!("blocks per group {} is not 1..={bits}", self.blocks_per_group)));
        }
        if self.inodes_per_group == 0 || self.inodes_per_group > bits || self.inodes_count < 2 {
            return Err(corrupt(format!("inodes per group {} / count {}", self.inodes_per_group, self.inodes_count)));
        }
        if !self.inode_size.is_power_of_two() || self.inode_size < 128 || self.inode_size > self.block_size {
            return Err(corrupt(format!("inode size {} is not a power of two in 128..=block size", self.inode_size)));
        }
        if self.desc_size < 32 || self.desc_size > 1024 || !self.desc_size.is_power_of_two() {
            return Err(corrupt(format!("group descriptor size {} is not 32..=1024", self.desc_size)));
        }
        if self.first_data_block >= self.blocks_count || self.first_data_block > 1 {
            return Err(corrupt(format!("first data block {} of {}", self.first_data_block, self.blocks_count)));
        }
        if self.incompat & (INCOMPAT_COMPRESSION | INCOMPAT_JOURNAL_DEV) != 0 {
            return Err(MediaError::unsupported(format!(
                "ext superblock at byte {OFFSET}: compression or external-journal device (incompat 0x{:x})",
                self.incompat
            )));
        }
        if self.blocks_count.checked_mul(self.block_size).is_none() {
            return Err(corrupt(format!(
                "{} blocks of {} bytes overflow a 64-bit size",
                self.blocks_count, self.block_size
            )));
        }
        self.groups = (self.blocks_count - self.first_data_block).div_ceil(self.blocks_per_group);
        if self.blocks_count.saturating_mul(self.block_size) > volume_size {
            tracing::warn!(blocks = self.blocks_count, volume_size, "ext volume is larger than the image: truncated?");
        }
        Ok(())
    }

    /// `ext2`, `ext3` or `ext4`, from the feature flags.
    pub(crate) fn kind(&self) -> &'static str {
        if self.incompat & INCOMPAT_EXT4 != 0 || self.ro_compat & RO_COMPAT_EXT4 != 0 {
            "ext4"
        } else if self.compat & COMPAT_HAS_JOURNAL != 0 {
            "ext3"
        } else {
            "ext2"
        }
    }

    /// Byte offset of group `g`'s descriptor.
    pub(crate) fn descriptor_offset(&self, g: u64) -> Result<u64, MediaError> {
        let per_block = self.block_size / self.desc_size;
        let table = self.first_data_block + 1;
        if self.incompat & INCOMPAT_META_BG != 0 && g / per_block >= self.first_meta_bg {
            return Err(MediaError::unsupported(format!("ext group {g}: meta_bg descriptor placement")));
        }
        Ok((table * self.block_size).saturating_add(g.saturating_mul(self.desc_size)))
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::Superblock;

    /// A valid 8-block, 1 KiB-block superblock with the given features.
    pub(crate) fn with(compat: u32, incompat: u32, ro_compat: u32) -> Superblock {
        let mut s = Superblock {
            block_size: 1024,
            blocks_count: 8,
            first_data_block: 1,
            blocks_per_group: 8,
            inodes_per_group: 8,
            inodes_count: 8,
            inode_size: 128,
            desc_size: 32,
            groups: 1,
            first_meta_bg: 0,
            compat,
            incompat,
            ro_compat,
            label: Vec::new(),
        };
        s.validate(8192).expect("valid test superblock");
        s
    }

    /// ext2 with typed directory entries.
    pub(crate) fn tiny() -> Superblock {
        with(0, super::INCOMPAT_FILETYPE, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::with as sb;
    use super::*;

    #[test]
    fn kind_follows_features() {
        assert_eq!(sb(0, INCOMPAT_FILETYPE, 0x2).kind(), "ext2");
        assert_eq!(sb(COMPAT_HAS_JOURNAL, INCOMPAT_FILETYPE, 0).kind(), "ext3");
        assert_eq!(sb(COMPAT_HAS_JOURNAL, 0x40, 0).kind(), "ext4");
        assert_eq!(sb(0, 0, 0x400).kind(), "ext4");
    }
}
