//! The exFAT boot region: main boot sector fields, validated against the
//! spec and the medium, and the boot checksum sector; the backup region is
//! used when the main one fails its checksum.

use exhibit_media_core::{Limits, MediaError, ReadAt};

use crate::chain::Geometry;
use crate::util::{byte, le16, le32, le64, read_struct};

/// The validated layout of an exFAT volume.
#[derive(Debug, Clone)]
pub(crate) struct Boot {
    pub geo: Geometry,
    /// Byte offset of the FAT in use.
    pub fat_offset: u64,
    pub root_cluster: u32,
    pub serial: u32,
    /// Bytes the boot sector says the volume spans.
    pub declared: u64,
}

/// Whether sector 0 names exFAT.
pub(crate) fn signature(vol: &dyn ReadAt) -> bool {
    let mut name = [0u8; 8];
    vol.read_at(3, &mut name).is_ok_and(|n| n == 8) && &name == b"EXFAT   "
}

/// Reads the main boot region, or the backup when the main one is damaged.
pub(crate) fn read(vol: &dyn ReadAt, limits: &Limits) -> Result<Boot, MediaError> {
    if !signature(vol) {
        return Err(MediaError::not_recognised("no \"EXFAT   \" name at byte 3: not an exFAT volume"));
    }
    let mut first = [0u8; 512];
    read_struct(vol, 0, &mut first, "exFAT boot sector")?;
    let shift = byte(&first, 108);
    if !(9..=12).contains(&shift) {
        return Err(MediaError::corrupt(format!(
            "exFAT boot sector at byte 0: sector shift {shift} is outside 9..=12"
        )));
    }
    let bps = 1u64 << shift;
    let main = region(vol, 0, bps, limits).and_then(|r| parse(&r, bps, vol.size()));
    main.or_else(|main_err| {
        tracing::warn!("{}; trying the backup boot region", main_err.message);
        region(vol, 12 * bps, bps, limits).and_then(|r| parse(&r, bps, vol.size())).map_err(|_| main_err)
    })
}

/// The 12 sectors of a boot region at `at`, checksum verified.
fn region(vol: &dyn ReadAt, at: u64, bps: u64, limits: &Limits) -> Result<Vec<u8>, MediaError> {
    let mut r = vec![0u8; limits.check_alloc(12 * bps, "exFAT boot region")?];
    read_struct(vol, at, &mut r, "exFAT boot region")?;
    let split = usize::try_from(11 * bps).unwrap_or(usize::MAX);
    let (body, check) = r.split_at(split.min(r.len()));
    let sum = body
        .iter()
        .enumerate()
        .filter(|(i, _)| !matches!(i, 106 | 107 | 112))
        .fold(0u32, |s, (_, &b)| s.rotate_right(1).wrapping_add(u32::from(b)));
    if check.chunks_exact(4).any(|w| le32(w, 0) != sum) {
        return Err(MediaError::corrupt(format!(
            "exFAT boot region at byte {at}: checksum sector does not match {sum:#010x}"
        )));
    }
    Ok(r)
}

fn bad(msg: String) -> MediaError {
    MediaError::corrupt(format!("exFAT boot sector: {msg}"))
}

/// Validates the boot sector fields of a checksummed region.
fn parse(b: &[u8], bps: u64, medium: u64) -> Result<Boot, MediaError> {
    if b.get(11..64).is_none_or(|z| z.iter().any(|&x| x != 0)) {
        return Err(bad("bytes 11..64 must be zero".into()));
    }
    let spc_shift = u32::from(byte(b, 109));
    let fats = u64::from(byte(b, 110));
    let (fat_off, fat_len) = (u64::from(le32(b, 80)), u64::from(le32(b, 84)));
    let (heap, count) = (u64::from(le32(b, 88)), u64::from(le32(b, 92)));
    let volume_len = le64(b, 72);
    if spc_shift + bps.trailing_zeros() > 25 || !(1..=2).contains(&fats) {
        return Err(bad(format!("cluster shift {spc_shift} or FAT count {fats} out of range")));
    }
    let spc = 1u64 << spc_shift;
    if fat_off < 24 || fat_len * bps < (count + 2) * 4 || heap < fat_off + fats * fat_len {
        return Err(bad(format!(
            "FAT at sector {fat_off} ({fat_len} sectors) does not fit {count} clusters before the heap at {heap}"
        )));
    }
    if count == 0 || count > 0xFFFF_FFF5 || heap + count * spc > volume_len {
        return Err(bad(format!("{count} clusters from sector {heap} overrun the {volume_len} sector volume")));
    }
    if (fat_off + fats * fat_len) * bps > medium {
        return Err(bad(format!("FATs end past the medium's {medium} bytes")));
    }
    if volume_len.saturating_mul(bps) > medium {
        tracing::warn!(medium, "exFAT volume is longer than its medium; clusters past the end are unreadable");
    }
    let last = u32::try_from(count + 1).map_err(|_| bad(format!("{count} clusters")))?;
    let geo = Geometry { heap: heap * bps, cluster_size: spc * bps, last };
    let root_cluster = le32(b, 96);
    if !geo.valid(root_cluster) {
        return Err(bad(format!("root directory cluster {root_cluster} is outside 2..={last}")));
    }
    let active = if fats == 2 && le16(b, 106) & 1 == 1 { 1 } else { 0 };
    let declared = volume_len.saturating_mul(bps);
    Ok(Boot { geo, fat_offset: (fat_off + active * fat_len) * bps, root_cluster, serial: le32(b, 100), declared })
}
