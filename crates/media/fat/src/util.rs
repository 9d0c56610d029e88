//! Small helpers shared by both readers: little-endian fields, checked reads,
//! UTF-16 names kept lossless, and DOS date/time decoding.

use exhibit_media_core::{MediaError, ReadAt, read_exact_at};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// A little-endian `u16` at `at`, or 0 when `b` is too short.
pub(crate) fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).and_then(|s| s.try_into().ok()).map_or(0, u16::from_le_bytes)
}

/// A little-endian `u32` at `at`, or 0 when `b` is too short.
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_le_bytes)
}

/// A little-endian `u64` at `at`, or 0 when `b` is too short.
pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

/// The byte at `at`, or 0.
pub(crate) fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

/// Fills `buf` from `offset`; a read past the end is `Corrupt`, naming `what`.
pub(crate) fn read_struct(vol: &dyn ReadAt, offset: u64, buf: &mut [u8], what: &str) -> Result<(), MediaError> {
    read_exact_at(vol, offset, buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            MediaError::corrupt(format!(
                "{what} at byte {offset} ({} bytes) runs past the end of the medium ({} bytes)",
                buf.len(),
                vol.size()
            ))
        } else {
            MediaError::io(format!("reading {what} at byte {offset}"), e)
        }
    })
}

/// UTF-16 code units as UTF-8 bytes. An unpaired surrogate is kept as its
/// 3-byte generalised UTF-8 form (WTF-8), so no name is ever lost or merged.
pub(crate) fn utf16_bytes(units: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(units.len() * 3);
    for decoded in char::decode_utf16(units.iter().copied()) {
        match decoded {
            Ok(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
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

/// A DOS date + time (+ 10 ms units, 0–199) as a naive instant marked UTC;
/// `None` for a zero date or an impossible value.
pub(crate) fn dos_time(date: u16, time: u16, tens_ms: u8) -> Option<OffsetDateTime> {
    if date == 0 {
        return None;
    }
    let month = Month::try_from(((date >> 5) & 0x0F) as u8).ok()?;
    let day = Date::from_calendar_date(1980 + i32::from(date >> 9), month, (date & 0x1F) as u8).ok()?;
    let tens_ms = if tens_ms > 199 { 0 } else { tens_ms };
    let secs = (time & 0x1F) as u8 * 2 + tens_ms / 100;
    let millis = u16::from(tens_ms % 100) * 10;
    let clock = Time::from_hms_milli((time >> 11) as u8, ((time >> 5) & 0x3F) as u8, secs, millis).ok()?;
    Some(PrimitiveDateTime::new(day, clock).assume_utc())
}

/// `ceil(a / b)` for a non-zero `b`.
pub(crate) fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpaired_surrogates_stay_distinct() {
        assert_eq!(utf16_bytes(&[0x41, 0xD800]), b"A\xED\xA0\x80");
        assert_eq!(utf16_bytes(&[0x65E5]), "日".as_bytes());
    }

    #[test]
    fn dos_times_decode_and_reject_nonsense() {
        // 2024-03-15 09:40:02.5
        let t = dos_time((44 << 9) | (3 << 5) | 15, (9 << 11) | (40 << 5) | 1, 50).unwrap();
        assert_eq!(t.to_string(), "2024-03-15 9:40:02.5 +00:00:00");
        assert!(dos_time((44 << 9) | (13 << 5) | 1, 0, 0).is_none());
        assert!(dos_time(0, 0, 0).is_none());
    }
}
