//! Data runs (mapping pairs) and the extents they describe.

use exhibit_media_core::{Extent, MediaError};

/// A run of clusters; `lcn` is `None` for a sparse run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub vcn: u64,
    pub clusters: u64,
    pub lcn: Option<u64>,
}

/// Decodes mapping pairs starting at `lowest_vcn`, checking every run lies
/// within the volume's `total_clusters`.
pub(crate) fn decode(pairs: &[u8], lowest_vcn: u64, total_clusters: u64, at: u64) -> Result<Vec<Run>, MediaError> {
    let corrupt = |off: usize, why: &str| MediaError::corrupt(format!("data run at byte {}: {why}", at + off as u64));
    let mut runs = Vec::new();
    let (mut pos, mut vcn, mut lcn) = (0usize, lowest_vcn, 0i128);
    while let Some(&header) = pairs.get(pos) {
        if header == 0 {
            break;
        }
        let (len_size, off_size) = (usize::from(header & 0x0F), usize::from(header >> 4));
        if len_size == 0 || len_size > 8 || off_size > 8 {
            return Err(corrupt(pos, "invalid header byte"));
        }
        let len_bytes = pairs.get(pos + 1..pos + 1 + len_size).ok_or_else(|| corrupt(pos, "cut short"))?;
        let clusters = unsigned(len_bytes);
        if clusters == 0 || clusters > total_clusters.max(1) << 20 {
            return Err(corrupt(pos, &format!("cluster count {clusters} is implausible")));
        }
        let off_start = pos + 1 + len_size;
        let run_lcn = if off_size == 0 {
            None
        } else {
            let off_bytes = pairs.get(off_start..off_start + off_size).ok_or_else(|| corrupt(pos, "cut short"))?;
            lcn += i128::from(signed(off_bytes));
            let start = u64::try_from(lcn).map_err(|_| corrupt(pos, "starts before the volume"))?;
            if start.checked_add(clusters).is_none_or(|end| end > total_clusters) {
                return Err(corrupt(
                    pos,
                    &format!("clusters {start}+{clusters} lie past the volume's {total_clusters}"),
                ));
            }
            Some(start)
        };
        runs.push(Run { vcn, clusters, lcn: run_lcn });
        vcn = vcn.checked_add(clusters).ok_or_else(|| corrupt(pos, "VCN overflows"))?;
        pos = off_start + off_size;
    }
    Ok(runs)
}

fn unsigned(bytes: &[u8]) -> u64 {
    bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn signed(bytes: &[u8]) -> i64 {
    let raw = unsigned(bytes);
    let bits = (bytes.len() * 8) as u32;
    if bits == 0 || bits >= 64 {
        return raw as i64;
    }
    let shift = 64 - bits;
    ((raw << shift) as i64) >> shift
}

/// Extents covering `[0, data_size)`; bytes past `initialized` read as zeros.
/// Runs that do not reach `data_size` leave the extents short, which the
/// content reader reports as an error rather than a shorter file.
pub(crate) fn extents(runs: &[Run], cluster_size: u64, data_size: u64, initialized: u64) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::with_capacity(runs.len() + 1);
    let mut next = 0u64;
    for run in runs {
        let Some(start) = run.vcn.checked_mul(cluster_size) else { break };
        if start != next || start >= data_size {
            break;
        }
        let len = run.clusters.saturating_mul(cluster_size).min(data_size - start);
        let volume = run.lcn.and_then(|l| l.checked_mul(cluster_size));
        push_split(&mut out, Extent { file_offset: start, len, volume_offset: volume }, initialized);
        next = start + len;
    }
    out
}

/// Pushes `e`, turning any part at or past `initialized` into a zero run.
fn push_split(out: &mut Vec<Extent>, e: Extent, initialized: u64) {
    let end = e.file_offset + e.len;
    if e.volume_offset.is_none() || end <= initialized {
        out.push(e);
    } else if e.file_offset >= initialized {
        out.push(Extent { volume_offset: None, ..e });
    } else {
        let head = initialized - e.file_offset;
        out.push(Extent { len: head, ..e });
        out.push(Extent { file_offset: initialized, len: e.len - head, volume_offset: None });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_sparse_and_negative_runs() {
        // 2 clusters at LCN 16, 3 sparse clusters, 1 cluster at LCN 16-2=14.
        let pairs = [0x11, 2, 16, 0x01, 3, 0x11, 1, 0xFE, 0];
        let runs = decode(&pairs, 0, 100, 0).unwrap();
        assert_eq!(runs[1], Run { vcn: 2, clusters: 3, lcn: None });
        assert_eq!(runs[2].lcn, Some(14));
        let ext = extents(&runs, 512, 6 * 512 - 10, 512);
        assert_eq!(ext.len(), 4);
        assert_eq!(ext[1], Extent { file_offset: 512, len: 512, volume_offset: None });
        assert!(decode(&[0x11, 5, 99, 0], 0, 100, 0).is_err());
        assert!(decode(&[0x19, 1, 1], 0, 100, 0).is_err());
    }
}
