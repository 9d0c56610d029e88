//! Directory blocks: linear `ext2_dir_entry` records. Hash-tree (dir_index)
//! directories read the same way: their index nodes hide inside records
//! with inode 0, which are skipped, as are `.`, `..` and checksum tails.
//!
//! Deleting a name merges its record into the one before it, so the name
//! stays in that record's slack until it is overwritten. Records that still
//! parse there are returned as deleted names, as sleuthkit's `fls` lists them.

use exhibit_media_core::{Extent, Limits, MediaError, ReadAt, read_exact_at};

use crate::superblock::{INCOMPAT_FILETYPE, Superblock, le32};

/// One name in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DirEntry {
    pub inode: u64,
    pub name: Vec<u8>,
    /// Where the record is, for messages.
    pub offset: u64,
    /// Found in the slack of another record: a deleted name.
    pub deleted: bool,
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
            out.push(DirEntry { inode, name: name.to_vec(), offset, deleted: false });
        }
        let used = (8 + name_len).next_multiple_of(4);
        deleted_in_slack(block.get(pos + used..pos + rec_len).unwrap_or_default(), offset + used as u64, sb, out);
        pos += rec_len;
    }
    Ok(())
}

/// Records that still parse in `slack` (the unused tail of a live record,
/// at volume byte `at`): names deleted from this directory.
fn deleted_in_slack(slack: &[u8], at: u64, sb: &Superblock, out: &mut Vec<DirEntry>) {
    let typed = sb.incompat & INCOMPAT_FILETYPE != 0;
    let mut pos = 0usize;
    while pos + 8 <= slack.len() {
        let inode = le32(slack, pos);
        let rec_len = (le32(slack, pos + 4) & 0xFFFF) as usize;
        let (name_len, file_type) = if typed {
            ((le32(slack, pos + 4) >> 16 & 0xFF) as usize, le32(slack, pos + 4) >> 24)
        } else {
            ((le32(slack, pos + 4) >> 16) as usize, 0)
        };
        let name = slack.get(pos + 8..pos + 8 + name_len).filter(|n| !n.is_empty());
        let plausible = (1..=sb.inodes_count).contains(&inode)
            && rec_len >= 8 + name_len
            && rec_len % 4 == 0
            && file_type <= 7
            && name.is_some_and(|n| !n.contains(&0) && !n.contains(&b'/') && n != b"." && n != b"..");
        match name.filter(|_| plausible) {
            Some(name) => {
                out.push(DirEntry { inode, name: name.to_vec(), offset: at + pos as u64, deleted: true });
                pos += (8 + name_len).next_multiple_of(4);
            }
            None => pos += 4,
        }
    }
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
        assert_eq!(out, [DirEntry { inode: 12, name: b"a/\xff".to_vec(), offset: 24, deleted: false }]);
        block[28] = 0; // rec_len 0 must not loop
        block[29] = 0;
        assert!(parse_block(&block, 0, &sb, &mut Vec::new()).is_err());
    }

    #[test]
    fn names_in_record_slack_are_deleted_entries() {
        let sb = crate::superblock::tests_support::tiny();
        // "." then ".." whose record swallowed a deleted "old.txt" (inode 5)
        // and a run of garbage that must not parse as a name.
        let mut block = record(2, 12, b".");
        let mut dotdot = record(2, 1012, b"..");
        dotdot.truncate(12);
        dotdot.extend(&record(5, 16, b"old.txt")[..16]);
        dotdot.extend([0xFFu8; 8]);
        dotdot.resize(1012, 0);
        block.extend(dotdot);
        let mut out = Vec::new();
        parse_block(&block, 0, &sb, &mut out).unwrap();
        assert_eq!(out, [DirEntry { inode: 5, name: b"old.txt".to_vec(), offset: 24, deleted: true }]);
    }
}
