//! Directory indexes ($I30): entries of $INDEX_ROOT and of every in-use INDX
//! record of $INDEX_ALLOCATION, read flat rather than by tree descent, so a
//! damaged tree cannot make the walk loop.

use exhibit_media_core::{Limits, MediaError};

use crate::bytes::{le16, le32, le64};
use crate::mft::{MAX_RECORD_SIZE, Mft, read_extents};
use crate::record::{Body, Record, fixup, ty};
use crate::runs;
use crate::values::{FileName, file_name};

/// The index name of directories, "$I30", as UTF-16.
const I30: [u16; 4] = [0x24, 0x49, 0x33, 0x30];
const LAST_ENTRY: u32 = 0x02;

/// One directory entry: the record it names and its name.
#[derive(Debug, Clone)]
pub(crate) struct DirEntry {
    pub record: u64,
    pub name: FileName,
}

/// Lists the $I30 entries of a directory record. `budget` is the number of
/// index bytes the whole walk may still read (guards against many
/// directories sharing one huge, hostile allocation).
pub(crate) fn list(mft: &Mft, dir: &Record, limits: &Limits, budget: &mut u64) -> Result<Vec<DirEntry>, MediaError> {
    let root = dir.resident(ty::INDEX_ROOT, &I30).ok_or_else(|| {
        MediaError::corrupt(format!("directory record {} has no resident $INDEX_ROOT $I30", dir.number))
    })?;
    let mut out = Vec::new();
    let node_start = le32(root, 16).map_or(usize::MAX, |o| 16usize.saturating_add(o as usize));
    let node_end = le32(root, 20).map_or(0, |s| 16usize.saturating_add(s as usize));
    let slice = root.get(node_start..node_end.min(root.len())).unwrap_or_default();
    entries(slice, &mut out, limits, dir.number)?;
    let record_size = u64::from(le32(root, 8).unwrap_or(0));
    if let Some(alloc) = dir.of_type(ty::INDEX_ALLOCATION).find(|a| a.name == I30) {
        let Body::NonResident(nr) = &alloc.body else {
            return Err(MediaError::corrupt(format!("directory record {}: resident $INDEX_ALLOCATION", dir.number)));
        };
        if !(512..=MAX_RECORD_SIZE).contains(&record_size) || !record_size.is_power_of_two() {
            return Err(MediaError::corrupt(format!(
                "directory record {}: index record size {record_size} is invalid",
                dir.number
            )));
        }
        let bitmap = dir.resident(ty::BITMAP, &I30);
        let runs = runs::decode(&nr.mapping_pairs, nr.lowest_vcn, mft.geo.total_clusters, nr.pairs_at)?;
        let size = nr.data_size.min(mft.volume.size());
        let extents = runs::extents(&runs, mft.geo.cluster_size, size, nr.initialized_size.min(size));
        let mut buf = vec![0u8; limits.check_alloc(record_size, "INDX record")?];
        for k in 0..size / record_size {
            let in_use = bitmap.is_none_or(|b| b.get((k / 8) as usize).is_some_and(|byte| byte >> (k % 8) & 1 == 1));
            if !in_use {
                continue;
            }
            *budget = budget.checked_sub(record_size).ok_or_else(|| {
                MediaError::limit("directory indexes read more than limits.max_expansion_ratio x the volume size")
            })?;
            let at = read_extents(&*mft.volume, &extents, k * record_size, &mut buf, "$INDEX_ALLOCATION")?;
            if buf.get(..4) != Some(b"INDX") {
                return Err(MediaError::corrupt(format!("INDX record at byte {at}: bad signature")));
            }
            fixup(&mut buf, at, "INDX record")?;
            let start = le32(&buf, 24).map_or(usize::MAX, |o| 24usize.saturating_add(o as usize));
            let end = le32(&buf, 28).map_or(0, |s| 24usize.saturating_add(s as usize)).min(buf.len());
            entries(buf.get(start..end).unwrap_or_default(), &mut out, limits, dir.number)?;
        }
    }
    Ok(out)
}

/// Appends the entries of one index node.
fn entries(node: &[u8], out: &mut Vec<DirEntry>, limits: &Limits, dir: u64) -> Result<(), MediaError> {
    let mut pos = 0usize;
    while let Some(len) = le16(node, pos + 8) {
        let len = usize::from(len);
        let flags = le32(node, pos + 12).unwrap_or(LAST_ENTRY);
        if flags & LAST_ENTRY != 0 {
            break;
        }
        if len < 16 || pos + len > node.len() {
            return Err(MediaError::corrupt(format!(
                "directory record {dir}: index entry of length {len} at node offset {pos}"
            )));
        }
        let key_len = usize::from(le16(node, pos + 10).unwrap_or(0));
        let reference = le64(node, pos).unwrap_or(0);
        let key = node.get(pos + 16..pos + 16 + key_len).filter(|_| 16 + key_len <= len);
        if let Some(name) = key.and_then(file_name) {
            if out.len() as u64 >= limits.max_dir_entries {
                return Err(MediaError::limit(format!(
                    "directory record {dir} holds more than {} entries (limits.max_dir_entries)",
                    limits.max_dir_entries
                )));
            }
            out.push(DirEntry { record: reference & 0xFFFF_FFFF_FFFF, name });
        }
        pos += len;
    }
    Ok(())
}
