//! Little-endian field reads that never panic, NTFS times and UTF-16 names.

use exhibit_core::manifest::SourcedTime;
use time::OffsetDateTime;

/// `len` bytes at `off`, if they are inside `buf`.
pub(crate) fn field(buf: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    buf.get(off..off.checked_add(len)?)
}

/// A little-endian u16 at `off`.
pub(crate) fn le16(buf: &[u8], off: usize) -> Option<u16> {
    field(buf, off, 2)?.try_into().ok().map(u16::from_le_bytes)
}

/// A little-endian u32 at `off`.
pub(crate) fn le32(buf: &[u8], off: usize) -> Option<u32> {
    field(buf, off, 4)?.try_into().ok().map(u32::from_le_bytes)
}

/// A little-endian u64 at `off`.
pub(crate) fn le64(buf: &[u8], off: usize) -> Option<u64> {
    field(buf, off, 8)?.try_into().ok().map(u64::from_le_bytes)
}

/// UTF-16LE code units from raw bytes (an odd trailing byte is dropped).
pub(crate) fn utf16_units(raw: &[u8]) -> Vec<u16> {
    raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

/// A name as bytes: UTF-8 when the UTF-16 is valid, otherwise WTF-8 (an
/// unpaired surrogate is kept as its 3-byte form), so no name is lost.
pub(crate) fn name_bytes(units: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(units.len() * 3);
    for decoded in char::decode_utf16(units.iter().copied()) {
        match decoded {
            Ok(c) => {
                let mut tmp = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
            Err(e) => {
                let u = e.unpaired_surrogate();
                out.extend_from_slice(&[
                    0xE0 | (u >> 12) as u8,
                    0x80 | ((u >> 6) & 0x3F) as u8,
                    0x80 | (u & 0x3F) as u8,
                ]);
            }
        }
    }
    out
}

/// Seconds between 1601-01-01 and 1970-01-01.
const EPOCH_DIFF_SECS: i128 = 11_644_473_600;

/// An NTFS time (100 ns ticks since 1601) as a UTC instant; `None` for 0 or
/// values outside what `time` represents.
pub(crate) fn ntfs_time(ticks: u64) -> Option<OffsetDateTime> {
    if ticks == 0 {
        return None;
    }
    let nanos = (i128::from(ticks) * 100).checked_sub(EPOCH_DIFF_SECS * 1_000_000_000)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// A sourced timestamp named after its structure, e.g. `ntfs.$SI.mtime`.
pub(crate) fn sourced(ticks: u64, from: &str) -> Option<SourcedTime> {
    ntfs_time(ticks).map(|at| SourcedTime { at, from: from.to_string() })
}

/// RFC 3339 text of an NTFS time, or the raw tick count when out of range.
pub(crate) fn time_text(ticks: u64) -> String {
    ntfs_time(ticks)
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("raw:{ticks}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_times() {
        assert_eq!(name_bytes(&[0x61, 0xD800, 0x62]), b"a\xED\xA0\x80b");
        assert_eq!(
            name_bytes(&utf16_units("café".encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<_>>().as_slice())),
            "café".as_bytes()
        );
        assert_eq!(ntfs_time(116_444_736_000_000_000).map(|t| t.unix_timestamp()), Some(0));
        assert!(ntfs_time(u64::MAX).is_some() || ntfs_time(u64::MAX).is_none());
        assert_eq!(le32(&[1, 0, 0], 0), None);
    }
}
