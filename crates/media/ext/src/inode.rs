//! Inodes: located through their group's descriptor, parsed into the fields
//! exhibit records (mode, owner, size, times, flags, the 60-byte block area).

use exhibit_core::manifest::{SourcedTime, Timestamps};
use exhibit_media_core::{MediaError, ReadAt, read_exact_at};
use time::OffsetDateTime;

use crate::superblock::{RO_COMPAT_HUGE_FILE, Superblock, le32};

/// Inode flag: data mapped by an extent tree.
pub(crate) const FLAG_EXTENTS: u64 = 0x8_0000;
/// Inode flag: data stored in the inode itself.
pub(crate) const FLAG_INLINE_DATA: u64 = 0x1000_0000;

/// One parsed inode.
#[derive(Debug, Clone)]
pub(crate) struct Inode {
    pub number: u64,
    pub mode: u64,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub links: u64,
    pub flags: u64,
    /// 512-byte units (or blocks with huge_file), extended-attribute block included.
    pub blocks: u64,
    pub file_acl: u64,
    pub dtime: u64,
    pub block_area: [u8; 60],
    pub timestamps: Timestamps,
}

fn le16(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 2).map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

/// A timestamp from its 32-bit seconds and optional `_extra` word (epoch
/// bits and nanoseconds), named after its structure.
fn stamp(b: &[u8], secs_at: usize, extra_at: Option<usize>, from: &str) -> Option<SourcedTime> {
    let raw = b.get(secs_at..secs_at + 4)?;
    let secs = i64::from(i32::from_le_bytes(raw.try_into().ok()?));
    let extra = extra_at.map_or(0, |o| le32(b, o));
    let secs = secs + (((extra & 3) as i64) << 32);
    let nanos = i64::try_from(extra >> 2).ok().filter(|n| *n < 1_000_000_000).unwrap_or(0);
    let at = OffsetDateTime::from_unix_timestamp(secs).ok()?;
    let at = at.checked_add(time::Duration::nanoseconds(nanos))?;
    Some(SourcedTime { at, from: from.to_owned() })
}

impl Inode {
    /// Reads inode `number` (1-based).
    pub(crate) fn read(volume: &dyn ReadAt, sb: &Superblock, number: u64) -> Result<Self, MediaError> {
        if number == 0 || number > sb.inodes_count {
            return Err(MediaError::corrupt(format!("ext inode {number} is outside 1..={}", sb.inodes_count)));
        }
        let (group, index) = ((number - 1) / sb.inodes_per_group, (number - 1) % sb.inodes_per_group);
        if group >= sb.groups {
            return Err(MediaError::corrupt(format!("ext inode {number} lies in group {group} of {}", sb.groups)));
        }
        let desc_at = sb.descriptor_offset(group)?;
        let mut desc = [0u8; 64];
        let desc = desc.get_mut(..sb.desc_size.min(64) as usize).unwrap_or_default();
        read_exact_at(volume, desc_at, desc)
            .map_err(|e| MediaError::io(format!("ext group descriptor {group} at byte {desc_at}"), e))?;
        let table = le32(desc, 0x08) | if desc.len() >= 64 { le32(desc, 0x28) << 32 } else { 0 };
        let at = table.checked_mul(sb.block_size).and_then(|t| t.checked_add(index * sb.inode_size));
        let at = at.filter(|_| table < sb.blocks_count).ok_or_else(|| {
            MediaError::corrupt(format!("ext group {group}: inode table at block {table} is outside the volume"))
        })?;
        let mut raw = vec![0u8; sb.inode_size as usize];
        read_exact_at(volume, at, &mut raw)
            .map_err(|e| MediaError::io(format!("ext inode {number} at byte {at}"), e))?;
        Ok(Self::parse(&raw, sb, number))
    }

    fn parse(b: &[u8], sb: &Superblock, number: u64) -> Self {
        let extra_isize = if b.len() > 128 { le16(b, 0x80) } else { 0 };
        let has = |end: usize| (128 + extra_isize) as usize >= end && b.len() >= end;
        let extra = |o: usize| has(o + 4).then_some(o);
        let mode = le16(b, 0x00);
        let is_file = mode & 0xF000 == 0x8000;
        let size = le32(b, 0x04) | if is_file { le32(b, 0x6C) << 32 } else { 0 };
        let huge = sb.ro_compat & RO_COMPAT_HUGE_FILE != 0 && le32(b, 0x20) & 0x4_0000 != 0;
        let blocks = (le32(b, 0x1C) | le16(b, 0x74) << 32) * if huge { sb.block_size / 512 } else { 1 };
        let mut block_area = [0u8; 60];
        block_area.copy_from_slice(b.get(0x28..0x64).unwrap_or(&[0; 60]));
        let timestamps = Timestamps {
            accessed: stamp(b, 0x08, extra(0x8C), "ext.inode.atime"),
            changed: stamp(b, 0x0C, extra(0x84), "ext.inode.ctime"),
            modified: stamp(b, 0x10, extra(0x88), "ext.inode.mtime"),
            created: if has(0x94) { stamp(b, 0x90, extra(0x94), "ext.inode.crtime") } else { None },
        };
        Self {
            number,
            mode,
            uid: le16(b, 0x02) | le16(b, 0x78) << 16,
            gid: le16(b, 0x18) | le16(b, 0x7A) << 16,
            size,
            links: le16(b, 0x1A),
            flags: le32(b, 0x20),
            blocks,
            file_acl: le32(b, 0x68) | le16(b, 0x76) << 32,
            dtime: le32(b, 0x14),
            block_area,
            timestamps,
        }
    }

    /// The file type bits of the mode (`0o170000` mask).
    pub(crate) fn file_type(&self) -> u64 {
        self.mode & 0xF000
    }

    /// A symlink whose target is stored in the block area.
    pub(crate) fn is_fast_symlink(&self, sb: &Superblock) -> bool {
        let acl_blocks = if self.file_acl != 0 { sb.block_size / 512 } else { 0 };
        self.flags & FLAG_INLINE_DATA == 0 && self.size < 60 && self.blocks.saturating_sub(acl_blocks) == 0
    }

    /// Major and minor numbers of a device node (old or new encoding).
    pub(crate) fn device(&self) -> (u64, u64) {
        let old = le32(&self.block_area, 0);
        if old != 0 {
            return ((old >> 8) & 0xFF, old & 0xFF);
        }
        let new = le32(&self.block_area, 4);
        ((new & 0xF_FF00) >> 8, (new & 0xFF) | ((new >> 12) & 0xF_FF00))
    }
}
