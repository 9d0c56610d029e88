//! Which bytes of a volume the files on it claim, for the expansion budget.
//!
//! A hard link (ISO 9660 `-cache-inodes`, FAT cross-links made on purpose)
//! is a second name for exactly the bytes of another file: its extent list
//! is identical, and as a view it costs one hash computation and no
//! storage, so after the first it is free. Anything else that reads the
//! same bytes again pays in full: a list that differs but overlaps one
//! already claimed, a list that repeats data inside itself, and a list that
//! covers the file system's own structures (an ISO directory, which no
//! file's data can share). That keeps a bomb of records pointing over the
//! volume refused while hard links cost nothing.

use std::collections::{BTreeMap, HashSet};

use crate::Extent;

/// An extent list as the budget sees it: the `(start, len)` of each run
/// that reads the volume, clipped to the volume.
type ListKey = Vec<(u64, u64)>;

/// The claims on one volume.
#[derive(Debug, Default)]
pub struct ExtentClaims {
    /// Claimed byte ranges, `start -> end`, never overlapping each other.
    claimed: BTreeMap<u64, u64>,
    /// Extent lists that overlapped nothing when admitted: a later file
    /// with the same list is a hard link of one of them.
    clean: HashSet<ListKey>,
}

impl ExtentClaims {
    /// Marks `[start, start + len)` as the file system's own structure
    /// (a directory): no file's data may share it for free.
    pub fn structure(&mut self, start: u64, len: u64) {
        let end = start.saturating_add(len);
        if len > 0 && !self.overlaps(start, end) {
            self.claimed.insert(start, end);
        }
    }

    /// Bytes of `runs` (on a volume of `volume_size` bytes) that reading
    /// them would cost: none for a hard link of an admitted clean list,
    /// every readable byte otherwise.
    pub fn cost(&self, runs: &[Extent], volume_size: u64) -> u64 {
        let key = list_key(runs, volume_size);
        if self.clean.contains(&key) { 0 } else { key.iter().map(|&(_, len)| len).fold(0, u64::saturating_add) }
    }

    /// Every byte of `runs` that lies on a volume of `volume_size` bytes.
    pub fn readable(runs: &[Extent], volume_size: u64) -> u64 {
        list_key(runs, volume_size).iter().map(|&(_, len)| len).fold(0, u64::saturating_add)
    }

    /// Records `runs` as admitted. A list that overlaps nothing claimed
    /// (nor itself) becomes clean: later identical lists are hard links.
    pub fn admit(&mut self, runs: &[Extent], volume_size: u64) {
        let mut key = list_key(runs, volume_size);
        if key.is_empty() || self.clean.contains(&key) {
            return;
        }
        let mut sorted = key.clone();
        sorted.sort_unstable();
        let repeats_itself = sorted.windows(2).any(|w| w[0].0.saturating_add(w[0].1) > w[1].0);
        if repeats_itself || sorted.iter().any(|&(s, len)| self.overlaps(s, s.saturating_add(len))) {
            return;
        }
        for &(s, len) in &sorted {
            self.claimed.insert(s, s.saturating_add(len));
        }
        key.shrink_to_fit();
        self.clean.insert(key);
    }

    /// Whether `[start, end)` overlaps a claimed range. Claimed ranges never
    /// overlap, so the last one starting before `end` has the largest end.
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.claimed.range(..end).next_back().is_some_and(|(_, &e)| e > start)
    }
}

fn list_key(runs: &[Extent], volume_size: u64) -> ListKey {
    runs.iter()
        .filter_map(|r| {
            let start = r.volume_offset?;
            let len = r.len.min(volume_size.saturating_sub(start));
            (len > 0).then_some((start, len))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(list: &[(u64, u64)]) -> Vec<Extent> {
        let mut at = 0;
        list.iter()
            .map(|&(start, len)| {
                at += len;
                Extent { file_offset: at - len, len, volume_offset: Some(start) }
            })
            .collect()
    }

    fn charge(c: &mut ExtentClaims, list: &[(u64, u64)]) -> u64 {
        let r = runs(list);
        let cost = c.cost(&r, 1000);
        c.admit(&r, 1000);
        cost
    }

    #[test]
    fn hard_links_are_free_and_everything_else_pays() {
        let mut c = ExtentClaims::default();
        assert_eq!(charge(&mut c, &[(0, 100)]), 100, "the first name pays");
        assert_eq!(charge(&mut c, &[(0, 100)]), 0, "a hard link is free");
        assert_eq!(charge(&mut c, &[(0, 100)]), 0, "and another");
        assert_eq!(charge(&mut c, &[(50, 100)]), 100, "distinct but overlapping pays");
        assert_eq!(charge(&mut c, &[(50, 100)]), 100, "and keeps paying: it is no hard link");
        assert_eq!(charge(&mut c, &[(200, 10), (200, 10)]), 20, "a list that repeats itself");
        assert_eq!(charge(&mut c, &[(200, 10), (200, 10)]), 20, "pays each time");
        assert_eq!(charge(&mut c, &[(950, 100)]), 50, "clipped to the volume");
        assert_eq!(charge(&mut c, &[(5000, 100)]), 0, "outside the volume reads nothing");
    }

    #[test]
    fn lists_over_a_structure_always_pay() {
        let mut c = ExtentClaims::default();
        c.structure(100, 50);
        // A bomb: every record points over the directory to the volume's end.
        for _ in 0..3 {
            assert_eq!(charge(&mut c, &[(0, 1000)]), 1000);
        }
        assert_eq!(charge(&mut c, &[(150, 10)]), 10);
        assert_eq!(charge(&mut c, &[(150, 10)]), 0, "beside the directory, a hard link");
    }
}
