//! GUID Partition Tables: the header at LBA 1 (or its backup at the last
//! LBA), both CRC32-checked, and the entry array it points to, also
//! CRC32-checked. Tries 512- then 4096-byte logical sectors.

use exhibit_media_core::{Limits, MediaError, ReadAt};

use crate::{Partition, Scheme, names, read_sector};

const SECTOR_SIZES: [u64; 2] = [512, 4096];

/// The fields of a header this reader uses.
#[derive(Debug, Clone, Copy)]
struct Header {
    sector: u64,
    alternate_lba: u64,
    entries_lba: u64,
    entry_count: u32,
    entry_size: u32,
    entries_crc: u32,
}

fn le32(b: &[u8], o: usize) -> u32 {
    b.get(o..o + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_le_bytes)
}

fn le64(b: &[u8], o: usize) -> u64 {
    b.get(o..o + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

/// Reads and checks the header at `lba`; `Ok(None)` when no "EFI PART" is there.
fn header_at(disk: &dyn ReadAt, sector: u64, lba: u64) -> Result<Option<Header>, MediaError> {
    let at = lba.checked_mul(sector).filter(|at| at.saturating_add(sector) <= disk.size());
    let Some(at) = at else { return Ok(None) };
    let mut buf = vec![0u8; 512];
    read_sector(disk, at, &mut buf, "GPT header")?;
    if buf.get(..8) != Some(b"EFI PART") {
        return Ok(None);
    }
    let size = le32(&buf, 12);
    let Some(body) = usize::try_from(size).ok().filter(|s| (92..=512).contains(s)).and_then(|s| buf.get(..s)) else {
        return Err(MediaError::corrupt(format!("GPT header at byte {at}: header size {size} is not 92..=512")));
    };
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(body.get(..16).unwrap_or_default());
    hasher.update(&[0; 4]);
    hasher.update(body.get(20..).unwrap_or_default());
    if hasher.finalize() != le32(&buf, 16) {
        return Err(MediaError::corrupt(format!("GPT header at byte {at}: header CRC32 mismatch")));
    }
    if le64(&buf, 24) != lba {
        return Err(MediaError::corrupt(format!("GPT header at byte {at} says it lives at LBA {}", le64(&buf, 24))));
    }
    Ok(Some(Header {
        sector,
        alternate_lba: le64(&buf, 32),
        entries_lba: le64(&buf, 72),
        entry_count: le32(&buf, 80),
        entry_size: le32(&buf, 84),
        entries_crc: le32(&buf, 88),
    }))
}

/// Reads the entry array of `h`, checking bounds, limits and its CRC32.
fn entries(disk: &dyn ReadAt, h: &Header, limits: &Limits) -> Result<Vec<Partition>, MediaError> {
    let esize = u64::from(h.entry_size);
    if esize < 128 || esize % 8 != 0 {
        return Err(MediaError::corrupt(format!("GPT entry size {esize} is not a multiple of 8 of at least 128")));
    }
    let bytes = esize * u64::from(h.entry_count);
    let len = limits.check_alloc(bytes, "GPT partition entry array")?;
    let at = h.entries_lba.checked_mul(h.sector).filter(|a| a.checked_add(bytes).is_some_and(|e| e <= disk.size()));
    let at = at.ok_or_else(|| {
        MediaError::corrupt(format!("GPT entry array at LBA {} ({bytes} bytes) lies outside the disk", h.entries_lba))
    })?;
    let mut buf = vec![0u8; len];
    read_sector(disk, at, &mut buf, "GPT entry array")?;
    if crc32fast::hash(&buf) != h.entries_crc {
        return Err(MediaError::corrupt(format!("GPT entry array at byte {at}: CRC32 mismatch")));
    }
    let mut out = Vec::new();
    for (i, raw) in (1u32..).zip(buf.chunks_exact(len.min(h.entry_size as usize).max(1))) {
        if let Some(p) = entry(raw, i, h.sector, disk.size())? {
            out.push(p);
        }
    }
    Ok(out)
}

fn entry(raw: &[u8], index: u32, sector: u64, disk_size: u64) -> Result<Option<Partition>, MediaError> {
    let type_guid = raw.get(..16).unwrap_or_default();
    if type_guid.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let (first, last) = (le64(raw, 32), le64(raw, 40));
    let bad = || MediaError::corrupt(format!("GPT entry {index}: LBA range {first}..={last} is invalid"));
    let count = last.checked_sub(first).and_then(|d| d.checked_add(1)).ok_or_else(bad)?;
    let start = first.checked_mul(sector).ok_or_else(bad)?;
    let len = count.checked_mul(sector).ok_or_else(bad)?;
    if start.saturating_add(len) > disk_size {
        tracing::warn!(index, start, len, disk_size, "GPT partition reaches past the end of the disk");
    }
    let type_id = names::guid(type_guid);
    let units: Vec<u16> =
        raw.get(56..128).unwrap_or_default().chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let name: String = char::decode_utf16(units.into_iter().take_while(|&u| u != 0))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    Ok(Some(Partition {
        index,
        scheme: Scheme::Gpt,
        start,
        len,
        type_name: names::gpt_type(&type_id).map(str::to_owned),
        type_id,
        name: Some(name),
        guid: Some(names::guid(raw.get(16..32).unwrap_or_default())),
        bootable: false,
        container: false,
    }))
}

fn from_header(disk: &dyn ReadAt, h: Option<Header>, limits: &Limits) -> Result<Vec<Partition>, MediaError> {
    let h = h.ok_or_else(|| MediaError::corrupt("no GPT header found"))?;
    entries(disk, &h, limits)
}

/// Reads the primary table, falling back to the backup header when the
/// primary (or its entry array) is damaged.
pub(crate) fn read(disk: &dyn ReadAt, limits: &Limits) -> Result<Vec<Partition>, MediaError> {
    let mut errors = Vec::new();
    for sector in SECTOR_SIZES {
        let primary = header_at(disk, sector, 1);
        match primary.clone().and_then(|h| from_header(disk, h, limits)) {
            Ok(parts) => return Ok(parts),
            Err(e) => errors.push(format!("primary ({sector}-byte sectors): {e}")),
        }
        let last = (disk.size() / sector).saturating_sub(1);
        let backup_lba = match primary {
            Ok(Some(h)) if h.alternate_lba != 1 => h.alternate_lba,
            _ => last,
        };
        match header_at(disk, sector, backup_lba).and_then(|h| from_header(disk, h, limits)) {
            Ok(parts) => {
                tracing::warn!(sector, backup_lba, "primary GPT damaged; using the backup header");
                return Ok(parts);
            }
            Err(e) => errors.push(format!("backup at LBA {backup_lba}: {e}")),
        }
        if matches!(primary, Ok(Some(_)) | Err(_)) {
            break; // the primary's sector size was found: do not try the next
        }
    }
    Err(MediaError::corrupt(format!("protective MBR, but no usable GPT: {}", errors.join("; "))))
}
