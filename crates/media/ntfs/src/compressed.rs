//! A compressed stream, decoded whole: NTFS stores it in compression units
//! (usually 16 clusters). A unit with all its clusters on disk is stored
//! raw, one with none is zeros, and one with fewer holds LZNT1 data in its
//! first clusters, the rest of the unit being a sparse run.

use exhibit_media_core::{Limits, read_exact_at};

use crate::lznt1;
use crate::mft::Mft;
use crate::runs::Run;

/// The stream's bytes: `size` long, zeros past `initialized`. The whole
/// stream is held in memory, so `size` is capped by `limits.max_alloc`.
pub(crate) fn decode(
    mft: &Mft,
    runs: &[Run],
    unit_log2: u8,
    size: u64,
    initialized: u64,
    limits: &Limits,
) -> Result<Vec<u8>, String> {
    let len = limits.check_alloc(size, "a compressed stream").map_err(|e| e.to_string())?;
    if unit_log2 == 0 || unit_log2 > 8 {
        return Err(format!("compression unit of 2^{unit_log2} clusters is not one NTFS writes"));
    }
    let cluster = mft.geo.cluster_size;
    let unit_clusters = 1u64 << unit_log2;
    let unit_bytes = usize::try_from(unit_clusters * cluster).map_err(|_| "compression unit is too large")?;
    let mut out = Vec::with_capacity(len);
    let mut vcn = 0;
    while out.len() < len {
        let stored = stored_clusters(runs, vcn, unit_clusters);
        let want = unit_bytes.min(len - out.len());
        let before = out.len();
        if stored.is_empty() {
            out.resize(before + want, 0);
        } else {
            let raw = read_clusters(mft, &stored)?;
            if stored.len() as u64 == unit_clusters {
                out.extend_from_slice(&raw[..want]);
            } else {
                lznt1::decompress(&raw, want, &mut out).map_err(|why| format!("VCN {vcn}: {why}"))?;
                out.resize(before + want, 0);
            }
        }
        vcn += unit_clusters;
    }
    let initialized = usize::try_from(initialized).unwrap_or(usize::MAX).min(len);
    out[initialized..].fill(0);
    Ok(out)
}

/// The on-disk clusters (LCNs) of the unit at `vcn`, in VCN order.
fn stored_clusters(runs: &[Run], vcn: u64, count: u64) -> Vec<u64> {
    let mut lcns = Vec::new();
    for v in vcn..vcn + count {
        let lcn = runs.iter().find(|r| v >= r.vcn && v - r.vcn < r.clusters).and_then(|r| Some(r.lcn? + (v - r.vcn)));
        match lcn {
            Some(lcn) => lcns.push(lcn),
            // The stored clusters come first; the first sparse one ends them.
            None => break,
        }
    }
    lcns
}

fn read_clusters(mft: &Mft, lcns: &[u64]) -> Result<Vec<u8>, String> {
    let cluster = mft.geo.cluster_size;
    let mut raw = vec![0; lcns.len() * cluster as usize];
    for (lcn, buf) in lcns.iter().zip(raw.chunks_mut(cluster as usize)) {
        read_exact_at(&*mft.volume, lcn * cluster, buf).map_err(|e| format!("cluster {lcn}: {e}"))?;
    }
    Ok(raw)
}
