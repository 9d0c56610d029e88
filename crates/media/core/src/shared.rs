//! Extents shared between files (hard links, deduplicated images): a view
//! of bytes another file already paid for costs nothing against the
//! expansion budget, but a file that repeats an extent inside itself, or
//! many files each claiming distinct data, still pay in full.

use std::collections::HashSet;

use crate::Extent;

/// The extents of the files already admitted, keyed by `(scope, offset, len)`
/// where `scope` tells volumes of one image apart.
#[derive(Debug, Default)]
pub struct SharedExtents {
    seen: HashSet<(u32, u64, u64)>,
}

impl SharedExtents {
    /// Bytes of `runs` (clipped to `size` bytes of volume) that are not a
    /// first use, within this file, of an extent an admitted file holds.
    pub fn cost(&self, scope: u32, runs: &[Extent], size: u64) -> u64 {
        let mut free_used = HashSet::new();
        runs.iter().fold(0u64, |acc, r| {
            let Some(start) = r.volume_offset else { return acc };
            let readable = r.len.min(size.saturating_sub(start));
            let key = (scope, start, r.len);
            if self.seen.contains(&key) && free_used.insert(key) { acc } else { acc.saturating_add(readable) }
        })
    }

    /// Remembers `runs` as paid for, once the file holding them is admitted.
    pub fn record(&mut self, scope: u32, runs: &[Extent]) {
        for r in runs {
            if let Some(start) = r.volume_offset {
                self.seen.insert((scope, start, r.len));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(at: u64, len: u64) -> Extent {
        Extent { file_offset: 0, len, volume_offset: Some(at) }
    }

    #[test]
    fn a_hard_link_costs_nothing_but_self_repeats_and_new_data_do() {
        let mut s = SharedExtents::default();
        assert_eq!(s.cost(0, &[run(0, 100)], 1000), 100);
        s.record(0, &[run(0, 100)]);
        assert_eq!(s.cost(0, &[run(0, 100)], 1000), 0, "a second view of the same extent");
        assert_eq!(s.cost(0, &[run(0, 100), run(0, 100), run(0, 100)], 1000), 200, "repeats inside one file");
        assert_eq!(s.cost(0, &[run(100, 100)], 1000), 100, "distinct data");
        assert_eq!(s.cost(1, &[run(0, 100)], 1000), 100, "another volume");
        assert_eq!(s.cost(0, &[run(950, 100)], 1000), 50, "clipped to the volume");
        assert_eq!(s.cost(0, &[run(5000, 100)], 1000), 0, "outside the volume reads nothing");
    }
}
