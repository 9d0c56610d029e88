//! Item manifests: CSV with a header row, or a JSON array of objects with
//! the same keys, one row per exhibit with the item metadata of the
//! scanning desk (description, seizure, seal, device, pages, OCR, notes)
//! and the columns that say where the evidence is. `exhibit ingest
//! --manifest` gives a `path`; the HTTP API's bulk submissions give an
//! `upload` ID or a `sha256`. Every row is checked on its own, so a bad row
//! is reported by its line (CSV) or position (JSON) and the others go
//! ahead; only a manifest that is not CSV or JSON at all, or whose header
//! is wrong, is refused whole.
//!
//! ```
//! use exhibit_app::item_manifest::{ManifestFormat, SourceColumns, parse};
//! let csv = b"exhibit,upload,description\nJS/1,0123456789abcdef0123456789abcdef,Laptop\n";
//! let columns = SourceColumns { names: &["upload", "sha256"], one_required: true };
//! let rows = parse(csv, ManifestFormat::Csv, columns, false).unwrap();
//! let row = rows[0].as_ref().unwrap();
//! assert_eq!((row.place.as_str(), row.exhibit.as_str()), ("line 2", "JS/1"));
//! assert_eq!(row.item.description.as_deref(), Some("Laptop"));
//! ```

mod json_item;

use std::collections::HashMap;

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::item::{self, ItemFieldError, ItemRecord};
use serde::Serialize;
use thiserror::Error;

use json_item::{JsonItem, JsonValue};

/// Largest manifest read, in bytes.
pub const MANIFEST_LIMIT: u64 = 16 << 20;

/// The item metadata columns every manifest may have, beside `exhibit`,
/// `case` and its source columns.
pub const ITEM_COLUMNS: [&str; 11] = [
    "description",
    "seized_by",
    "seized_at",
    "seized_place",
    "seal",
    "device_make",
    "device_model",
    "device_serial",
    "pages",
    "ocr",
    "notes",
];

/// CSV or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// A header row naming the columns, then one record per exhibit.
    Csv,
    /// An array of objects.
    Json,
}

/// The columns that say where a row's evidence is.
#[derive(Debug, Clone, Copy)]
pub struct SourceColumns {
    /// Their names (`path`; or `upload` and `sha256`).
    pub names: &'static [&'static str],
    /// The header must name at least one, and each row fill exactly one.
    pub one_required: bool,
}

/// One good row.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    /// Where it is: `line 4` (CSV) or `item 3` (JSON).
    pub place: String,
    /// The exhibit.
    pub exhibit: ExhibitRef,
    /// The case, if the row names one (the `case` column); each consumer
    /// says what a row of another case means.
    pub case: Option<CaseId>,
    /// The source columns' cells as written (empty ones left out).
    pub sources: HashMap<&'static str, String>,
    /// The item metadata.
    pub item: ItemRecord,
    /// Columns whose cell was `(clear)`: a previous value is removed.
    pub cleared: Vec<&'static str>,
    /// The item columns' cells as written (empty ones left out), to pass
    /// the row on unchanged.
    pub item_cells: Vec<(&'static str, String)>,
}

/// A row that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRow {
    /// `line 4` or `item 3`.
    pub place: String,
    /// The exhibit, if the row named a valid one.
    pub exhibit: Option<String>,
    /// What is wrong and what to do.
    pub reason: String,
}

/// A manifest refused whole.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Larger than [`MANIFEST_LIMIT`].
    #[error("the manifest is more than the {MANIFEST_LIMIT} bytes allowed; split it")]
    TooLarge,
    /// The CSV header row cannot be read.
    #[error("the manifest's header row cannot be read: {0}")]
    Header(String),
    /// A header names a column no manifest has, or lacks a required one.
    #[error("{0}")]
    Columns(String),
    /// Not a JSON array.
    #[error("the manifest is not a JSON array of objects, one per exhibit: {0}")]
    NotJson(String),
    /// A header and nothing else, or an empty JSON array: an empty
    /// submission is a mistake, not a success with nothing in it.
    #[error("the manifest has no rows; give one row per exhibit under the header")]
    NoRows,
}

impl ManifestError {
    /// Every manifest error is the sender's to fix.
    pub fn kind(&self) -> exhibit_core::ErrorKind {
        exhibit_core::ErrorKind::Invalid
    }
}

/// Every row of a manifest, good or bad, in order. With
/// `one_row_per_exhibit`, a second row for an exhibit is refused.
pub fn parse(
    bytes: &[u8],
    format: ManifestFormat,
    sources: SourceColumns,
    one_row_per_exhibit: bool,
) -> Result<Vec<Result<ManifestRow, BadRow>>, ManifestError> {
    if bytes.len() as u64 > MANIFEST_LIMIT {
        return Err(ManifestError::TooLarge);
    }
    // Spreadsheets save UTF-8 CSV with a byte-order mark.
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let cells = match format {
        ManifestFormat::Json => json_cells(text, sources)?,
        ManifestFormat::Csv => csv_cells(text, sources)?,
    };
    if cells.is_empty() {
        return Err(ManifestError::NoRows);
    }
    let mut first_place: HashMap<ExhibitRef, String> = HashMap::new();
    Ok(cells
        .into_iter()
        .map(|(place, cells)| {
            let row = row(&place, &cells?, sources)?;
            if one_row_per_exhibit {
                if let Some(first) = first_place.get(&row.exhibit) {
                    return Err(bad(
                        &place,
                        Some(row.exhibit.as_str()),
                        format!("exhibit {} is already given on {first}; give each exhibit one row", row.exhibit),
                    ));
                }
                first_place.insert(row.exhibit.clone(), place);
            }
            Ok(row)
        })
        .collect())
}

type Cells = Result<HashMap<String, String>, BadRow>;

fn bad(place: &str, exhibit: Option<&str>, reason: String) -> BadRow {
    BadRow { place: place.to_owned(), exhibit: exhibit.map(str::to_owned), reason }
}

fn known(name: &str, sources: SourceColumns) -> bool {
    name == "exhibit" || name == "case" || sources.names.contains(&name) || ITEM_COLUMNS.contains(&name)
}

fn column_list(sources: SourceColumns) -> String {
    let mut all = vec!["exhibit", "case"];
    all.extend(sources.names);
    all.extend(ITEM_COLUMNS);
    all.join(", ")
}

/// CSV: the header names the columns (any order, case-insensitive); a
/// record that is not UTF-8 or has the wrong number of cells is a bad row.
fn csv_cells(bytes: &[u8], sources: SourceColumns) -> Result<Vec<(String, Cells)>, ManifestError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader
        .byte_headers()
        .map_err(|e| ManifestError::Header(e.to_string()))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
        .collect();
    check_header(&header, sources)?;
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(bytes);
    for record in reader.byte_records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| lines.line_at(p.byte()));
                rows.push((format!("line {line}"), Err(bad(&format!("line {line}"), None, format!("not CSV: {e}")))));
                continue;
            }
        };
        let place = format!("line {}", record.position().map_or(0, |p| lines.line_at(p.byte())));
        let cells = if record.len() != header.len() {
            Err(bad(&place, None, format!("{} cells where the header has {}", record.len(), header.len())))
        } else {
            header
                .iter()
                .zip(record.iter())
                .map(|(name, cell)| match std::str::from_utf8(cell) {
                    Ok(text) => Ok((name.clone(), text.to_owned())),
                    Err(_) => Err(bad(&place, None, format!("{name}: not UTF-8 text"))),
                })
                .collect()
        };
        rows.push((place, cells));
    }
    if let Some(opened) = unterminated_quote(bytes) {
        // The csv crate reads an unclosed quote to the end as one cell: the
        // last record holds it, and whatever it swallowed.
        let line = LineCounter::new(bytes).line_at(opened);
        if let Some((place, cells)) = rows.last_mut() {
            let reason = format!(
                "a quoted cell opened on line {line} is never closed, so the rest of the manifest would be read as that cell; close the quote"
            );
            *cells = Err(bad(place, None, reason));
        }
    }
    Ok(rows)
}

/// Where a quoted cell that never closes opens, if one does: the quote
/// rules of the csv crate (a quote opens a cell only at its start, `""`
/// inside stands for one quote).
fn unterminated_quote(bytes: &[u8]) -> Option<u64> {
    #[derive(Clone, Copy)]
    enum State {
        CellStart,
        Unquoted,
        Quoted(usize),
        QuoteInQuoted(usize),
    }
    let mut state = State::CellStart;
    for (i, &b) in bytes.iter().enumerate() {
        state = match (state, b) {
            (State::CellStart, b'"') => State::Quoted(i),
            (State::CellStart | State::Unquoted, b',' | b'\n' | b'\r') => State::CellStart,
            (State::CellStart | State::Unquoted, _) => State::Unquoted,
            (State::Quoted(at), b'"') => State::QuoteInQuoted(at),
            (State::Quoted(at), _) => State::Quoted(at),
            (State::QuoteInQuoted(at), b'"') => State::Quoted(at),
            (State::QuoteInQuoted(_), b',' | b'\n' | b'\r') => State::CellStart,
            (State::QuoteInQuoted(_), _) => State::Unquoted,
        };
    }
    match state {
        State::Quoted(at) => Some(at as u64),
        _ => None,
    }
}

/// Counts lines forward through a manifest, so that naming the line of
/// every record costs one pass over the bytes, not one pass per record (a
/// manifest of 200,000 rows took hours when each record recounted from the
/// start).
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Bytes before this offset are counted...
    counted_to: usize,
    /// ...and hold this many line ends.
    line_ends: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, counted_to: 0, line_ends: 0 }
    }

    /// The 1-based line where the record at byte `at` starts. With CRLF
    /// the csv crate places a record at the `\n` that ends the line before
    /// (and its own line count is one short), so line ends at `at` are
    /// skipped first; a record never starts with one, as blank lines are
    /// skipped.
    fn line_at(&mut self, at: u64) -> u64 {
        let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(self.bytes.len());
        while self.bytes.get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            at += 1;
        }
        if at < self.counted_to {
            // Records come in order; start again should one not.
            self.counted_to = 0;
            self.line_ends = 0;
        }
        let newly = self.bytes[self.counted_to..at].iter().filter(|b| **b == b'\n').count();
        self.line_ends += newly as u64;
        self.counted_to = at;
        self.line_ends + 1
    }
}

/// JSON: an array of objects; values are strings (a whole number for
/// `pages`, a boolean for `ocr`).
fn json_cells(bytes: &[u8], sources: SourceColumns) -> Result<Vec<(String, Cells)>, ManifestError> {
    let items: Vec<JsonItem> = serde_json::from_slice(bytes).map_err(|e| ManifestError::NotJson(e.to_string()))?;
    refuse_unknown_keys(&items, sources)?;
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let place = format!("item {}", i + 1);
            let cells = match item {
                JsonItem::Other => Err(bad(&place, None, "not a JSON object".into())),
                JsonItem::Object(pairs) => object_cells(&place, pairs, sources),
            };
            (place, cells)
        })
        .collect())
}

/// An unknown key refuses the whole manifest, as an unknown CSV column
/// does: it is a misspelt column (`seal_numbr`), and no row should go
/// ahead without the value it was meant to carry.
fn refuse_unknown_keys(items: &[JsonItem], sources: SourceColumns) -> Result<(), ManifestError> {
    let unknown = items.iter().enumerate().find_map(|(i, item)| match item {
        JsonItem::Object(pairs) => {
            pairs.iter().find(|(k, _)| !known(&k.to_ascii_lowercase(), sources)).map(|(k, _)| (i, k))
        }
        JsonItem::Other => None,
    });
    match unknown {
        Some((i, k)) => Err(ManifestError::Columns(format!(
            "item {} has an unknown key {:?}; the keys are {}",
            i + 1,
            k.escape_debug().to_string(),
            column_list(sources)
        ))),
        None => Ok(()),
    }
}

fn object_cells(place: &str, pairs: Vec<(String, JsonValue)>, sources: SourceColumns) -> Cells {
    let mut cells = HashMap::new();
    for (k, v) in pairs {
        let (name, text) = json_cell(place, &k, &v, sources)?;
        if cells.insert(name.clone(), text).is_some() {
            return Err(bad(place, None, format!("the key {name:?} is given twice")));
        }
    }
    Ok(cells)
}

fn json_cell(place: &str, k: &str, v: &JsonValue, sources: SourceColumns) -> Result<(String, String), BadRow> {
    let name = k.to_ascii_lowercase();
    debug_assert!(known(&name, sources), "refuse_unknown_keys ran first");
    let text = json_text(&name, v).map_err(|why| bad(place, None, format!("{name}: {why}")))?;
    Ok((name, text))
}

/// A JSON value as the cell text it stands for. Text fields take strings
/// only: once JSON has parsed `12` or `true`, what was typed is gone
/// (leading zeros, digits past 2^53), and an exhibit ref, seal or serial
/// must be kept exactly. `pages` takes a whole number and `ocr` a boolean,
/// whose text says the same. A refused number is quoted as typed (without
/// `arbitrary_precision`, serde_json reads 22 digits as a float).
fn json_text(name: &str, v: &JsonValue) -> Result<String, String> {
    use serde_json::Value;
    let typed = v.typed.get().trim();
    match (name, &v.value) {
        (_, Value::String(s)) => Ok(s.clone()),
        (_, Value::Null) => Ok(String::new()),
        // Digits as typed: the page count check names a count out of range.
        ("pages", Value::Number(_)) if typed.bytes().all(|b| b.is_ascii_digit()) => Ok(typed.to_owned()),
        ("pages", Value::Number(_)) => Err(format!("{typed} is not a whole number of pages")),
        ("ocr", Value::Bool(b)) => Ok(if *b { "on" } else { "off" }.to_owned()),
        (_, Value::Number(_)) => Err(format!(
            "give text (\"{typed}\"), not a number: put the value in quotes as a JSON string, since a JSON number keeps no leading zeros and loses digits past the 15th"
        )),
        (_, Value::Bool(b)) => Err(format!("give text (\"{b}\"), not true or false")),
        _ => Err("give text, not a list or object".to_owned()),
    }
}

fn check_header(header: &[String], sources: SourceColumns) -> Result<(), ManifestError> {
    if let Some((i, name)) = header.iter().enumerate().find(|(i, name)| header[..*i].contains(name)) {
        return Err(ManifestError::Columns(format!(
            "the manifest names the column {:?} twice (columns {} and {}); give each column once",
            name.escape_debug().to_string(),
            header.iter().position(|h| h == name).map_or(0, |first| first + 1),
            i + 1
        )));
    }
    if let Some(name) = header.iter().find(|name| !known(name, sources)) {
        return Err(ManifestError::Columns(format!(
            "the manifest has an unknown column {:?}; the columns are {}",
            name.escape_debug().to_string(),
            column_list(sources)
        )));
    }
    if !header.iter().any(|h| h == "exhibit") {
        return Err(ManifestError::Columns(format!(
            "the manifest has no `exhibit` column; the columns are {}",
            column_list(sources)
        )));
    }
    if sources.one_required && !header.iter().any(|h| sources.names.contains(&h.as_str())) {
        return Err(ManifestError::Columns(format!(
            "the manifest has no `{}` column; the columns are {}",
            sources.names.join("` or `"),
            column_list(sources)
        )));
    }
    Ok(())
}

fn row(place: &str, cells: &HashMap<String, String>, columns: SourceColumns) -> Result<ManifestRow, BadRow> {
    let cell = |name: &str| cells.get(name).map_or("", String::as_str);
    // Not trimmed: refs are stored exactly as typed, so white space around
    // one is refused with the row named, as `--exhibit` refuses it.
    let typed = cell("exhibit");
    let exhibit: ExhibitRef = typed.parse().map_err(|e: exhibit_core::IdError| bad(place, None, e.to_string()))?;
    let shown = Some(exhibit.as_str());
    let case = match cell("case") {
        "" => None,
        typed => {
            Some(typed.parse::<CaseId>().map_err(|e: exhibit_core::IdError| bad(place, shown, format!("case: {e}")))?)
        }
    };
    let sources: HashMap<&'static str, String> =
        columns.names.iter().filter(|name| !cell(name).is_empty()).map(|name| (*name, cell(name).to_owned())).collect();
    // With one source column an empty cell is the consumer's to explain.
    if columns.one_required && (sources.len() > 1 || (sources.is_empty() && columns.names.len() > 1)) {
        let names = columns.names.join(" or ");
        return Err(bad(place, shown, format!("give exactly one of {names} on each row")));
    }
    let cleared: Vec<&'static str> =
        ITEM_COLUMNS.iter().copied().filter(|c| cell(c).trim().eq_ignore_ascii_case(item::CLEAR)).collect();
    let kept: HashMap<String, String> =
        cells.iter().filter(|(k, _)| !cleared.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let item = item_record(&kept).map_err(|e| bad(place, shown, e.to_string()))?;
    let item_cells =
        ITEM_COLUMNS.iter().filter(|name| !cell(name).is_empty()).map(|name| (*name, cell(name).to_owned())).collect();
    Ok(ManifestRow { place: place.to_owned(), exhibit, case, sources, item, cleared, item_cells })
}

fn item_record(cells: &HashMap<String, String>) -> Result<ItemRecord, ItemFieldError> {
    let cell = |name: &str| cells.get(name).map_or("", String::as_str);
    let text = |name: &'static str| item::text_field(name, cell(name), false);
    Ok(ItemRecord {
        description: item::text_field("description", cell("description"), true)?,
        seized_by: text("seized_by")?,
        seized_at: item::seized_at(cell("seized_at"))?,
        seized_place: text("seized_place")?,
        seal: text("seal")?,
        device_make: text("device_make")?,
        device_model: text("device_model")?,
        device_serial: text("device_serial")?,
        expected_pages: item::page_count(cell("pages"))?,
        ocr: item::ocr_switch(cell("ocr"))?,
        notes: item::text_field("notes", cell("notes"), true)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPLOADS: SourceColumns = SourceColumns { names: &["upload", "sha256"], one_required: true };

    #[test]
    fn a_case_column_names_each_rows_case_and_a_bad_one_is_that_rows_error() {
        let csv = b"exhibit,case,upload,pages,notes\nJS/1,2024/00123/POL,u1,3,\"a, b\"\nJS/2,,u2,,\nJS/3,../etc,u3,,\n";
        let rows = parse(csv, ManifestFormat::Csv, UPLOADS, false).unwrap();
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.case.as_ref().map(CaseId::as_str), Some("2024/00123/POL"));
        assert_eq!(first.item_cells, [("pages", "3".to_owned()), ("notes", "a, b".to_owned())]);
        assert_eq!(rows[1].as_ref().unwrap().case, None);
        let bad = rows[2].as_ref().unwrap_err();
        assert_eq!((bad.place.as_str(), bad.exhibit.as_deref()), ("line 4", Some("JS/3")));
        assert!(bad.reason.starts_with("case: "), "{}", bad.reason);
    }

    #[test]
    fn json_rows_take_the_same_columns_and_unknown_ones_are_refused() {
        let json = br#"[{"exhibit": "JS/1", "case": "42AB1234520", "sha256": "ab", "ocr": true}, {"exhibit": "JS/2"}]"#;
        let rows = parse(json, ManifestFormat::Json, UPLOADS, false).unwrap();
        let first = rows[0].as_ref().unwrap();
        assert_eq!((first.case.as_ref().map(CaseId::as_str), first.item.ocr), (Some("42AB1234520"), Some(true)));
        // An unknown key refuses the whole manifest, as an unknown CSV column does.
        let json = br#"[{"exhibit": "JS/1", "sha256": "ab"}, {"exhibit": "JS/2", "colour": "red"}]"#;
        let refused = parse(json, ManifestFormat::Json, UPLOADS, false).unwrap_err();
        assert!(
            matches!(&refused, ManifestError::Columns(m) if m.contains("item 2 has an unknown key \"colour\"")),
            "{refused}"
        );
        let header = parse(b"exhibit,colour\nJS/1,red\n", ManifestFormat::Csv, UPLOADS, false).unwrap_err();
        assert!(matches!(header, ManifestError::Columns(_)), "{header}");
    }

    /// A number in a text field is refused with the digits as typed (a
    /// 22-digit serial is no float), and advice to give it as a string.
    #[test]
    fn a_long_number_is_quoted_as_typed_with_advice_to_give_a_string() {
        let json = br#"[{"exhibit": "JS/1", "sha256": "ab", "device_serial": 1234567890123456789012},
                        {"exhibit": "JS/2", "sha256": "ab", "seal": 7.50},
                        {"exhibit": "JS/3", "sha256": "ab", "pages": 99999999999999999999999}]"#;
        let rows = parse(json, ManifestFormat::Json, UPLOADS, false).unwrap();
        let why = |i: usize| rows[i].as_ref().map(|_| String::new()).unwrap_or_else(|bad| bad.reason.clone());
        let serial = why(0);
        assert!(serial.contains("device_serial: give text (\"1234567890123456789012\")"), "{serial}");
        assert!(serial.contains("in quotes as a JSON string"), "{serial}");
        assert!(!serial.contains("e21") && !serial.contains("1.23"), "{serial}");
        assert!(why(1).contains("(\"7.50\")"), "{}", why(1));
        assert!(why(2).contains("99999999999999999999999"), "{}", why(2));
    }

    #[test]
    fn every_row_of_a_long_crlf_manifest_is_named_by_its_own_line() {
        // 50,000 rows, one spread over two lines by a quoted cell: each
        // row's line comes from one forward count (recounting from the
        // start for each row took minutes here, and hours at 200,000).
        let mut csv = String::from("exhibit,upload,notes\r\n");
        csv.push_str("JS/1,u0,\"two\r\nlines\"\r\n");
        for i in 1..50_000 {
            csv.push_str(&format!("JS/1,u{i},\r\n"));
        }
        csv.push_str("../bad,u50000,\r\n");
        let rows = parse(csv.as_bytes(), ManifestFormat::Csv, UPLOADS, false).unwrap();
        let place = |i: usize| rows[i].as_ref().map_or_else(|bad| bad.place.clone(), |row| row.place.clone());
        assert_eq!(rows.len(), 50_001);
        assert_eq!(place(0), "line 2", "a bad row too: its note holds a CR");
        assert_eq!(place(1), "line 4", "after the row of two lines");
        assert_eq!(place(49_999), "line 50002");
        assert_eq!(rows[50_000].as_ref().unwrap_err().place, "line 50003");
    }

    #[test]
    fn a_column_named_twice_is_refused_whole_naming_it() {
        let csv = b"exhibit,upload,Notes,notes\nJS/1,u1,first,second\n";
        let refused = parse(csv, ManifestFormat::Csv, UPLOADS, false).unwrap_err();
        assert!(matches!(refused, ManifestError::Columns(_)), "{refused}");
        assert!(refused.to_string().contains("\"notes\" twice (columns 3 and 4)"), "{refused}");
    }

    #[test]
    fn an_unterminated_quote_fails_its_row_by_line_and_the_rows_before_go_ahead() {
        let csv = b"exhibit,upload,notes\nJS/1,u1,\"fine, \"\"quoted\"\"\"\nJS/2,u2,5\" floppy\nJS/3,u3,\"never closed\nJS/4,u4,\n";
        let rows = parse(csv, ManifestFormat::Csv, UPLOADS, false).unwrap();
        assert_eq!(rows.len(), 3, "the open quote swallowed line 5");
        assert_eq!(rows[0].as_ref().unwrap().item.notes.as_deref(), Some("fine, \"quoted\""));
        assert_eq!(rows[1].as_ref().unwrap().item.notes.as_deref(), Some("5\" floppy"));
        let bad = rows[2].as_ref().unwrap_err();
        assert_eq!(bad.place, "line 4");
        assert!(bad.reason.contains("opened on line 4 is never closed"), "{}", bad.reason);
    }

    #[test]
    fn a_header_without_rows_or_an_empty_array_is_no_submission() {
        for (bytes, format) in [
            (&b"exhibit,upload\n"[..], ManifestFormat::Csv),
            (b"exhibit,upload", ManifestFormat::Csv),
            (b"[]", ManifestFormat::Json),
        ] {
            let refused = parse(bytes, format, UPLOADS, false).unwrap_err();
            assert!(matches!(refused, ManifestError::NoRows), "{refused}");
            assert!(refused.to_string().starts_with("the manifest has no rows"));
        }
    }
}
