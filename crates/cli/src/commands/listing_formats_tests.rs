//! Hostile names, as each media reader hands them over, through every
//! listing format: the DFXML must parse with `xmllint`, the CSV with
//! Python's `csv` module, no CSV cell may start a formula, and every name
//! must read back to its exact bytes.

use std::io::Write as _;
use std::process::{Command, Stdio};

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{RecordedPath, Timestamps};
use exhibit_intake::explore::name_text::{from_csv_cell, unescape};
use exhibit_media_core::{NamePath, Recovery};

use super::*;

/// A reader, the path components it decoded, and the stream name if any.
type HostileName = (&'static str, Vec<Vec<u8>>, Option<Vec<u8>>);

/// (reader, path components, stream) as each reader decodes them: UCS-2
/// names (Joliet, NTFS, FAT LFN, exFAT, UDF) may hold any BMP code point
/// including U+FFFE and U+FFFF; ext names are raw bytes, anything but `/`
/// and NUL; a crafted image may still carry NUL, which NamePath keeps.
fn hostile_names() -> Vec<HostileName> {
    let utf8 = |s: &str| s.as_bytes().to_vec();
    vec![
        ("iso9660/joliet", vec![utf8("DIR"), utf8("bom\u{FFFE}and\u{FFFF}.txt")], None),
        ("iso9660/joliet", vec![utf8("evil\u{202E}txt.exe")], None),
        ("ntfs", vec![utf8("report.doc")], Some(utf8("=cmd|' /C calc'!A0"))),
        ("ntfs", vec![utf8("+SUM(1)"), utf8("nul\0inside")], Some(utf8("@x\u{FFFF}"))),
        ("ntfs", vec![utf8("a:b")], Some(utf8("c:d"))),
        ("fat", vec![utf8("-minus"), utf8("tab\there\rcr")], None),
        ("exfat", vec![utf8("'quoted"), utf8("x\u{1}y\u{7f}\u{85}")], None),
        ("ext", vec![b"bad \xff\xfe utf8".to_vec(), utf8("\\x00 literally")], None),
        ("ext", vec![utf8("line\nbreak"), utf8("slash/and\\back"), utf8("<&'\">")], None),
        ("udf", vec![utf8("\u{FDD0}\u{2028}\u{2066}"), utf8("\\u{41}")], None),
    ]
}

fn row(path: &NamePath, stream: Option<&[u8]>, error: Option<&str>) -> EntryRow {
    let image =
        ArtefactId::derive(&"C1".parse().unwrap(), &"JS/1".parse().unwrap(), b"image", &Sha256Digest::of(b"image"));
    EntryRow {
        image,
        volume: 0,
        path: path.recorded(),
        stream: stream.map(RecordedPath::from_bytes),
        kind: EntryKind::File,
        size: 1,
        allocated: false,
        recovery: Some(Recovery { recoverable_bytes: 1, complete: true }),
        timestamps: Timestamps::default(),
        attributes: Default::default(),
        address: Some(7),
        extents: Vec::new(),
        artefact: None,
        digests: None,
        zero_filled: Vec::new(),
        sparse: Vec::new(),
        missing: Vec::new(),
        error: error.map(str::to_owned),
    }
}

fn render(renderer: &mut dyn Renderer, rows: &[EntryRow]) -> Vec<u8> {
    let mut out = Vec::new();
    let case: CaseId = "C1".parse().unwrap();
    let exhibit: ExhibitRef = "JS/1".parse().unwrap();
    renderer.begin(&mut out, &case, &exhibit, &["disc.iso".to_owned()]).unwrap();
    let volume = VolumeRow {
        medium: "image".into(),
        index: 0,
        partition: None,
        scheme: None,
        partition_type: None,
        offset: 0,
        len: 1 << 20,
        fs: Some("ntfs".into()),
        label: Some("=LABEL\u{FFFE}".into()),
        error: None,
        sectors: None,
    };
    renderer.line(&mut out, &ListingLine::Volume(volume)).unwrap();
    for r in rows {
        renderer.line(&mut out, &ListingLine::Entry(Box::new(r.clone()))).unwrap();
    }
    renderer.end(&mut out).unwrap();
    out
}

fn run_tool(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} (install it with scripts/setup-debian.sh): {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// The expected `(path bytes, stream bytes)` of each row.
fn expected(rows: &[EntryRow]) -> Vec<(Vec<u8>, Vec<u8>)> {
    rows.iter().map(|r| (r.path.to_bytes(), r.stream.as_ref().map(|s| s.to_bytes()).unwrap_or_default())).collect()
}

fn rows() -> Vec<EntryRow> {
    hostile_names()
        .into_iter()
        .map(|(reader, parts, stream)| {
            let path = parts.iter().fold(NamePath::root(), |p, part| p.join(part));
            row(&path, stream.as_deref(), Some(&format!("-{reader}: =bad\0")))
        })
        .collect()
}

#[test]
fn dfxml_of_hostile_names_parses_with_xmllint_and_reads_back() {
    let rows = rows();
    let xml = render(&mut Dfxml::default(), &rows);
    run_tool("xmllint", &["--noout", "-"], &xml);
    let text = String::from_utf8(xml).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let mut found = Vec::new();
    for name in doc.descendants().filter(|n| n.has_tag_name("filename")) {
        let shown = name.text().unwrap_or_default();
        let (path, stream) = match name.attribute(("urn:x-exhibit:dfxml:1", "stream")) {
            Some(stream) => (shown.strip_suffix(&format!(":{stream}")).unwrap(), unescape(stream).unwrap()),
            None => (shown, Vec::new()),
        };
        let mut bytes = b"/".to_vec();
        bytes.extend(unescape(path).unwrap());
        found.push((bytes, stream));
    }
    assert_eq!(found, expected(&rows));
}

const PY_CSV: &str = r#"
import csv, io, json, sys
rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")))
json.dump(rows, sys.stdout)
"#;

#[test]
fn csv_of_hostile_names_parses_with_python_has_no_formula_and_reads_back() {
    let rows = rows();
    let csv = render(&mut Csv, &rows);
    let parsed: Vec<Vec<String>> = serde_json::from_slice(&run_tool("python3", &["-c", PY_CSV], &csv)).unwrap();
    assert_eq!(parsed[0], CSV_HEADER);
    assert_eq!(parsed.len(), rows.len() + 1, "one line per row: no raw newline escaped the quoting");
    for cell in parsed.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?}");
        assert!(!cell.chars().any(char::is_control), "control character in {cell:?}");
    }
    let found: Vec<(Vec<u8>, Vec<u8>)> = parsed[1..]
        .iter()
        .map(|r| (unescape(from_csv_cell(&r[2])).unwrap(), unescape(from_csv_cell(&r[3])).unwrap()))
        .collect();
    assert_eq!(found, expected(&rows));
    let errors: Vec<Vec<u8>> = parsed[1..].iter().map(|r| unescape(from_csv_cell(&r[20])).unwrap()).collect();
    assert!(errors.iter().all(|e| e.starts_with(b"-") && e.ends_with(b"=bad\0")), "{errors:?}");
}

#[test]
fn json_carries_the_same_escaped_names() {
    let rows = rows();
    let json: serde_json::Value = serde_json::from_slice(&render(&mut Json::default(), &rows)).unwrap();
    let found: Vec<(Vec<u8>, Vec<u8>)> = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let stream = e["stream_text"].as_str().map(|s| unescape(s).unwrap()).unwrap_or_default();
            (unescape(e["path_text"].as_str().unwrap()).unwrap(), stream)
        })
        .collect();
    assert_eq!(found, expected(&rows));
}
