//! Case metadata from the `header` (8-bit text) and `header2` (UTF-16)
//! sections: a `main` category whose field-name line and value line are
//! tab-separated. `header2` wins where both carry a field.

use exhibit_core::manifest::SourcedTime;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Case and acquisition details recorded by the imaging tool.
///
/// EWF-E01 headers carry the acquiring software's version (`av`) and OS
/// (`ov`) but not its name, so there is no software-name field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EwfMetadata {
    /// Case number (`c`).
    pub case_number: Option<String>,
    /// Evidence number (`n`).
    pub evidence_number: Option<String>,
    /// Examiner name (`e`).
    pub examiner: Option<String>,
    /// Description (`a`).
    pub description: Option<String>,
    /// Notes (`t`).
    pub notes: Option<String>,
    /// Acquiry date as stored (`m`): Unix seconds in `header2`, local
    /// `Y M D h m s` in `header`.
    pub acquiry_date: Option<String>,
    /// System date as stored (`u`), same forms as `acquiry_date`.
    pub system_date: Option<String>,
    /// Acquiry software version (`av`).
    pub acquiry_software_version: Option<String>,
    /// Operating system used for the acquiry (`ov`).
    pub acquiry_os: Option<String>,
    /// Media model (`md`), when the tool recorded it.
    pub model: Option<String>,
    /// Media serial number (`sn`), when the tool recorded it.
    pub serial_number: Option<String>,
    /// The acquiry date as UTC, when stored as Unix seconds (`ewf.header2.m`).
    pub acquired: Option<SourcedTime>,
    /// The system date as UTC, when stored as Unix seconds (`ewf.header2.u`).
    pub system_time: Option<SourcedTime>,
}

/// Decodes `header2` (UTF-16 with an optional byte-order mark).
fn utf16_text(raw: &[u8]) -> String {
    let (body, big_endian) = match raw {
        [0xfe, 0xff, rest @ ..] => (rest, true),
        [0xff, 0xfe, rest @ ..] => (rest, false),
        _ => (raw, false),
    };
    let units = body.chunks_exact(2).map(|p| {
        let pair = [p.first().copied().unwrap_or(0), p.get(1).copied().unwrap_or(0)];
        if big_endian { u16::from_be_bytes(pair) } else { u16::from_le_bytes(pair) }
    });
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

/// Field name to value pairs of the `main` category.
fn main_fields(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let Some(at) = lines.iter().position(|l| *l == "main") else { return Vec::new() };
    let (Some(names), Some(values)) = (lines.get(at + 1), lines.get(at + 2)) else { return Vec::new() };
    names.split('\t').zip(values.split('\t')).map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
}

fn unix_time(value: &str, from: &str) -> Option<SourcedTime> {
    let secs: i64 = value.trim().parse().ok()?;
    let at = OffsetDateTime::from_unix_timestamp(secs).ok()?;
    Some(SourcedTime { at, from: from.to_owned() })
}

impl EwfMetadata {
    /// Parses whichever header sections were found (already inflated).
    pub(crate) fn parse(header2: Option<&[u8]>, header: Option<&[u8]>) -> Self {
        let mut meta = Self::default();
        // Latin-1 keeps every byte of an 8-bit codepage visible.
        if let Some(raw) = header {
            meta.fill(&main_fields(&raw.iter().map(|&b| char::from(b)).collect::<String>()), "header");
        }
        if let Some(raw) = header2 {
            meta.fill(&main_fields(&utf16_text(raw)), "header2");
        }
        meta
    }

    fn fill(&mut self, fields: &[(String, String)], section: &str) {
        for (name, value) in fields {
            if value.is_empty() {
                continue;
            }
            let v = Some(value.clone());
            match name.as_str() {
                "c" => self.case_number = v,
                "n" => self.evidence_number = v,
                "e" => self.examiner = v,
                "a" => self.description = v,
                "t" => self.notes = v,
                "av" => self.acquiry_software_version = v,
                "ov" => self.acquiry_os = v,
                "md" => self.model = v,
                "sn" => self.serial_number = v,
                "m" => {
                    self.acquired = unix_time(value, &format!("ewf.{section}.m")).or(self.acquired.take());
                    self.acquiry_date = v;
                }
                "u" => {
                    self.system_time = unix_time(value, &format!("ewf.{section}.u")).or(self.system_time.take());
                    self.system_date = v;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header2_overrides_header_and_dates_parse() {
        let header = b"1\r\nmain\r\nc\te\tm\r\nold\tex\t2024 1 1 0 0 0\r\n\r\n";
        let text = "3\nmain\na\tc\tm\ndesc\tcase\t1704067200\n\n";
        let mut h2 = vec![0xff, 0xfe];
        h2.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let meta = EwfMetadata::parse(Some(&h2), Some(header));
        assert_eq!(meta.case_number.as_deref(), Some("case"));
        assert_eq!(meta.examiner.as_deref(), Some("ex"));
        assert_eq!(meta.description.as_deref(), Some("desc"));
        let at = meta.acquired.expect("parsed");
        assert_eq!((at.at.unix_timestamp(), at.from.as_str()), (1704067200, "ewf.header2.m"));
    }
}
