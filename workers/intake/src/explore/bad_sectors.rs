//! Maps unreadable, zero-filled ranges of an acquired image onto the files
//! whose data lies over them.

use exhibit_media::{Extent, push_merged};

/// File byte ranges `[start, end)` of a file with `extents` (volume
/// relative, the volume at `volume_offset` on the image) that overlap the
/// image ranges `bad` (`[offset, len]`).
pub fn zero_filled_ranges(extents: &[Extent], volume_offset: u64, bad: &[[u64; 2]]) -> Vec<[u64; 2]> {
    let mut out: Vec<[u64; 2]> = Vec::new();
    for extent in extents {
        let Some(on_volume) = extent.volume_offset else { continue };
        let start = volume_offset.saturating_add(on_volume);
        let end = start.saturating_add(extent.len);
        for &[bad_start, bad_len] in bad {
            let bad_end = bad_start.saturating_add(bad_len);
            let (lo, hi) = (start.max(bad_start), end.min(bad_end));
            if lo < hi {
                let file_lo = extent.file_offset + (lo - start);
                push_merged(&mut out, [file_lo, file_lo + (hi - lo)]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_map_to_file_offsets() {
        let extents = [
            Extent { file_offset: 0, len: 4096, volume_offset: Some(8192) },
            Extent { file_offset: 4096, len: 4096, volume_offset: None },
            Extent { file_offset: 8192, len: 4096, volume_offset: Some(40960) },
        ];
        // Volume at 1 MiB; bad ranges hit the first extent's tail and the
        // third extent's head; one bad range misses.
        let base = 1 << 20;
        let bad = [[base + 8192 + 3584, 1024], [base + 40960, 512], [0, 512]];
        assert_eq!(zero_filled_ranges(&extents, base, &bad), vec![[3584, 4096], [8192, 8704]]);
    }
}
