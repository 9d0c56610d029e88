//! FAT directory entries: 8.3 names (OEM code page kept as bytes), VFAT long
//! names (checksum-verified, UCS-2 LE), attributes and DOS timestamps.

use std::collections::BTreeMap;

use exhibit_core::manifest::{SourcedTime, Timestamps};

use crate::util::{byte, dos_time, le16, utf16_bytes};

/// Attribute bits and the names recorded for them.
const ATTRS: [(u8, &str); 6] =
    [(0x01, "read-only"), (0x02, "hidden"), (0x04, "system"), (0x08, "volume"), (0x10, "directory"), (0x20, "archive")];

/// The LFN checksum of an 11-byte short name.
pub(crate) fn lfn_checksum(name: &[u8]) -> u8 {
    name.iter().fold(0u8, |sum, &c| sum.rotate_right(1).wrapping_add(c))
}

/// The 11 name bytes of a slot.
pub(crate) fn name11(slot: &[u8; 32]) -> [u8; 11] {
    let mut n = [0u8; 11];
    n.copy_from_slice(slot.get(..11).unwrap_or(&[0; 11]));
    n
}

/// The 8.3 name as bytes, NT lower-case flags applied. A deleted entry's
/// lost first byte is shown as `?`; a stored 0x05 stands for 0xE5.
pub(crate) fn short_name(slot: &[u8; 32], deleted: bool) -> Vec<u8> {
    let mut n = name11(slot);
    match n[0] {
        _ if deleted => n[0] = b'?',
        0x05 => n[0] = 0xE5,
        _ => {}
    }
    let flags = byte(slot, 12);
    let (base, ext) = n.split_at_mut(8);
    lower_if(base, flags & 0x08 != 0);
    lower_if(ext, flags & 0x10 != 0);
    let mut out = trim(base).to_vec();
    if !trim(ext).is_empty() {
        out.push(b'.');
        out.extend_from_slice(trim(ext));
    }
    out
}

fn lower_if(part: &mut [u8], on: bool) {
    if on {
        part.make_ascii_lowercase();
    }
}

fn trim(part: &[u8]) -> &[u8] {
    let end = part.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
    part.get(..end).unwrap_or_default()
}

/// Attribute flags, the short name and the time-zone caveat.
pub(crate) fn attributes(slot: &[u8; 32]) -> BTreeMap<String, String> {
    let bits = byte(slot, 11);
    let mut out: BTreeMap<String, String> =
        ATTRS.iter().filter(|(bit, _)| bits & bit != 0).map(|(_, name)| (name.to_string(), "true".into())).collect();
    out.insert("timezone".into(), "unknown (FAT stores local time)".into());
    out
}

/// Creation (10 ms), modification and access (date only) times.
pub(crate) fn timestamps(slot: &[u8; 32]) -> Timestamps {
    let at = |t: Option<time::OffsetDateTime>, from: &str| t.map(|at| SourcedTime { at, from: from.into() });
    Timestamps {
        created: at(dos_time(le16(slot, 16), le16(slot, 14), byte(slot, 13)), "fat.dirent.ctime"),
        modified: at(dos_time(le16(slot, 24), le16(slot, 22), 0), "fat.dirent.mtime"),
        accessed: at(dos_time(le16(slot, 18), 0, 0), "fat.dirent.atime"),
        changed: None,
    }
}

/// Long-name slots collected before a short entry.
#[derive(Default)]
pub(crate) struct LfnRun {
    /// 13 UCS-2 units per slot, in on-disk order (last part first).
    parts: Vec<[u16; 13]>,
    checksum: u8,
    /// Sequence number the next slot must carry (allocated runs).
    expect: u8,
    deleted: bool,
}

impl LfnRun {
    /// Forgets any collected parts (an orphan run).
    pub(crate) fn clear(&mut self) {
        self.parts.clear();
    }

    /// Adds one LFN slot; out-of-order or mismatched slots start over.
    pub(crate) fn push(&mut self, slot: &[u8; 32]) {
        let (ord, sum, deleted) = (slot[0], byte(slot, 13), slot[0] == 0xE5);
        let fits = !self.parts.is_empty() && self.checksum == sum && self.deleted == deleted && self.parts.len() < 20;
        let continues = fits && (deleted || ord & 0x1F == self.expect.wrapping_sub(1));
        if !continues {
            self.parts.clear();
            if !deleted && (ord & 0x40 == 0 || !(1..=20).contains(&(ord & 0x1F))) {
                return;
            }
        }
        self.checksum = sum;
        self.deleted = deleted;
        self.expect = ord & 0x1F;
        self.parts.push(units(slot));
    }

    /// The long name for the short entry `slot`, if the run belongs to it.
    pub(crate) fn take(&mut self, slot: &[u8; 32], deleted: bool) -> Option<Vec<u8>> {
        let units = self.name_units()?;
        let short = name11(slot);
        let ok = if deleted {
            self.deleted && deleted_checksum_fits(&short, self.checksum, units.first().copied())
        } else {
            !self.deleted && self.expect == 1 && lfn_checksum(&short) == self.checksum
        };
        self.parts.clear();
        ok.then(|| utf16_bytes(&units))
    }

    /// The name's units, if the run is well formed (one terminator, then padding).
    fn name_units(&self) -> Option<Vec<u16>> {
        let all: Vec<u16> = self.parts.iter().rev().flatten().copied().collect();
        let len = all.iter().position(|&u| u == 0).unwrap_or(all.len());
        let padding_ok = all.get(len + 1..).unwrap_or_default().iter().all(|&u| u == 0xFFFF);
        let sized = len > (self.parts.len().saturating_sub(1)) * 13 && len > 0;
        (padding_ok && sized).then(|| all.get(..len).unwrap_or_default().to_vec())
    }
}

/// A deleted entry lost its first name byte, so the checksum decides it: the
/// one first byte that makes the checksum match must be the long name's first
/// character upper-cased (or `_`, or anything for a non-ASCII first character).
fn deleted_checksum_fits(short: &[u8; 11], stored: u8, first: Option<u16>) -> bool {
    let mut probe = *short;
    let Some(c0) = (0..=255u8).find(|&c| {
        probe[0] = c;
        lfn_checksum(&probe) == stored
    }) else {
        return false;
    };
    match first.and_then(|u| u8::try_from(u).ok()).filter(u8::is_ascii) {
        Some(b'.' | b' ') | None => c0 >= 0x20 && c0 != 0xE5,
        Some(c) => c0 == c.to_ascii_uppercase() || c0 == b'_',
    }
}

fn units(slot: &[u8; 32]) -> [u16; 13] {
    let mut out = [0u16; 13];
    let offsets = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];
    for (u, at) in out.iter_mut().zip(offsets) {
        *u = le16(slot, at);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(name: &[u8; 11], flags: u8) -> [u8; 32] {
        let mut s = [0u8; 32];
        s[..11].copy_from_slice(name);
        s[12] = flags;
        s
    }

    #[test]
    fn short_names_follow_the_rules() {
        assert_eq!(short_name(&short(b"README  TXT", 0), false), b"README.TXT");
        assert_eq!(short_name(&short(b"MULTI   BIN", 0x18), false), b"multi.bin");
        assert_eq!(short_name(&short(b"\x05BC        ", 0), false), b"\xE5BC");
        assert_eq!(short_name(&short(b"\xE5ONE       ", 0x08), true), b"?one");
    }

    #[test]
    fn long_names_need_their_checksum() {
        let s = short(b"LONGNA~1TXT", 0);
        let mut lfn = [0xFFu8; 32];
        lfn[0] = 0x41;
        lfn[11] = 0x0F;
        lfn[13] = lfn_checksum(&name11(&s));
        for (i, at) in [1, 3, 5, 7, 9, 14].iter().enumerate() {
            let c = [b'l', b'o', b'n', b'g', b'!', 0][i];
            lfn[*at] = c;
            lfn[at + 1] = 0;
        }
        let mut run = LfnRun::default();
        run.push(&lfn);
        assert_eq!(run.take(&s, false).as_deref(), Some(b"long!".as_slice()));
        lfn[13] ^= 1;
        run.push(&lfn);
        assert_eq!(run.take(&s, false), None);
    }
}
