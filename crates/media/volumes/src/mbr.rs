//! DOS/MBR tables: the four primary entries, the extended partition's chain
//! of EBRs (each holding one logical partition and a link to the next), and
//! telling a real MBR from a file system's boot sector (which also ends in
//! 0x55AA).

use std::collections::HashSet;

use exhibit_media_core::{Limits, MediaError, ReadAt};

use crate::{Partition, Scheme, names, read_sector};

const SECTOR: u64 = 512;

/// One 16-byte partition entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    boot: u8,
    kind: u8,
    start: u32,
    count: u32,
}

impl Entry {
    fn parse(b: &[u8]) -> Option<Self> {
        let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
        Some(Self { boot: *b.first()?, kind: *b.get(4)?, start: u32_at(8)?, count: u32_at(12)? })
    }

    fn used(&self) -> bool {
        self.kind != 0 && self.count != 0
    }

    fn extended(&self) -> bool {
        matches!(self.kind, 0x05 | 0x0f | 0x85)
    }
}

/// What sector 0 holds.
pub(crate) enum Classified {
    /// No table (no 0x55AA, or a boot sector whose "entries" are not entries).
    NoTable,
    /// A protective MBR (type 0xEE): the disk is GPT.
    Protective,
    /// A DOS table with these four entries.
    Table([Entry; 4]),
}

fn entries_of(sector: &[u8]) -> Option<[Entry; 4]> {
    let e = |i: usize| Entry::parse(sector.get(446 + 16 * i..462 + 16 * i)?);
    Some([e(0)?, e(1)?, e(2)?, e(3)?])
}

/// A FAT/NTFS/exFAT volume boot record: a jump, then an OEM id and a BPB.
fn looks_like_vbr(s: &[u8]) -> bool {
    let jump = matches!((s.first(), s.get(2)), (Some(0xEB), Some(0x90))) || s.first() == Some(&0xE9);
    let oem = s.get(3..11).unwrap_or_default();
    let bps = s.get(11..13).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    let spc = s.get(13).copied().unwrap_or(0);
    let bpb = matches!(bps, 512 | 1024 | 2048 | 4096) && spc.is_power_of_two();
    jump && (oem == b"NTFS    " || oem == b"EXFAT   " || bpb)
}

/// Entries look like a table: valid boot flags, at least one used entry,
/// none starting at sector 0. `strict` also wants them inside the disk and
/// not overlapping (used when the sector also looks like a boot record).
fn sane(entries: &[Entry; 4], disk_sectors: u64, strict: bool) -> bool {
    let used: Vec<&Entry> = entries.iter().filter(|e| e.used()).collect();
    let flags_ok = entries.iter().all(|e| e.boot == 0 || e.boot == 0x80);
    if !flags_ok || used.is_empty() || used.iter().any(|e| e.start == 0) {
        return false;
    }
    if !strict {
        return true;
    }
    let end = |e: &Entry| u64::from(e.start) + u64::from(e.count);
    let inside = used.iter().all(|e| end(e) <= disk_sectors);
    let disjoint = used
        .iter()
        .enumerate()
        .all(|(i, a)| used.iter().skip(i + 1).all(|b| end(a) <= u64::from(b.start) || end(b) <= u64::from(a.start)));
    inside && disjoint
}

/// Decides what sector 0 is.
pub(crate) fn classify(sector: &[u8], disk_size: u64) -> Classified {
    if sector.get(510..512) != Some(&[0x55, 0xAA]) {
        return Classified::NoTable;
    }
    let Some(entries) = entries_of(sector) else { return Classified::NoTable };
    if entries.iter().any(|e| e.kind == 0xEE) {
        return Classified::Protective;
    }
    let vbr = looks_like_vbr(sector);
    if sane(&entries, disk_size / SECTOR, vbr) {
        Classified::Table(entries)
    } else {
        tracing::debug!(vbr, "sector 0 ends in 0x55AA but holds no partition table");
        Classified::NoTable
    }
}

fn partition(index: u32, e: &Entry, base: u64, disk_size: u64) -> Result<Partition, MediaError> {
    let start_lba = base.checked_add(u64::from(e.start));
    let start = start_lba.and_then(|s| s.checked_mul(SECTOR));
    let start = start.ok_or_else(|| MediaError::corrupt(format!("MBR partition {index}: start overflows")))?;
    let len = u64::from(e.count) * SECTOR;
    if start.saturating_add(len) > disk_size {
        tracing::warn!(index, start, len, disk_size, "MBR partition reaches past the end of the disk");
    }
    let type_id = format!("0x{:02x}", e.kind);
    let type_name = names::mbr_type(e.kind).map(str::to_owned);
    let (bootable, container) = (e.boot == 0x80, e.extended());
    Ok(Partition {
        index,
        scheme: Scheme::Mbr,
        start,
        len,
        type_id,
        type_name,
        name: None,
        guid: None,
        bootable,
        container,
    })
}

/// Lists primaries (slots 1–4) and walks the extended partition's EBR chain.
pub(crate) fn read(disk: &dyn ReadAt, entries: &[Entry; 4], limits: &Limits) -> Result<Vec<Partition>, MediaError> {
    let mut out = Vec::new();
    let mut extended = None;
    for (slot, e) in (1u32..).zip(entries.iter()) {
        if !e.used() {
            continue;
        }
        out.push(partition(slot, e, 0, disk.size())?);
        if e.extended() {
            if extended.is_some() {
                return Err(MediaError::corrupt("MBR at byte 0 holds more than one extended partition"));
            }
            extended = Some(*e);
        }
    }
    if let Some(ext) = extended {
        read_chain(disk, &ext, limits, &mut out)?;
    }
    Ok(out)
}

/// Follows EBR links from the extended partition's first sector; every link
/// is relative to the extended partition and must stay inside it.
fn read_chain(disk: &dyn ReadAt, ext: &Entry, limits: &Limits, out: &mut Vec<Partition>) -> Result<(), MediaError> {
    let ext_start = u64::from(ext.start);
    let ext_end = ext_start + u64::from(ext.count);
    let mut visited = HashSet::new();
    let mut next = Some(ext_start);
    let mut index = 5u32;
    while let Some(lba) = next {
        let at = lba * SECTOR;
        if !visited.insert(lba) {
            return Err(MediaError::corrupt(format!("EBR chain loops back to the EBR at byte {at}")));
        }
        if visited.len() as u64 > limits.max_dir_entries {
            return Err(MediaError::limit(format!(
                "EBR chain longer than {} (limits.max_dir_entries)",
                limits.max_dir_entries
            )));
        }
        if lba >= ext_end || at.saturating_add(SECTOR) > disk.size() {
            return Err(MediaError::corrupt(format!(
                "EBR at byte {at} lies outside the extended partition or the disk"
            )));
        }
        let mut sector = [0u8; 512];
        read_sector(disk, at, &mut sector, "EBR")?;
        let entries = match (sector.get(510..512), entries_of(&sector)) {
            (Some([0x55, 0xAA]), Some(entries)) => entries,
            _ => return Err(MediaError::corrupt(format!("EBR at byte {at} lacks the 0x55AA signature"))),
        };
        let [logical, link, ..] = entries;
        if logical.used() {
            out.push(partition(index, &logical, lba, disk.size())?);
            index = index.checked_add(1).ok_or_else(|| MediaError::corrupt("too many logical partitions"))?;
        }
        next = (link.used() && link.extended()).then(|| ext_start + u64::from(link.start));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sector_with(entries: &[(u8, u8, u32, u32)]) -> [u8; 512] {
        let mut s = [0u8; 512];
        for (i, (boot, kind, start, count)) in entries.iter().enumerate() {
            let o = 446 + 16 * i;
            s[o] = *boot;
            s[o + 4] = *kind;
            s[o + 8..o + 12].copy_from_slice(&start.to_le_bytes());
            s[o + 12..o + 16].copy_from_slice(&count.to_le_bytes());
        }
        s[510] = 0x55;
        s[511] = 0xAA;
        s
    }

    #[test]
    fn boot_sector_text_is_not_a_table() {
        let mut s = sector_with(&[]);
        s[446..510].copy_from_slice(&[b'x'; 64]);
        assert!(matches!(classify(&s, 1 << 20), Classified::NoTable));
        let s = sector_with(&[(0x80, 0x0c, 2048, 100)]);
        assert!(matches!(classify(&s, 1 << 20), Classified::Table(_)));
        let s = sector_with(&[(0, 0xEE, 1, 100)]);
        assert!(matches!(classify(&s, 1 << 20), Classified::Protective));
    }

    #[test]
    fn a_vbr_needs_strictly_sane_entries() {
        let mut s = sector_with(&[(0, 0x83, 1, 10), (0, 0x83, 5, 10)]);
        s[0] = 0xEB;
        s[2] = 0x90;
        s[11..13].copy_from_slice(&512u16.to_le_bytes());
        s[13] = 4;
        assert!(matches!(classify(&s, 1 << 20), Classified::NoTable), "overlapping entries in a VBR");
        let s = sector_with(&[(0, 0x83, 1, 10), (0, 0x83, 5, 10)]);
        assert!(matches!(classify(&s, 1 << 20), Classified::Table(_)), "a plain MBR may overlap");
    }
}
