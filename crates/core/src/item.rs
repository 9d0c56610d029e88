//! What an item manifest says about one exhibit: description, seizure,
//! seal, device and handling. Recorded in a `described` custody event (its
//! `params.item`), so it is signed and chained with everything else.

use serde::{Deserialize, Serialize};

/// Most bytes in one text field.
pub const FIELD_LIMIT: usize = 4096;

/// The metadata of one exhibit, as given in an item manifest. Text is kept
/// exactly as given (a cell starting `=` stays text; nothing evaluates it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRecord {
    /// What the item is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who seized it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seized_by: Option<String>,
    /// When it was seized: RFC 3339 (`2024-03-01T14:30:00Z`) or a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seized_at: Option<String>,
    /// Where it was seized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seized_place: Option<String>,
    /// Seal or evidence bag number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
    /// Device make.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_make: Option<String>,
    /// Device model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_model: Option<String>,
    /// Device serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_serial: Option<String>,
    /// Pages the paper bundle should have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_pages: Option<u32>,
    /// Whether scans of this exhibit are OCRed; absent means the policy's
    /// default. The OCR stage reads it from the case index
    /// (`CaseIndex::ocr_setting`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr: Option<bool>,
    /// Free notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The cell text that clears a field a previous row set; an empty cell
/// keeps it.
pub const CLEAR: &str = "(clear)";

impl ItemRecord {
    /// This row's fields over the `previous` description: a field the row
    /// leaves empty keeps its previous value, and a field named in
    /// `cleared` (its cell was [`CLEAR`]) is removed.
    pub fn merged_over(&self, previous: &ItemRecord, cleared: &[&str]) -> ItemRecord {
        fn pick<T: Clone>(new: &Option<T>, old: &Option<T>, name: &str, cleared: &[&str]) -> Option<T> {
            if cleared.contains(&name) { None } else { new.clone().or_else(|| old.clone()) }
        }
        let c = cleared;
        ItemRecord {
            description: pick(&self.description, &previous.description, "description", c),
            seized_by: pick(&self.seized_by, &previous.seized_by, "seized_by", c),
            seized_at: pick(&self.seized_at, &previous.seized_at, "seized_at", c),
            seized_place: pick(&self.seized_place, &previous.seized_place, "seized_place", c),
            seal: pick(&self.seal, &previous.seal, "seal", c),
            device_make: pick(&self.device_make, &previous.device_make, "device_make", c),
            device_model: pick(&self.device_model, &previous.device_model, "device_model", c),
            device_serial: pick(&self.device_serial, &previous.device_serial, "device_serial", c),
            expected_pages: pick(&self.expected_pages, &previous.expected_pages, "pages", c),
            ocr: pick(&self.ocr, &previous.ocr, "ocr", c),
            notes: pick(&self.notes, &previous.notes, "notes", c),
        }
    }
}

/// Why a field cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {why}")]
pub struct ItemFieldError {
    /// The field's column name.
    pub field: &'static str,
    /// What is wrong with it.
    pub why: String,
}

impl ItemFieldError {
    /// The kind of every field error.
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Invalid
    }
}

/// Checks a text field: at most [`FIELD_LIMIT`] bytes, and no control
/// characters but newline and tab where `multi_line`. Empty means absent.
pub fn text_field(field: &'static str, value: &str, multi_line: bool) -> Result<Option<String>, ItemFieldError> {
    if value.len() > FIELD_LIMIT {
        return Err(ItemFieldError {
            field,
            why: format!("{} bytes, more than the {FIELD_LIMIT} allowed", value.len()),
        });
    }
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\t');
    if let Some(c) = value.chars().find(|c| c.is_control() && !allowed(*c)) {
        return Err(ItemFieldError { field, why: format!("holds the control character {:?}", c) });
    }
    Ok((!value.trim().is_empty()).then(|| value.to_owned()))
}

/// The bidirectional formatting characters (marks, embeddings, overrides
/// and isolates: U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069),
/// which make text display in another order than it is stored:
/// `invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`. File names and the
/// API's submissions refuse them; the desk's CLI keeps and escapes them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks a seizure time: RFC 3339 with an offset, or a date `YYYY-MM-DD`.
pub fn seized_at(value: &str) -> Result<Option<String>, ItemFieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let rfc3339 = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).is_ok();
    let date = time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]")).is_ok();
    if rfc3339 || date {
        Ok(Some(value.to_owned()))
    } else {
        Err(ItemFieldError {
            field: "seized_at",
            why: format!(
                "{:?} is not a time: give 2024-03-01T14:30:00Z (RFC 3339, with its offset) or a date 2024-03-01",
                value.escape_debug().to_string()
            ),
        })
    }
}

/// Reads an OCR switch: `on`/`off`, `yes`/`no`, `true`/`false`, `1`/`0`.
pub fn ocr_switch(value: &str) -> Result<Option<bool>, ItemFieldError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "on" | "yes" | "true" | "1" => Ok(Some(true)),
        "off" | "no" | "false" | "0" => Ok(Some(false)),
        other => Err(ItemFieldError {
            field: "ocr",
            why: format!("{:?} is not on or off", other.escape_debug().to_string()),
        }),
    }
}

/// Reads an expected page count: empty, or 1 to 100000.
pub fn page_count(value: &str) -> Result<Option<u32>, ItemFieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<u32>() {
        Ok(n) if (1..=100_000).contains(&n) => Ok(Some(n)),
        _ => Err(ItemFieldError {
            field: "pages",
            why: format!("{:?} is not a page count from 1 to 100000", value.escape_debug().to_string()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked_and_kept_as_given() {
        assert_eq!(text_field("notes", "=HYPERLINK(\"x\")", false).unwrap().as_deref(), Some("=HYPERLINK(\"x\")"));
        assert_eq!(text_field("notes", "two\nlines", true).unwrap().as_deref(), Some("two\nlines"));
        assert!(text_field("seal", "two\nlines", false).is_err());
        assert!(text_field("notes", "bell\u{7}", true).is_err());
        assert!(text_field("notes", &"x".repeat(FIELD_LIMIT + 1), true).is_err());
        assert_eq!(text_field("notes", "  ", true).unwrap(), None);
        assert!(seized_at("2024-03-01T14:30:00+01:00").unwrap().is_some());
        assert!(seized_at("2024-03-01").unwrap().is_some());
        assert!(seized_at("yesterday").is_err());
        assert_eq!(ocr_switch("OFF").unwrap(), Some(false));
        assert!(ocr_switch("maybe").is_err());
        assert_eq!(page_count("12").unwrap(), Some(12));
        assert!(page_count("0").is_err() && page_count("-1").is_err() && page_count("1e9").is_err());
    }

    #[test]
    fn empty_cells_keep_and_the_marker_clears() {
        let old = ItemRecord { seal: Some("S1".into()), seized_by: Some("PC 1".into()), ..Default::default() };
        let new = ItemRecord { description: Some("usb".into()), ..Default::default() };
        let merged = new.merged_over(&old, &["seized_by"]);
        assert_eq!(merged.seal.as_deref(), Some("S1"));
        assert_eq!(merged.description.as_deref(), Some("usb"));
        assert_eq!(merged.seized_by, None);
    }
}
