//! ECMA-167 timestamps (1/7.3) to UTC, each naming the field it came from.

use exhibit_core::manifest::SourcedTime;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// Decodes the 12-byte timestamp in `raw`; `None` when it is absent or invalid.
pub fn decode(raw: &[u8], from: &str) -> Option<SourcedTime> {
    let raw: &[u8; 12] = raw.get(..12)?.try_into().ok()?;
    if raw.iter().all(|&b| b == 0) {
        return None;
    }
    let type_tz = u16::from_le_bytes([raw[0], raw[1]]);
    let year = i32::from(i16::from_le_bytes([raw[2], raw[3]]));
    let month = Month::try_from(raw[4]).ok()?;
    let date = Date::from_calendar_date(year, month, raw[5]).ok()?;
    let micros = u32::from(raw[9]) * 10_000 + u32::from(raw[10]) * 100 + u32::from(raw[11]);
    let time = Time::from_hms_micro(raw[6], raw[7], raw[8], micros.min(999_999)).ok()?;
    let local = PrimitiveDateTime::new(date, time);
    // Type 1 (local time) carries a signed 12-bit offset in minutes; -2047
    // means "not specified", which UDF says to read as UTC.
    let mut minutes = i32::from(type_tz & 0x0FFF);
    if minutes >= 0x800 {
        minutes -= 0x1000;
    }
    let offset = if type_tz >> 12 == 1 && minutes != -2047 && minutes.abs() <= 1440 { minutes } else { 0 };
    let offset = UtcOffset::from_whole_seconds(offset * 60).ok()?;
    let at = local.assume_offset(offset).checked_to_offset(UtcOffset::UTC)?;
    Some(SourcedTime { at, from: from.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_applied_and_garbage_is_none() {
        // 2024-03-09 17:00:00 at UTC+01:00 (type 1, +60 minutes).
        let raw = [60, 0x10, 0xE8, 0x07, 3, 9, 17, 0, 0, 0, 0, 0];
        let t = decode(&raw, "udf.fe.mtime").unwrap();
        assert_eq!(t.at.hour(), 16);
        assert_eq!(t.from, "udf.fe.mtime");
        assert!(decode(&[0x01, 0x10, 0xE8, 0x07, 13, 9, 0, 0, 0, 0, 0, 0], "x").is_none());
        assert!(decode(&[0u8; 5], "x").is_none());
    }
}
