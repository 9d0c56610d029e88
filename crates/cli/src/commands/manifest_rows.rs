//! Reading an item manifest (CSV with a header row, or a JSON array of
//! objects with the same keys): one row per exhibit. Every row is checked
//! on its own, so a bad row is reported by its line (CSV) or position
//! (JSON) and the others go ahead.
//!
//! Paths: a row's `path` is relative to the manifest's folder and must stay
//! inside it. Absolute paths, `..` components and symlinks (in the path or
//! as the path) that lead outside are refused, so a manifest received from
//! elsewhere cannot pull host files (keys, other cases) into a case.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use exhibit_core::ids::ExhibitRef;
use exhibit_core::item::{self, ItemFieldError, ItemRecord};

/// Largest manifest read, in bytes.
pub const MANIFEST_LIMIT: u64 = 16 << 20;

/// The columns a manifest may have; `exhibit` and `path` are required.
pub const COLUMNS: [&str; 13] = [
    "exhibit",
    "path",
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

/// One good row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Where it is: `line 4` (CSV) or `item 3` (JSON).
    pub place: String,
    pub exhibit: ExhibitRef,
    /// The path to ingest: the manifest's folder joined with the row's path.
    pub path: PathBuf,
    pub item: ItemRecord,
    /// Columns whose cell was `(clear)`: a previous value is removed.
    pub cleared: Vec<&'static str>,
}

/// A row that cannot be ingested, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BadRow {
    pub place: String,
    pub exhibit: Option<String>,
    pub reason: String,
}

/// Reads a manifest: its SHA-256, and every row, good or bad, in order.
pub fn read(manifest: &Path) -> anyhow::Result<(exhibit_core::Sha256Digest, Vec<Result<Row, BadRow>>)> {
    let file = exhibit_core::regular_file::open_regular(manifest)
        .with_context(|| format!("cannot open the manifest {}", manifest.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MANIFEST_LIMIT + 1), &mut bytes)
        .with_context(|| format!("cannot read the manifest {}", manifest.display()))?;
    if bytes.len() as u64 > MANIFEST_LIMIT {
        anyhow::bail!("the manifest {} is more than the {MANIFEST_LIMIT} bytes allowed", manifest.display());
    }
    // Rows are joined to the folder as given (so recorded paths read as
    // the operator wrote them) and checked against its resolved form.
    let folder = manifest.parent().unwrap_or(Path::new(""));
    let resolvable = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
    let inside = resolvable.canonicalize().with_context(|| format!("cannot resolve {}", resolvable.display()))?;
    // Spreadsheets save UTF-8 CSV with a byte-order mark.
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let cells = if manifest.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        json_cells(text)?
    } else {
        csv_cells(text)?
    };
    let mut first_line: HashMap<ExhibitRef, String> = HashMap::new();
    let rows = cells
        .into_iter()
        .map(|(place, cells)| {
            let cells = cells?;
            let row = row(&place, &cells, folder, &inside)?;
            if let Some(first) = first_line.get(&row.exhibit) {
                return Err(bad(
                    &place,
                    Some(row.exhibit.as_str()),
                    format!("exhibit {} is already given on {first}; give each exhibit one row", row.exhibit),
                ));
            }
            first_line.insert(row.exhibit.clone(), place);
            Ok(row)
        })
        .collect();
    Ok((exhibit_core::Sha256Digest::of(&bytes), rows))
}

type Cells = Result<HashMap<String, String>, BadRow>;

fn bad(place: &str, exhibit: Option<&str>, reason: String) -> BadRow {
    BadRow { place: place.to_owned(), exhibit: exhibit.map(str::to_owned), reason }
}

/// CSV: the header names the columns (any order, case-insensitive); a
/// record that is not UTF-8 or has the wrong number of cells is a bad row.
fn csv_cells(bytes: &[u8]) -> anyhow::Result<Vec<(String, Cells)>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = reader
        .byte_headers()
        .context("the manifest's header row cannot be read")?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_ascii_lowercase())
        .collect();
    check_header(&header)?;
    let mut rows = Vec::new();
    for record in reader.byte_records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(bytes, p.byte()));
                rows.push((format!("line {line}"), Err(bad(&format!("line {line}"), None, format!("not CSV: {e}")))));
                continue;
            }
        };
        let place = format!("line {}", record.position().map_or(0, |p| line_at(bytes, p.byte())));
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
    Ok(rows)
}

/// The 1-based line where the record at byte `at` starts. With CRLF the
/// csv crate places a record at the `\n` that ends the line before (and
/// its own line count is one short), so line ends at `at` are skipped
/// first; a record never starts with one, as blank lines are skipped.
fn line_at(bytes: &[u8], at: u64) -> u64 {
    let mut at = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
    while bytes.get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        at += 1;
    }
    bytes[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// JSON: an array of objects; values are strings (a whole number for
/// `pages`, a boolean for `ocr`).
fn json_cells(bytes: &[u8]) -> anyhow::Result<Vec<(String, Cells)>> {
    let items: Vec<super::manifest_json::JsonItem> =
        serde_json::from_slice(bytes).context("the manifest is not a JSON array of objects, one per exhibit")?;
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let place = format!("item {}", i + 1);
            let cells = match item {
                super::manifest_json::JsonItem::Other => Err(bad(&place, None, "not a JSON object".into())),
                super::manifest_json::JsonItem::Object(pairs) => {
                    let mut cells = HashMap::new();
                    for (k, v) in pairs {
                        let (name, text) = match json_cell(&place, &k, &v) {
                            Ok(cell) => cell,
                            Err(e) => return (place, Err(e)),
                        };
                        if cells.insert(name.clone(), text).is_some() {
                            return (place.clone(), Err(bad(&place, None, format!("the key {name:?} is given twice"))));
                        }
                    }
                    Ok(cells)
                }
            };
            (place, cells)
        })
        .collect())
}

fn json_cell(place: &str, k: &str, v: &serde_json::Value) -> Result<(String, String), BadRow> {
    let name = k.to_ascii_lowercase();
    if !COLUMNS.contains(&name.as_str()) {
        return Err(bad(
            place,
            None,
            format!("unknown key {:?}; the keys are {}", k.escape_debug().to_string(), COLUMNS.join(", ")),
        ));
    }
    let text = json_text(&name, v).map_err(|why| bad(place, None, format!("{name}: {why}")))?;
    Ok((name, text))
}

/// A JSON value as the cell text it stands for. Text fields take strings
/// only: once JSON has parsed `12` or `true`, what was typed is gone
/// (leading zeros, digits past 2^53), and an exhibit ref, seal or serial
/// must be kept exactly. `pages` takes a whole number and `ocr` a boolean,
/// whose text says the same.
fn json_text(name: &str, v: &serde_json::Value) -> Result<String, String> {
    use serde_json::Value;
    match (name, v) {
        (_, Value::String(s)) => Ok(s.clone()),
        (_, Value::Null) => Ok(String::new()),
        ("pages", Value::Number(n)) => {
            n.as_u64().map(|n| n.to_string()).ok_or_else(|| format!("{n} is not a whole number of pages"))
        }
        ("ocr", Value::Bool(b)) => Ok(if *b { "on" } else { "off" }.to_owned()),
        (_, Value::Number(n)) => {
            Err(format!("give text (\"{n}\"), not a number: a number keeps no leading zeros or long digits"))
        }
        (_, Value::Bool(b)) => Err(format!("give text (\"{b}\"), not true or false")),
        _ => Err("give text, not a list or object".to_owned()),
    }
}

fn check_header(header: &[String]) -> anyhow::Result<()> {
    for name in header {
        if !COLUMNS.contains(&name.as_str()) {
            anyhow::bail!(
                "the manifest has an unknown column {:?}; the columns are {}",
                name.escape_debug().to_string(),
                COLUMNS.join(", ")
            );
        }
    }
    for required in ["exhibit", "path"] {
        if !header.iter().any(|h| h == required) {
            anyhow::bail!("the manifest has no `{required}` column; the columns are {}", COLUMNS.join(", "));
        }
    }
    Ok(())
}

fn row(place: &str, cells: &HashMap<String, String>, folder: &Path, inside: &Path) -> Result<Row, BadRow> {
    let cell = |name: &str| cell(cells, name);
    let typed = cell("exhibit").trim();
    let exhibit: ExhibitRef = typed.parse().map_err(|e: exhibit_core::IdError| bad(place, None, e.to_string()))?;
    let shown = Some(exhibit.as_str());
    let path = row_path(cell("path"), folder, inside).map_err(|why| bad(place, shown, why))?;
    let cleared: Vec<&'static str> =
        COLUMNS[2..].iter().copied().filter(|c| cell(c).trim().eq_ignore_ascii_case(item::CLEAR)).collect();
    let kept: HashMap<String, String> =
        cells.iter().filter(|(k, _)| !cleared.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let item = item_record(&kept).map_err(|e| bad(place, shown, e.to_string()))?;
    Ok(Row { place: place.to_owned(), exhibit, path, item, cleared })
}

fn cell<'a>(cells: &'a HashMap<String, String>, name: &str) -> &'a str {
    cells.get(name).map_or("", String::as_str)
}

fn item_record(cells: &HashMap<String, String>) -> Result<ItemRecord, ItemFieldError> {
    let cell = |name: &str| cell(cells, name);
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

/// The row's path under the manifest's folder, if it stays inside.
fn row_path(given: &str, folder: &Path, inside: &Path) -> Result<PathBuf, String> {
    let shown = given.escape_debug().to_string();
    let relative = Path::new(given);
    if given.is_empty() {
        return Err("path: empty; give the file or folder, relative to the manifest's folder".into());
    }
    if given.contains('\0') || !relative.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!("path {shown:?}: give a path relative to the manifest's folder, without `..`"));
    }
    // `a/./b`, `a//b` and `a/b` are one path: record it once, one way.
    let normal: PathBuf = relative.components().filter(|c| matches!(c, Component::Normal(_))).collect();
    let joined = if normal.as_os_str().is_empty() { folder.to_path_buf() } else { folder.join(normal) };
    let joined = if joined.as_os_str().is_empty() { PathBuf::from(".") } else { joined };
    let resolved = joined.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("path {shown:?} does not exist beside the manifest"),
        _ => format!("path {shown:?} cannot be read: {e}"),
    })?;
    if !resolved.starts_with(inside) {
        return Err(format!(
            "path {shown:?} leads outside the manifest's folder (through a symlink); copy the item in, or move the manifest"
        ));
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"exhibit,path,description,pages,ocr\nJS/1,a,\"x, y\",3,on\nSB 1,a,\"multi\nline\",,off\n";

    /// Every single-byte change of a manifest, and every cut of it, reads
    /// as rows or as a header error: never a panic, and a row that names
    /// the folder itself or outside it is never good.
    #[test]
    fn mutated_manifests_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        let manifest = dir.path().join("m.csv");
        let mut seen_rows = 0;
        for i in 0..SAMPLE.len() {
            for byte in [b'"', b',', b'\n', b'/', b'.', 0xff, 0x00, 0x1b] {
                let mut bytes = SAMPLE.to_vec();
                bytes[i] = byte;
                for body in [bytes.clone(), SAMPLE[..i].to_vec()] {
                    std::fs::write(&manifest, &body).unwrap();
                    if let Ok((_, rows)) = read(&manifest) {
                        for row in rows.into_iter().flatten() {
                            seen_rows += 1;
                            let resolved = row.path.canonicalize().unwrap();
                            assert!(resolved.starts_with(dir.path().canonicalize().unwrap()), "{row:?}");
                        }
                    }
                }
            }
        }
        assert!(seen_rows > 100, "{seen_rows}");
        std::fs::write(dir.path().join("m.json"), b"[{\"exhibit\": [1], \"path\": {}}, 7, null]").unwrap();
        let (_, rows) = read(&dir.path().join("m.json")).unwrap();
        assert!(rows.iter().all(Result::is_err));
    }
}
