//! Where an inode's bytes are: its extent tree (ext4) or its direct and
//! indirect block pointers (ext2/3), turned into byte [`Extent`]s in file
//! order covering exactly `[0, size)`, holes as sparse runs.
//!
//! Hostile trees are bounded: a tree node or indirect block is read at most
//! once (a repeat is Corrupt), depth is capped, and the extent list is
//! allocation-checked as it grows.

use std::collections::HashSet;

use exhibit_media_core::{Extent, Limits, MediaError, ReadAt, read_exact_at};

use crate::inode::{FLAG_EXTENTS, Inode};
use crate::superblock::{Superblock, le32};

const EXTENT_MAGIC: u64 = 0xF30A;
const MAX_TREE_DEPTH: u64 = 5;

/// Collects runs of file blocks, merging neighbours and filling holes.
struct Runs<'a> {
    sb: &'a Superblock,
    limits: &'a Limits,
    number: u64,
    file_blocks: u64,
    /// (first file block, block count, first volume block or None for a hole).
    runs: Vec<(u64, u64, Option<u64>)>,
    seen: HashSet<u64>,
}

impl Runs<'_> {
    fn corrupt(&self, what: impl std::fmt::Display) -> MediaError {
        MediaError::corrupt(format!("ext inode {}: {what}", self.number))
    }

    /// Marks a metadata block as read; a second visit means a cycle or a shared node.
    fn visit(&mut self, block: u64) -> Result<u64, MediaError> {
        if block == 0 || block >= self.sb.blocks_count || !self.seen.insert(block) {
            return Err(self.corrupt(format!("map block {block} is out of range or referenced twice")));
        }
        Ok(block * self.sb.block_size)
    }

    fn push(&mut self, file_block: u64, count: u64, volume_block: Option<u64>) -> Result<(), MediaError> {
        let next = self.runs.last().map_or(0, |&(f, c, _)| f + c);
        if file_block < next {
            return Err(self.corrupt(format!("file block {file_block} is mapped twice or out of order")));
        }
        let count = count.min(self.file_blocks.saturating_sub(file_block));
        if count == 0 {
            return Ok(());
        }
        if let Some(v) = volume_block
            && v.checked_add(count).is_none_or(|end| end > self.sb.blocks_count)
        {
            return Err(self.corrupt(format!("blocks {v}+{count} lie outside the volume")));
        }
        if file_block > next {
            self.append(next, file_block - next, None)?;
        }
        self.append(file_block, count, volume_block)
    }

    fn append(&mut self, file_block: u64, count: u64, volume_block: Option<u64>) -> Result<(), MediaError> {
        if let Some(last) = self.runs.last_mut() {
            let contiguous = match (last.2, volume_block) {
                (None, None) => true,
                (Some(a), Some(b)) => a + last.1 == b,
                _ => false,
            };
            if contiguous {
                last.1 += count;
                return Ok(());
            }
        }
        let bytes = (self.runs.len() as u64 + 1) * std::mem::size_of::<Extent>() as u64;
        self.limits.check_alloc(bytes, "ext extent list")?;
        self.runs.push((file_block, count, volume_block));
        Ok(())
    }

    /// Walks an extent tree node; `node` holds its header and entries.
    fn extent_node(&mut self, volume: &dyn ReadAt, node: &[u8], depth: u64) -> Result<(), MediaError> {
        let entries = le32(node, 0) >> 16 & 0xFFFF;
        if le32(node, 0) & 0xFFFF != EXTENT_MAGIC || le32(node, 4) >> 16 != depth || depth > MAX_TREE_DEPTH {
            return Err(self.corrupt("extent node header (magic or depth) is wrong"));
        }
        for i in 0..entries as usize {
            let e =
                node.get(12 + 12 * i..24 + 12 * i).ok_or_else(|| self.corrupt("extent entries overrun their node"))?;
            if depth == 0 {
                let (file_block, raw_len) = (le32(e, 0), le32(e, 4) & 0xFFFF);
                let start = (le32(e, 4) >> 16) << 32 | le32(e, 8);
                let (len, written) = if raw_len > 32768 { (raw_len - 32768, false) } else { (raw_len, true) };
                self.push(file_block, len, written.then_some(start))?;
            } else {
                let child = le32(e, 4) | (le32(e, 8) & 0xFFFF) << 32;
                let at = self.visit(child)?;
                let mut buf = vec![0u8; self.sb.block_size as usize];
                read_exact_at(volume, at, &mut buf)
                    .map_err(|err| MediaError::io(format!("ext extent node at byte {at}"), err))?;
                self.extent_node(volume, &buf, depth - 1)?;
            }
        }
        Ok(())
    }

    /// Maps the blocks under an indirect pointer at `level` (0 = data block).
    fn indirect(&mut self, volume: &dyn ReadAt, ptr: u64, first: u64, level: u32) -> Result<(), MediaError> {
        let per = self.sb.block_size / 4;
        if first >= self.file_blocks || ptr == 0 {
            return Ok(()); // beyond the end, or a hole filled in by `push`/`finish`
        }
        if level == 0 {
            return self.push(first, 1, Some(ptr));
        }
        let span = per.pow(level - 1); // file blocks under each child pointer
        let at = self.visit(ptr)?;
        let mut buf = vec![0u8; self.sb.block_size as usize];
        read_exact_at(volume, at, &mut buf)
            .map_err(|e| MediaError::io(format!("ext indirect block at byte {at}"), e))?;
        for i in 0..per {
            let child = le32(&buf, (i * 4) as usize);
            self.indirect(volume, child, first + i * span, level - 1)?;
        }
        Ok(())
    }

    fn finish(mut self, size: u64) -> Result<Vec<Extent>, MediaError> {
        let end = self.runs.last().map_or(0, |&(f, c, _)| f + c);
        if end < self.file_blocks {
            self.append(end, self.file_blocks - end, None)?;
        }
        let bs = self.sb.block_size;
        let extents = self.runs.iter().map(|&(f, c, v)| {
            let file_offset = f * bs;
            Extent { file_offset, len: c.saturating_mul(bs).min(size - file_offset), volume_offset: v.map(|v| v * bs) }
        });
        Ok(extents.collect())
    }
}

/// The byte extents of `inode`'s `size` bytes of data.
pub(crate) fn extents(
    volume: &dyn ReadAt,
    sb: &Superblock,
    inode: &Inode,
    limits: &Limits,
) -> Result<Vec<Extent>, MediaError> {
    let file_blocks = inode.size.div_ceil(sb.block_size);
    let mut runs = Runs { sb, limits, number: inode.number, file_blocks, runs: Vec::new(), seen: HashSet::new() };
    if inode.flags & FLAG_EXTENTS != 0 {
        runs.extent_node(volume, &inode.block_area, le32(&inode.block_area, 4) >> 16)?;
    } else {
        let ptr = |i: usize| le32(&inode.block_area, i * 4);
        for i in 0..12u64 {
            runs.indirect(volume, ptr(i as usize), i, 0)?;
        }
        let per = sb.block_size / 4;
        let (single, double) = (12 + per, 12 + per + per * per);
        runs.indirect(volume, ptr(12), 12, 1)?;
        runs.indirect(volume, ptr(13), single, 2)?;
        runs.indirect(volume, ptr(14), double, 3)?;
    }
    runs.finish(inode.size)
}
