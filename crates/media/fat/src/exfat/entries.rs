//! exFAT directory entry sets: a file entry (0x85), its stream extension
//! (0xC0) and file name entries (0xC1), checksum-verified. Deleted sets carry
//! the same types with the in-use bit (0x80) cleared.

use std::collections::BTreeMap;

use exhibit_core::manifest::{SourcedTime, Timestamps};
use time::{Duration, OffsetDateTime};

use crate::util::{byte, dos_time, le16, le32, le64, utf16_bytes};

const ATTRS: [(u16, &str); 5] =
    [(0x01, "read-only"), (0x02, "hidden"), (0x04, "system"), (0x10, "directory"), (0x20, "archive")];

/// One parsed file entry set.
pub(crate) struct FileSet {
    pub deleted: bool,
    pub checksum_ok: bool,
    pub attrs: u16,
    pub name: Vec<u8>,
    pub no_fat_chain: bool,
    pub first_cluster: u32,
    pub valid_len: u64,
    pub data_len: u64,
    pub timestamps: Timestamps,
    pub zone_known: bool,
}

impl FileSet {
    /// Whether the set describes a directory.
    pub(crate) fn is_dir(&self) -> bool {
        self.attrs & 0x10 != 0
    }

    /// Attribute flags as names, plus the time-zone note when needed.
    pub(crate) fn attributes(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = ATTRS
            .iter()
            .filter(|(bit, _)| self.attrs & bit != 0)
            .map(|(_, name)| (name.to_string(), "true".into()))
            .collect();
        if !self.zone_known {
            out.insert("timezone".into(), "unknown (exFAT entry has no UTC offset)".into());
        }
        if !self.checksum_ok {
            out.insert("set_checksum".into(), "mismatch".into());
        }
        out
    }
}

/// The set checksum, computed as if every entry were in use.
fn set_checksum(slots: &[[u8; 32]]) -> u16 {
    let mut sum = 0u16;
    for (i, slot) in slots.iter().enumerate() {
        for (j, &b) in slot.iter().enumerate() {
            if i == 0 && (j == 2 || j == 3) {
                continue;
            }
            let b = if j == 0 { b | 0x80 } else { b };
            sum = sum.rotate_right(1).wrapping_add(u16::from(b));
        }
    }
    sum
}

/// Parses a complete set (`slots[0]` is the file entry).
pub(crate) fn parse(slots: &[[u8; 32]]) -> Result<FileSet, String> {
    let (Some(file), Some(stream)) = (slots.first(), slots.get(1)) else {
        return Err("entry set is shorter than a file and a stream entry".into());
    };
    if stream[0] & 0x7F != 0x40 {
        return Err(format!("entry set's second entry has type {:#04x}, not a stream extension", stream[0]));
    }
    let name_len = usize::from(byte(stream, 3));
    let names: Vec<&[u8; 32]> = slots.iter().skip(2).take_while(|s| s[0] & 0x7F == 0x41).collect();
    if name_len == 0 || names.len() * 15 < name_len {
        return Err(format!("entry set names {name_len} characters but holds {} name entries", names.len()));
    }
    let units: Vec<u16> =
        names.iter().flat_map(|s| (0..15).map(move |k| le16(s.as_slice(), 2 + 2 * k))).take(name_len).collect();
    let (timestamps, zone_known) = times(file);
    Ok(FileSet {
        deleted: file[0] & 0x80 == 0,
        checksum_ok: set_checksum(slots) == le16(file, 2),
        attrs: le16(file, 4),
        name: utf16_bytes(&units),
        no_fat_chain: byte(stream, 1) & 0x02 != 0,
        first_cluster: le32(stream, 20),
        valid_len: le64(stream, 8),
        data_len: le64(stream, 24),
        timestamps,
        zone_known,
    })
}

/// Create, modify and access times, shifted to UTC when the offset is valid.
fn times(file: &[u8; 32]) -> (Timestamps, bool) {
    let mut known = true;
    let mut one = |at: usize, tens: Option<usize>, zone: usize, from: &str| {
        let raw = le32(file, at);
        let local = dos_time((raw >> 16) as u16, raw as u16, tens.map_or(0, |t| byte(file, t)))?;
        let (utc, ok) = to_utc(local, byte(file, zone));
        known &= ok;
        Some(SourcedTime { at: utc, from: from.into() })
    };
    let created = one(8, Some(20), 22, "exfat.file.ctime");
    let modified = one(12, Some(21), 23, "exfat.file.mtime");
    let accessed = one(16, None, 24, "exfat.file.atime");
    (Timestamps { created, modified, accessed, changed: None }, known)
}

/// Local time minus its UTC offset (bit 7 valid, 7-bit signed 15-minute units).
fn to_utc(local: OffsetDateTime, zone: u8) -> (OffsetDateTime, bool) {
    if zone & 0x80 == 0 {
        return (local, false);
    }
    let quarters = i64::from(((zone << 1) as i8) >> 1);
    (local.checked_sub(Duration::minutes(15 * quarters)).unwrap_or(local), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_shift_to_utc() {
        let t = dos_time((44 << 9) | (3 << 5) | 15, 9 << 11, 0).unwrap();
        // +01:00 is 4 quarters.
        assert_eq!(to_utc(t, 0x80 | 4).0.hour(), 8);
        // -00:15 is 0x7F.
        assert_eq!(to_utc(t, 0xFF).0.minute(), 15);
        assert!(!to_utc(t, 4).1);
    }
}
