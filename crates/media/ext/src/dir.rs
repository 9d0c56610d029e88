//! Directory blocks: linear `ext2_dir_entry` records. Hash-tree (dir_index)
//! directories read the same way: their index nodes hide inside records
//! with inode 0, which are skipped, as are `.`, `..` and checksum tails.

use exhibit_media_core::{Extent, Limits, MediaError, ReadAt, read_exact_at};

use crate::superblock::{INCOMPAT_FILETYPE, Superblock, le32};

/// One name in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirEntry {
    pub inode: u64,
    pub name: Vec<u8>,
    /// Where the record is, for messages.
    pub offset: u64,
}

/// Reads the entries of a directory whose data is `extents`, one block at a
/// time. Stops at `limits.max_dir_entries`.
pub(crate) fn read_entries(
    volume: &dyn ReadAt,
    sb: &Superblock,
    extents: &[Extent],
    limits: &Limits,
) -> Result<Vec<DirEntry>, MediaError> {
    let mut out = Vec::new();
    let mut block = vec![0u8; sb.block_size as usize];
    for extent in extents {
        let Some(base) = extent.volume_offset else { continue };
        let mut within = 0;
        while within < extent.len {
            let at = base + within;
            read_exact_at(volume, at, &mut block)
                .map_err(|e| MediaError::io(format!("ext directory block at byte {at}"), e))?;
            parse_block(&block, at, sb, &mut out)?;
            if out.len() as u64 > limits.max_dir_entries {
                return Err(MediaError::limit(format!(
                    "ext directory at byte {base} holds over {} entries (limits.max_dir_entries)",
                    limits.max_dir_entries
                )));
            }
            within += sb.block_size;
        }
    }
    Ok(out)
}

fn parse_block(block: &[u8], at: u64, sb: &Superblock, out: &mut Vec<DirEntry>) -> Result<(), MediaError> {
    let typed = sb.incompat & INCOMPAT_FILETYPE != 0;
    let mut pos = 0usize;
    while pos + 8 <= block.len() {
        let offset = at + pos as u64;
        let inode = le32(block, pos);
        let rec_len = (le32(block, pos + 4) & 0xFFFF) as usize;
        let name_len = if typed { le32(block, pos + 4) >> 16 & 0xFF } else { le32(block, pos + 4) >> 16 } as usize;
        if rec_len < 8 || rec_len % 4 != 0 || pos + rec_len > block.len() || 8 + name_len > rec_len {
            return Err(MediaError::corrupt(format!(
                "ext directory record at byte {offset}: length {rec_len} (name {name_len}) does not fit its block"
            )));
        }
        let name = block.get(pos + 8..pos + 8 + name_len).unwrap_or_default();
        if inode != 0 && name != b"." && name != b".." {
            out.push(DirEntry { inode, name: name.to_vec(), offset });
        }
        pos += rec_len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(inode: u32, rec_len: u16, name: &[u8]) -> Vec<u8> {
        let mut r = inode.to_le_bytes().to_vec();
        r.extend(rec_len.to_le_bytes());
        r.extend([name.len() as u8, 1]);
        r.extend(name);
        r.resize(usize::from(rec_len), 0);
        r
    }

    #[test]
    fn records_parse_and_bad_lengths_are_corrupt() {
        let sb = crate::superblock::tests_support::tiny();
        let mut block = record(2, 12, b".");
        block.extend(record(2, 12, b".."));
        block.extend(record(12, 16, b"a/\xff"));
        block.extend(record(0, 1024 - 40, b""));
        let mut out = Vec::new();
        parse_block(&block, 0, &sb, &mut out).unwrap();
        assert_eq!(out, [DirEntry { inode: 12, name: b"a/\xff".to_vec(), offset: 24 }]);
        block[28] = 0; // rec_len 0 must not loop
        block[29] = 0;
        assert!(parse_block(&block, 0, &sb, &mut Vec::new()).is_err());
    }
}
