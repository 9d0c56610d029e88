//! Which parts of a file are not on its medium: sparse runs (zeros by the
//! file system's own account) and runs past the end of a truncated medium.
//! Both are file byte ranges `[start, end)`, recorded beside the content so
//! a reader of the image alone can rebuild the file.

use crate::entry::{DataLayout, FsEntry};
use crate::error::MediaError;

/// Where an entry's content does not come from the medium.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentMap {
    /// Runs the file system marks sparse: zeros, never stored on the volume.
    pub sparse: Vec<[u64; 2]>,
    /// Runs that lie past the end of a truncated medium: read as zeros.
    pub missing: Vec<[u64; 2]>,
}

impl ContentMap {
    /// Bytes in sparse runs.
    pub fn sparse_bytes(&self) -> u64 {
        total(&self.sparse)
    }

    /// Bytes past the end of the medium.
    pub fn missing_bytes(&self) -> u64 {
        total(&self.missing)
    }
}

fn total(ranges: &[[u64; 2]]) -> u64 {
    ranges.iter().map(|[a, b]| b - a).fold(0, u64::saturating_add)
}

/// Maps the first `len` bytes of `entry` against its volume: `available`
/// bytes of it exist, the file system declares `declared`. An extent past
/// the declared end is a corrupt record, not truncation.
pub fn content_map(entry: &FsEntry, len: u64, available: u64, declared: u64) -> Result<ContentMap, MediaError> {
    let mut map = ContentMap::default();
    let DataLayout::Extents(extents) = &entry.data else { return Ok(map) };
    let volume_end = declared.max(available);
    for extent in extents.iter().filter(|e| e.file_offset < len) {
        let run_len = extent.len.min(len - extent.file_offset);
        let file_end = extent.file_offset.saturating_add(run_len);
        let Some(start) = extent.volume_offset else {
            push_merged(&mut map.sparse, [extent.file_offset, file_end]);
            continue;
        };
        let end = start.checked_add(run_len).filter(|&end| end <= volume_end).ok_or_else(|| {
            MediaError::corrupt(format!(
                "an extent of {run_len} bytes at volume byte {start} lies outside the {volume_end}-byte volume"
            ))
        })?;
        if end > available {
            let cut = extent.file_offset + available.saturating_sub(start);
            push_merged(&mut map.missing, [cut, file_end]);
        }
    }
    if let Some(from) = entry.missing_from.filter(|&from| from < len) {
        push_merged(&mut map.missing, [from, len]);
    }
    Ok(map)
}

/// Appends `range` (`[start, end)`) to ranges sorted by start, merging it
/// into the last one where they touch or overlap.
pub fn push_merged(out: &mut Vec<[u64; 2]>, range: [u64; 2]) {
    match out.last_mut() {
        Some(last) if last[1] >= range[0] => last[1] = last[1].max(range[1]),
        _ => out.push(range),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntryKind, Extent, NamePath};

    fn file(extents: Vec<Extent>) -> FsEntry {
        let mut e = FsEntry::new(NamePath::root().join(b"f"), EntryKind::File);
        e.size = extents.iter().map(|x| x.len).sum();
        e.data = DataLayout::Extents(extents);
        e
    }

    #[test]
    fn sparse_missing_and_outside_are_told_apart() {
        let e = file(vec![
            Extent { file_offset: 0, len: 100, volume_offset: Some(0) },
            Extent { file_offset: 100, len: 50, volume_offset: None },
            Extent { file_offset: 150, len: 100, volume_offset: Some(950) },
            Extent { file_offset: 250, len: 10, volume_offset: Some(1500) },
        ]);
        let map = content_map(&e, 260, 1000, 2000).unwrap();
        assert_eq!(map.sparse, vec![[100, 150]]);
        assert_eq!(map.missing, vec![[200, 260]]);
        assert_eq!((map.sparse_bytes(), map.missing_bytes()), (50, 60));
        // The same extents on a volume that declares only 1000 bytes: the
        // runs past it are a corrupt record, not a truncated medium.
        let err = content_map(&e, 260, 1000, 1000).unwrap_err();
        assert_eq!(err.kind, crate::MediaErrorKind::Corrupt);
        // Only the first `len` bytes are mapped.
        assert_eq!(content_map(&e, 120, 1000, 1000).unwrap().sparse, vec![[100, 120]]);
    }

    #[test]
    fn an_extent_near_u64_max_is_corrupt_not_an_overflow() {
        let e = file(vec![Extent { file_offset: 0, len: 4096, volume_offset: Some(u64::MAX - 10) }]);
        assert!(content_map(&e, 4096, 1 << 20, 1 << 20).is_err());
    }
}
