//! Hostile names on real images, end to end: an ext file system made by
//! `mkfs.ext4 -d` and an ISO 9660 image with Rock Ridge and Joliet made by
//! `xorriso`, from files whose names are formulas, hold U+FFFE, a
//! newline, a tab, a right-to-left override, bytes that are not UTF-8 and a
//! literal `\x00`. After ingest, `exhibit listing` writes DFXML that
//! `xmllint` parses, CSV that Python's `csv` reads with no formula cell, and
//! every format's names read back to the recorded bytes.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use exhibit_intake::explore::name_text::{from_csv_cell, unescape};

use crate::common::{Sandbox, stderr};

const NAMES: [&[u8]; 10] = [
    b"=cmd|' -C calc'!A0",
    b"+SUM(1)",
    b"@x",
    b"-y",
    b"bom\xef\xbf\xbe and \xef\xbf\xbf",
    b"line\nbreak",
    b"tab\there",
    b"\xe2\x80\xaegpj.exe",
    b"bad \xff\xfe utf8",
    b"nul \\x00 literal",
];

/// A name as the listing records it: `/name`, a `\` inside written `\\`.
fn recorded(name: &[u8]) -> Vec<u8> {
    let mut out = b"/".to_vec();
    for &b in name {
        if b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

fn piped(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program}: {}", stderr(&out));
    out.stdout
}

fn listing(sb: &Sandbox, case: &str, format: &str) -> Vec<u8> {
    let out = sb.run(&["listing", "--case", case, "--exhibit", "JS/1", "--format", format]);
    assert!(out.status.success(), "{}", stderr(&out));
    out.stdout
}

/// A folder holding one file per hostile name.
fn hostile_folder(sb: &Sandbox) -> std::path::PathBuf {
    let src = sb.dir.path().join("names");
    std::fs::create_dir(&src).unwrap();
    for name in NAMES {
        std::fs::write(src.join(OsStr::from_bytes(name)), name).unwrap();
    }
    src
}

fn run_tool(program: &str, args: &[&OsStr]) {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program}: {}", stderr(&out));
}

#[test]
fn hostile_ext_names_survive_dfxml_csv_and_json() {
    let sb = Sandbox::new();
    let src = hostile_folder(&sb);
    let image = sb.dir.path().join("names.ext4");
    run_tool("mkfs.ext4", &["-q".as_ref(), "-d".as_ref(), src.as_os_str(), image.as_os_str(), "4M".as_ref()]);
    check_listings(&sb, "EXT-1", &image);
}

#[test]
fn hostile_iso_names_survive_dfxml_csv_and_json() {
    let sb = Sandbox::new();
    let src = hostile_folder(&sb);
    let image = sb.dir.path().join("names.iso");
    let args = ["-as", "mkisofs", "-quiet", "-R", "-J", "-joliet-long", "-o"];
    let mut args: Vec<&OsStr> = args.iter().map(|a| a.as_ref()).collect();
    args.extend([image.as_os_str(), src.as_os_str()]);
    run_tool("xorriso", &args);
    check_listings(&sb, "ISO-1", &image);
}

/// Ingests `image` into `case` and checks every listing format.
fn check_listings(sb: &Sandbox, case: &str, image: &std::path::Path) {
    let out = sb.ingest(case, image);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected: BTreeSet<Vec<u8>> = NAMES.iter().map(|n| recorded(n)).collect();
    let only_ours =
        |found: BTreeSet<Vec<u8>>| -> BTreeSet<Vec<u8>> { found.intersection(&expected).cloned().collect() };

    let dfxml = listing(sb, case, "dfxml");
    piped("xmllint", &["--noout", "-"], &dfxml);
    let text = String::from_utf8(dfxml).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let from_dfxml = doc
        .descendants()
        .filter(|n| n.has_tag_name("filename"))
        .map(|n| [b"/".as_slice(), &unescape(n.text().unwrap_or_default()).unwrap()].concat())
        .collect();
    assert_eq!(only_ours(from_dfxml), expected, "DFXML names read back");

    let script = "import csv,io,json,sys; json.dump(list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding='utf-8', newline=''))), sys.stdout)";
    let rows: Vec<Vec<String>> =
        serde_json::from_slice(&piped("python3", &["-c", script], &listing(sb, case, "csv"))).unwrap();
    for cell in rows.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?}");
        assert!(!cell.chars().any(char::is_control), "control character in {cell:?}");
    }
    let from_csv = rows[1..].iter().map(|r| unescape(from_csv_cell(&r[2])).unwrap()).collect();
    assert_eq!(only_ours(from_csv), expected, "CSV names read back");

    let json: serde_json::Value = serde_json::from_slice(&listing(sb, case, "json")).unwrap();
    let from_json = json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| unescape(e["path_text"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(only_ours(from_json), expected, "JSON names read back");
}
