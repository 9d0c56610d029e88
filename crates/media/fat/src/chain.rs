//! Cluster chains: following a FAT chain into runs with bounds, limits and
//! loop detection, assuming a contiguous run for deleted files, and turning
//! runs into extents. Shared by FAT and exFAT.

use exhibit_media_core::{DataLayout, Extent, Limits, MediaError};

/// What a table says follows a cluster.
pub(crate) enum Link {
    /// The next cluster of the chain.
    Next(u32),
    /// End of chain.
    End,
    /// Anything else: free, bad, reserved or out of range (the raw value).
    Broken(u32),
}

/// A run of clusters: first cluster, count.
pub(crate) type Run = (u32, u32);

/// How a chain walk ended.
pub(crate) enum Ended {
    /// `max` clusters were collected.
    Full,
    /// The table marked the end first.
    Eoc,
}

/// Clusters `2..=last` are the data area; `cluster_size` bytes each, the
/// first at `heap` bytes into the volume.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub heap: u64,
    pub cluster_size: u64,
    pub last: u32,
}

impl Geometry {
    /// Whether `c` is a data cluster.
    pub(crate) fn valid(&self, c: u32) -> bool {
        (2..=self.last).contains(&c)
    }

    /// Byte offset of cluster `c` (valid clusters only).
    pub(crate) fn offset(&self, c: u32) -> u64 {
        self.heap + u64::from(c.saturating_sub(2)) * self.cluster_size
    }

    /// Number of data clusters.
    pub(crate) fn count(&self) -> u64 {
        u64::from(self.last.saturating_sub(1))
    }
}

/// Follows the chain from `start` for at most `max` clusters. The runs found
/// so far come back with the error when the chain breaks or loops.
pub(crate) fn follow(
    geo: &Geometry,
    start: u32,
    max: u64,
    limits: &Limits,
    what: &str,
    next: &dyn Fn(u32) -> Result<Link, MediaError>,
) -> Result<(Vec<Run>, Ended), (Vec<Run>, MediaError)> {
    let mut runs: Vec<Run> = Vec::new();
    if !geo.valid(start) {
        return Err((runs, MediaError::corrupt(format!("{what} starts at cluster {start}, outside 2..={}", geo.last))));
    }
    let (mut cluster, mut taken) = (start, 0u64);
    let ended = loop {
        if let Err(e) = push(&mut runs, cluster, limits, what) {
            return Err((runs, e));
        }
        taken += 1;
        if taken >= max || taken > geo.count() {
            break Ended::Full;
        }
        match next(cluster) {
            Ok(Link::Next(n)) if geo.valid(n) => cluster = n,
            Ok(Link::End) => break Ended::Eoc,
            Ok(Link::Next(n) | Link::Broken(n)) => {
                let msg =
                    format!("{what}: cluster {cluster} links to {n:#x}, not a data cluster, after {taken} clusters");
                return Err(checked(runs, MediaError::corrupt(msg), what));
            }
            Err(e) => return Err((runs, e)),
        }
    };
    match overlap(&runs) {
        Some(c) => Err((dedupe(runs), MediaError::corrupt(format!("{what}: cluster chain loops back to cluster {c}")))),
        None => Ok((runs, ended)),
    }
}

/// Prefers reporting a loop over the break that followed it.
fn checked(runs: Vec<Run>, e: MediaError, what: &str) -> (Vec<Run>, MediaError) {
    match overlap(&runs) {
        Some(c) => (dedupe(runs), MediaError::corrupt(format!("{what}: cluster chain loops back to cluster {c}"))),
        None => (runs, e),
    }
}

/// The runs before the first one that revisits a cluster.
fn dedupe(runs: Vec<Run>) -> Vec<Run> {
    let mut kept: Vec<Run> = Vec::new();
    for (first, count) in runs {
        let clash = kept.iter().find(|&&(f, c)| {
            u64::from(f) < u64::from(first) + u64::from(count) && u64::from(first) < u64::from(f) + u64::from(c)
        });
        if let Some(&(f, _)) = clash {
            // Keep the part of this run before it reaches an earlier one.
            if f > first {
                kept.push((first, f - first));
            }
            break;
        }
        kept.push((first, count));
    }
    kept
}

fn push(runs: &mut Vec<Run>, cluster: u32, limits: &Limits, what: &str) -> Result<(), MediaError> {
    if let Some(last) = runs.last_mut()
        && last.0.checked_add(last.1) == Some(cluster)
    {
        last.1 += 1;
        return Ok(());
    }
    limits.check_alloc((runs.len() as u64 + 1) * 16, &format!("{what} cluster run list"))?;
    runs.push((cluster, 1));
    Ok(())
}

/// A cluster that two runs share, if any (a chain that loops revisits one).
fn overlap(runs: &[Run]) -> Option<u32> {
    let mut sorted = runs.to_vec();
    sorted.sort_unstable();
    sorted.windows(2).find(|w| u64::from(w[0].0) + u64::from(w[0].1) > u64::from(w[1].0)).map(|w| w[1].0)
}

/// Counts clusters from `start` that are free (per `is_free`), at most `max`,
/// stopping at the end of the data area or of the medium (`medium` bytes).
pub(crate) fn free_run(
    geo: &Geometry,
    start: u32,
    max: u64,
    medium: u64,
    is_free: &dyn Fn(u32) -> Result<bool, MediaError>,
) -> u64 {
    let mut n = 0u64;
    while n < max {
        let Some(c) = u32::try_from(u64::from(start) + n).ok().filter(|c| geo.valid(*c)) else { break };
        if geo.offset(c) + geo.cluster_size > medium || !is_free(c).unwrap_or(false) {
            break;
        }
        n += 1;
    }
    n
}

/// Extents for the first `len` bytes of `runs`, in file order from `file_offset`.
pub(crate) fn extents(geo: &Geometry, runs: &[Run], len: u64, file_offset: u64) -> Vec<Extent> {
    let mut out = Vec::with_capacity(runs.len());
    let mut pos = 0u64;
    for &(first, count) in runs {
        if pos >= len {
            break;
        }
        let run_len = (u64::from(count) * geo.cluster_size).min(len - pos);
        out.push(Extent { file_offset: file_offset + pos, len: run_len, volume_offset: Some(geo.offset(first)) });
        pos += run_len;
    }
    out
}

/// Where the extents of a file of `size` bytes end, when a chain that
/// reached its end-of-chain mark covers less than that: the rest of the
/// file is missing, not a reason to drop the bytes the chain reaches.
pub(crate) fn short_of(data: &DataLayout, size: u64) -> Option<u64> {
    let DataLayout::Extents(extents) = data else { return None };
    let covered = extents.last().map_or(0, |x| x.file_offset + x.len);
    (covered < size).then_some(covered)
}

/// Byte runs `(offset, len)` of `runs`, for directory streams.
pub(crate) fn byte_runs(geo: &Geometry, runs: &[Run]) -> Vec<(u64, u64)> {
    runs.iter().map(|&(first, count)| (geo.offset(first), u64::from(count) * geo.cluster_size)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_and_breaks_are_reported() {
        let geo = Geometry { heap: 0, cluster_size: 512, last: 10 };
        let limits = Limits::default();
        let looping = |c: u32| Ok(Link::Next(if c == 5 { 3 } else { c + 1 }));
        assert!(follow(&geo, 2, 100, &limits, "t", &looping).is_err());
        let broken = |c: u32| Ok(if c == 4 { Link::Broken(0) } else { Link::Next(c + 1) });
        let (runs, _) = follow(&geo, 2, 100, &limits, "t", &broken).err().unwrap();
        assert_eq!(runs, vec![(2, 3)]);
        let ok = |c: u32| {
            Ok(match c {
                2 => Link::Next(3),
                3 => Link::Next(7),
                _ => Link::End,
            })
        };
        let (runs, _) = follow(&geo, 2, 100, &limits, "t", &ok).ok().unwrap();
        assert_eq!(runs, vec![(2, 2), (7, 1)]);
    }
}
