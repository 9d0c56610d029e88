//! The FAT boot sector (BIOS parameter block): validated against the spec
//! and the medium before any other structure is read.

use exhibit_media_core::{MediaError, ReadAt};

use crate::chain::Geometry;
use crate::util::{byte, le16, le32, read_struct};

/// FAT width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FatKind {
    /// 12-bit entries.
    Fat12,
    /// 16-bit entries.
    Fat16,
    /// 28-bit entries in 32 bits.
    Fat32,
}

/// The validated layout of a FAT volume.
#[derive(Debug, Clone)]
pub(crate) struct Bpb {
    pub kind: FatKind,
    pub geo: Geometry,
    /// Byte offset of the FAT in use.
    pub fat_offset: u64,
    /// Fixed root directory (FAT12/16): byte offset and length.
    pub root_offset: u64,
    pub root_len: u64,
    /// FAT32 root directory cluster.
    pub root_cluster: u32,
    pub volume_id: Option<u32>,
    pub label: Option<Vec<u8>>,
    /// Bytes the boot sector says the volume spans.
    pub declared: u64,
}

fn bad(msg: String) -> MediaError {
    MediaError::corrupt(format!("FAT boot sector at byte 0: {msg}"))
}

/// Reads and validates the boot sector of `vol`.
pub(crate) fn read(vol: &dyn ReadAt) -> Result<Bpb, MediaError> {
    let mut b = [0u8; 512];
    read_struct(vol, 0, &mut b, "FAT boot sector")?;
    if b.get(3..8) == Some(b"EXFAT".as_slice()) || b.get(3..7) == Some(b"NTFS".as_slice()) {
        return Err(MediaError::not_recognised("boot sector at byte 0 is exFAT or NTFS, not FAT"));
    }
    parse(&b, vol.size())
}

/// Validates a boot sector for a medium of `medium` bytes.
pub(crate) fn parse(b: &[u8; 512], medium: u64) -> Result<Bpb, MediaError> {
    let bps = u64::from(le16(b, 11));
    let spc = u64::from(byte(b, 13));
    let reserved = u64::from(le16(b, 14));
    let fats = u64::from(byte(b, 16));
    let root_entries = u64::from(le16(b, 17));
    let total = match le16(b, 19) {
        0 => u64::from(le32(b, 32)),
        n => u64::from(n),
    };
    let fat16_size = u64::from(le16(b, 22));
    let fat_size = if fat16_size == 0 { u64::from(le32(b, 36)) } else { fat16_size };
    if !bps.is_power_of_two() || !(512..=4096).contains(&bps) {
        return Err(bad(format!("bytes per sector {bps} is not a power of two in 512..=4096")));
    }
    if !spc.is_power_of_two() || spc > 128 {
        return Err(bad(format!("sectors per cluster {spc} is not a power of two up to 128")));
    }
    if reserved == 0 || !(1..=4).contains(&fats) || total == 0 || fat_size == 0 {
        return Err(bad(format!(
            "reserved {reserved}, FATs {fats}, sectors {total}, FAT size {fat_size}: one is zero"
        )));
    }
    let root_len = root_entries * 32;
    let root_sectors = root_len.div_ceil(bps);
    let meta = reserved + fats * fat_size + root_sectors;
    if meta >= total {
        return Err(bad(format!("metadata takes {meta} of only {total} sectors")));
    }
    if meta * bps > medium {
        return Err(bad(format!("metadata ends at byte {} past the medium's {medium} bytes", meta * bps)));
    }
    if total * bps > medium {
        tracing::warn!(
            claimed = total * bps,
            medium,
            "FAT volume is longer than its medium; clusters past the end are unreadable"
        );
    }
    let clusters = (total - meta) / spc;
    let kind = fat_kind(fat16_size, root_entries, clusters)?;
    let fat_bytes = match kind {
        FatKind::Fat12 => ((clusters + 2) * 3).div_ceil(2),
        FatKind::Fat16 => (clusters + 2) * 2,
        FatKind::Fat32 => (clusters + 2) * 4,
    };
    if fat_bytes > fat_size * bps || clusters == 0 || clusters > 0x0FFF_FFF5 {
        return Err(bad(format!("{clusters} clusters do not fit a FAT of {fat_size} sectors")));
    }
    let active = active_fat(b, kind, fats)?;
    let last = u32::try_from(clusters + 1).map_err(|_| bad(format!("{clusters} clusters")))?;
    let geo = Geometry { heap: meta * bps, cluster_size: spc * bps, last };
    let root_cluster = if kind == FatKind::Fat32 { le32(b, 44) } else { 0 };
    if kind == FatKind::Fat32 && !geo.valid(root_cluster) {
        return Err(bad(format!("root directory cluster {root_cluster} is outside 2..={last}")));
    }
    let (id, label) = ids(b, kind);
    Ok(Bpb {
        kind,
        geo,
        fat_offset: (reserved + active * fat_size) * bps,
        root_offset: (reserved + fats * fat_size) * bps,
        root_len,
        root_cluster,
        volume_id: id,
        label,
        declared: total * bps,
    })
}

/// FAT12/16 by cluster count, as the spec says; a FAT32-style BPB (no
/// 16-bit FAT size, no fixed root) is FAT32 even when small, as mkfs.fat
/// and every driver treat it.
fn fat_kind(fat16_size: u64, root_entries: u64, clusters: u64) -> Result<FatKind, MediaError> {
    match (fat16_size == 0 && root_entries == 0, clusters) {
        (true, _) => Ok(FatKind::Fat32),
        (false, 0..4085) if root_entries > 0 => Ok(FatKind::Fat12),
        (false, 4085..65525) if root_entries > 0 => Ok(FatKind::Fat16),
        _ => Err(bad(format!("{clusters} clusters with a FAT12/16 layout and {root_entries} root entries"))),
    }
}

/// Which FAT copy is live (FAT32 may disable mirroring and pick one).
fn active_fat(b: &[u8], kind: FatKind, fats: u64) -> Result<u64, MediaError> {
    let flags = le16(b, 40);
    if kind != FatKind::Fat32 || flags & 0x80 == 0 {
        return Ok(0);
    }
    let active = u64::from(flags & 0x0F);
    if active >= fats {
        return Err(bad(format!("active FAT {active} of only {fats}")));
    }
    Ok(active)
}

/// Volume serial and label from the extended BPB, when its signature is set.
fn ids(b: &[u8], kind: FatKind) -> (Option<u32>, Option<Vec<u8>>) {
    let base = if kind == FatKind::Fat32 { 0x40 } else { 0x24 };
    if !matches!(byte(b, base + 2), 0x28 | 0x29) {
        return (None, None);
    }
    let id = Some(le32(b, base + 3));
    let label = if byte(b, base + 2) == 0x29 { b.get(base + 7..base + 18).map(trim_label) } else { None };
    (id, label.filter(|l| !l.is_empty() && l.as_slice() != b"NO NAME"))
}

/// An 11-byte label without its trailing spaces.
pub(crate) fn trim_label(raw: &[u8]) -> Vec<u8> {
    let end = raw.iter().rposition(|&c| c != b' ' && c != 0).map_or(0, |p| p + 1);
    raw.get(..end).unwrap_or_default().to_vec()
}
