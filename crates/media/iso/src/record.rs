//! ISO 9660 directory records (ECMA-119 9.1), identifiers and timestamps.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Flag bit: hidden ("existence").
pub(crate) const FLAG_HIDDEN: u8 = 0x01;
/// Flag bit: a directory.
pub(crate) const FLAG_DIRECTORY: u8 = 0x02;
/// Flag bit: an associated file.
pub(crate) const FLAG_ASSOCIATED: u8 = 0x04;
/// Flag bit: more records of this file follow.
pub(crate) const FLAG_MULTI_EXTENT: u8 = 0x80;

/// Fixed part of a directory record, before the identifier.
const FIXED_LEN: usize = 33;

/// One directory record, borrowed from its directory's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirRecord<'a> {
    /// Record length in bytes.
    pub len: usize,
    /// Extended attribute record length, in logical blocks.
    pub ext_attr_len: u8,
    /// First logical block of the extent.
    pub lba: u32,
    /// Data length of this extent in bytes.
    pub data_len: u32,
    /// Recording date and time, 7-byte form.
    pub recorded: [u8; 7],
    /// File flags.
    pub flags: u8,
    /// Interleave file unit size (0: not interleaved).
    pub unit_size: u8,
    /// Interleave gap size.
    pub gap_size: u8,
    /// File identifier as stored.
    pub name: &'a [u8],
    /// System use area (SUSP / Rock Ridge).
    pub system_use: &'a [u8],
}

/// Little-endian half of a both-endian 32-bit field.
pub(crate) fn le_u32(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Little-endian half of a both-endian 16-bit field.
pub(crate) fn le_u16(buf: &[u8], at: usize) -> Option<u16> {
    let bytes = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(bytes.try_into().ok()?))
}

impl<'a> DirRecord<'a> {
    /// Parses the record at the start of `buf`; `None` when it is malformed.
    pub(crate) fn parse(buf: &'a [u8]) -> Option<Self> {
        let len = usize::from(*buf.first()?);
        let rec = buf.get(..len)?;
        let name_len = usize::from(*rec.get(32)?);
        let name_end = FIXED_LEN.checked_add(name_len)?;
        if name_len == 0 || name_end > len {
            return None;
        }
        let su_start = name_end + usize::from(name_len % 2 == 0);
        Some(Self {
            len,
            ext_attr_len: *rec.get(1)?,
            lba: le_u32(rec, 2)?,
            data_len: le_u32(rec, 10)?,
            recorded: rec.get(18..25)?.try_into().ok()?,
            flags: *rec.get(25)?,
            unit_size: *rec.get(26)?,
            gap_size: *rec.get(27)?,
            name: rec.get(FIXED_LEN..name_end)?,
            system_use: rec.get(su_start..).unwrap_or_default(),
        })
    }

    /// Whether this is the `.` (0x00) or `..` (0x01) record.
    pub(crate) fn is_dot_or_dotdot(&self) -> bool {
        matches!(self.name, [0] | [1])
    }

    /// Whether the directory flag is set.
    pub(crate) fn is_dir(&self) -> bool {
        self.flags & FLAG_DIRECTORY != 0
    }
}

/// Drops a `;version` suffix and the `.` left by a file without extension.
fn strip_version(name: &[u8]) -> &[u8] {
    let base = match name.iter().rposition(|&b| b == b';') {
        Some(i) if name.get(i + 1..).is_some_and(|v| v.iter().all(u8::is_ascii_digit)) => name.get(..i).unwrap_or(name),
        _ => name,
    };
    match base.strip_suffix(b".") {
        Some(stem) if !stem.is_empty() => stem,
        _ => base,
    }
}

/// A primary-tree identifier as a name (version suffix dropped).
pub(crate) fn iso_name(raw: &[u8]) -> Vec<u8> {
    strip_version(raw).to_vec()
}

/// A Joliet (UCS-2 big-endian) identifier as UTF-8, and whether decoding was
/// lossy (unpaired surrogates or an odd byte count).
pub(crate) fn joliet_name(raw: &[u8]) -> (Vec<u8>, bool) {
    let (text, lossy) = ucs2_be(raw);
    (strip_version(text.as_bytes()).to_vec(), lossy)
}

/// Decodes UCS-2/UTF-16 big-endian text, replacing what cannot be decoded.
pub(crate) fn ucs2_be(raw: &[u8]) -> (String, bool) {
    let units = raw.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let mut lossy = raw.len() % 2 != 0;
    let text = char::decode_utf16(units)
        .map(|c| {
            c.unwrap_or_else(|_| {
                lossy = true;
                char::REPLACEMENT_CHARACTER
            })
        })
        .collect();
    (text, lossy)
}

fn datetime(ymd: (i32, u8, u8), hms: (u8, u8, u8), nanos: u32, offset_quarters: u8) -> Option<OffsetDateTime> {
    let quarters = i32::from(offset_quarters as i8);
    if !(-48..=52).contains(&quarters) {
        return None;
    }
    let date = Date::from_calendar_date(ymd.0, Month::try_from(ymd.1).ok()?, ymd.2).ok()?;
    let time = Time::from_hms_nano(hms.0, hms.1, hms.2, nanos).ok()?;
    let offset = UtcOffset::from_whole_seconds(quarters * 15 * 60).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset).to_offset(UtcOffset::UTC))
}

/// The 7-byte directory-record time (ECMA-119 9.1.5); `None` if unset or invalid.
pub(crate) fn short_time(b: &[u8]) -> Option<OffsetDateTime> {
    let b: &[u8; 7] = b.try_into().ok()?;
    if b[..6].iter().all(|&x| x == 0) {
        return None;
    }
    datetime((1900 + i32::from(b[0]), b[1], b[2]), (b[3], b[4], b[5]), 0, b[6])
}

/// The 17-byte digits form (ECMA-119 8.4.26.1); `None` if unset or invalid.
pub(crate) fn long_time(b: &[u8]) -> Option<OffsetDateTime> {
    let b: &[u8; 17] = b.try_into().ok()?;
    let digits = b.get(..16)?;
    if !digits.iter().all(u8::is_ascii_digit) || digits.iter().all(|&d| d == b'0') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        digits.get(r)?.iter().try_fold(0u32, |acc, &d| acc.checked_mul(10)?.checked_add(u32::from(d - b'0')))
    };
    let small = |r| num(r).and_then(|v| u8::try_from(v).ok());
    let year = i32::try_from(num(0..4)?).ok()?;
    let nanos = num(14..16)?.checked_mul(10_000_000)?;
    datetime((year, small(4..6)?, small(6..8)?), (small(8..10)?, small(10..12)?, small(12..14)?), nanos, b[16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_drop_versions_and_bare_dots() {
        assert_eq!(iso_name(b"COPYING.;1"), b"COPYING");
        assert_eq!(iso_name(b"A.TXT;1"), b"A.TXT");
        assert_eq!(iso_name(b"DIR"), b"DIR");
        assert_eq!(iso_name(b"X;Y"), b"X;Y");
        assert_eq!(joliet_name(&[0, b'a', 0, b';', 0, b'1']).0, b"a");
        assert!(joliet_name(&[0xd8, 0, 0, b'a']).1);
    }

    #[test]
    fn times_convert_to_utc_and_reject_garbage() {
        let t = short_time(&[124, 3, 1, 12, 0, 0, 4]).unwrap();
        assert_eq!(t.hour(), 11);
        assert!(short_time(&[124, 13, 1, 12, 0, 0, 0]).is_none());
        assert!(short_time(&[0; 7]).is_none());
        let t = long_time(b"2024030112000050\0").unwrap();
        assert_eq!(t.millisecond(), 500);
        assert!(long_time(b"0000000000000000\0").is_none());
        assert!(long_time(b"20240301120000x0\0").is_none());
    }
}
