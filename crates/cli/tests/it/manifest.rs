//! Item manifests end to end: one row per exhibit, metadata recorded in a
//! `described` custody event, bad rows reported by line while the others
//! go ahead, and hostile manifests refused row by row.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

const HEADER: &str = "exhibit,path,description,seized_by,seized_at,seized_place,seal,device_make,device_model,device_serial,pages,ocr,notes\n";

/// A desk folder: two items and a file outside it.
fn desk(sb: &Sandbox) -> PathBuf {
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("usb")).unwrap();
    std::fs::write(desk.join("usb/letter.txt"), "Dear Sir,\n").unwrap();
    std::fs::write(desk.join("phone.bin"), vec![7u8; 4096]).unwrap();
    std::fs::write(sb.dir.path().join("secret.txt"), "not evidence").unwrap();
    desk
}

fn ingest_manifest(sb: &Sandbox, manifest: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["ingest", "--case", "MAN-1", "--operator", "Test Officer", "--manifest"];
    args.push(manifest.to_str().unwrap());
    args.extend_from_slice(extra);
    sb.run(&args)
}

fn described(sb: &Sandbox) -> Vec<Value> {
    sb.ledger("MAN-1").into_iter().map(|(_, e)| e).filter(|e| e["action"] == "described").collect()
}

#[test]
fn a_manifest_ingests_each_row_as_an_exhibit_and_reports_bad_rows_by_line() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let csv = format!(
        "{HEADER}\
JS/1,usb,\"USB stick, blue\",PC 123 Smith,2024-03-01T14:30:00Z,\"12 High St, Leeds\",SEAL-0042,SanDisk,Cruzer,SN123,,off,\"=HYPERLINK(\"\"http://x\"\")\"\n\
SB 1,phone.bin,Phone dump,,2024-03-02,,,,,,,,\n\
js/01,usb,again,,,,,,,,,,\n\
JS/2,../secret.txt,outside,,,,,,,,,,\n\
JS/3,missing.bin,,,,,,,,,,,\n\
JS/4,usb,,,last tuesday,,,,,,,,\n"
    );
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{text}{err}");
    assert!(text.contains("6 row(s): 2 clean, 0 need attention, 0 failed, 4 refused"), "{text}");
    assert!(text.contains("line 4 exhibit js/01: refused: exhibit js/01 is already given on line 2"), "{text}");
    assert!(text.contains("line 5 exhibit JS/2: refused: path \"../secret.txt\""), "{text}");
    assert!(text.contains("line 6 exhibit JS/3: refused: path \"missing.bin\" does not exist"), "{text}");
    assert!(text.contains("line 7 exhibit JS/4: refused: seized_at"), "{text}");

    let rows = described(&sb);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    let js1 = rows.iter().find(|e| e["exhibit"] == "JS/1").unwrap();
    let item = &js1["params"]["item"];
    assert_eq!(item["description"], "USB stick, blue");
    assert_eq!(item["seized_place"], "12 High St, Leeds");
    assert_eq!(item["seal"], "SEAL-0042");
    assert_eq!((item["device_make"].as_str(), item["device_serial"].as_str()), (Some("SanDisk"), Some("SN123")));
    assert_eq!(item["ocr"], false);
    assert_eq!(item["notes"], "=HYPERLINK(\"http://x\")", "a formula cell is kept as text");
    assert_eq!(js1["params"]["manifest"]["row"], "line 2");
    let shown = sb.show_json("MAN-1");
    let exhibits: Vec<&str> =
        shown["artefacts"].as_array().unwrap().iter().map(|a| a["exhibit"].as_str().unwrap()).collect();
    assert!(exhibits.contains(&"JS/1") && exhibits.contains(&"SB 1") && !exhibits.contains(&"JS/2"), "{exhibits:?}");
    assert!(!shown.to_string().contains("not evidence"));
    let (code, report) = sb.verify_json("MAN-1");
    assert_eq!(code, 0, "{report:#}");

    // Rerun: nothing described twice; a corrected row goes ahead.
    let fixed = format!(
        "{HEADER}JS/1,usb,\"USB stick, blue\",PC 123 Smith,2024-03-01T14:30:00Z,\"12 High St, Leeds\",SEAL-0042,SanDisk,Cruzer,SN123,,off,\"=HYPERLINK(\"\"http://x\"\")\"\nJS/3,phone.bin,found,,,,,,,,,,\n"
    );
    std::fs::write(desk.join("items.csv"), fixed).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = described(&sb);
    assert_eq!(rows.len(), 3, "only JS/3 is new: {rows:#?}");
    let js3 = docs_text(&out);
    assert!(js3.contains("\"duplicate_of\""), "JS/3 holds SB 1's file: {js3}");
    // Repro 17: one JSON document, as --help and the README promise, with
    // each row's ingest summary inside its row.
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(doc["exit"], 0);
    let results = doc["rows"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["ingest"]["artefacts"].is_array()), "one summary per row: {doc:#}");
    assert_eq!(results[1]["ingest"]["exhibit"], "JS/3", "{doc:#}");
}

#[test]
fn hostile_manifests_fail_row_by_row() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    std::os::unix::fs::symlink(sb.dir.path().join("secret.txt"), desk.join("link.txt")).unwrap();
    std::os::unix::fs::symlink(sb.dir.path(), desk.join("up")).unwrap();
    let mut csv = HEADER.as_bytes().to_vec();
    csv.extend_from_slice(b"JS/1,phone.bin,ok,,,,,,,,,,\n");
    csv.extend_from_slice(b"JS/2,phone.bin,bad \xff\xfe utf8,,,,,,,,,,\n");
    csv.extend_from_slice(format!("JS/3,phone.bin,{},,,,,,,,,,\n", "x".repeat(100_000)).as_bytes());
    csv.extend_from_slice(b"JS/4,link.txt,,,,,,,,,,,\n");
    csv.extend_from_slice(b"JS/5,up/secret.txt,,,,,,,,,,,\n");
    csv.extend_from_slice(b"JS/6,/etc/passwd,,,,,,,,,,,\n");
    csv.extend_from_slice(b"JS/7,phone.bin\n");
    csv.extend_from_slice(b"../8,phone.bin,,,,,,,,,,,\n");
    csv.extend_from_slice(b"JS/9,phone.bin,,,,,,,,,,,\"bell\x07\"\n");
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.contains("9 row(s): 1 clean, 0 need attention, 0 failed, 8 refused"), "{text}");
    for expected in [
        "line 3: refused: description: not UTF-8",
        "line 4 exhibit JS/3: refused: description: 100000 bytes",
        "line 5 exhibit JS/4: refused: path \"link.txt\" leads outside",
        "line 6 exhibit JS/5: refused: path \"up/secret.txt\" leads outside",
        "line 7 exhibit JS/6: refused: path \"/etc/passwd\": give a path relative",
        "line 8: refused: 2 cells where the header has 13",
        "line 9: refused: invalid exhibit reference",
        "line 10 exhibit JS/9: refused: notes: holds the control character",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    let shown = sb.show_json("MAN-1");
    assert!(!shown.to_string().contains("not evidence") && !shown.to_string().contains("passwd"));

    // An unknown column refuses the manifest before anything is written.
    std::fs::write(desk.join("bad.csv"), "exhibit,path,colour\nJS/1,phone.bin,red\n").unwrap();
    let out = ingest_manifest(&sb, &desk.join("bad.csv"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown column \"colour\""), "{}", stderr(&out));
}

#[test]
fn a_json_manifest_takes_the_same_keys() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let items = serde_json::json!([
        {"exhibit": "AB/1", "path": "usb", "description": "stick", "pages": 3, "ocr": "on"},
        {"exhibit": "AB/2", "path": "phone.bin", "description": 12},
        "not an object"
    ]);
    std::fs::write(desk.join("items.json"), items.to_string()).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.json"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.contains("item 2: refused: description: give text"), "{text}");
    assert!(text.contains("item 3: refused: not a JSON object"), "{text}");
    let rows = described(&sb);
    assert_eq!(rows[0]["params"]["item"]["expected_pages"], 3);
    assert_eq!(rows[0]["params"]["item"]["ocr"], true);
    // The expected page count became the bundle check (no scans: 0 found).
    let bundle = sb.ledger("MAN-1").into_iter().map(|(_, e)| e).find(|e| e["params"]["bundle"].is_object()).unwrap();
    assert_eq!(bundle["params"]["bundle"]["expected_pages"], 3);

    // An unknown key refuses the manifest, as an unknown CSV column does.
    let items = serde_json::json!([{"exhibit": "AB/3", "path": "phone.bin", "colour": "red"}]);
    std::fs::write(desk.join("bad.json"), items.to_string()).unwrap();
    let out = ingest_manifest(&sb, &desk.join("bad.json"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("item 1 has an unknown key \"colour\""), "{}", stderr(&out));
}

/// `show` puts the manifest's metadata above each exhibit's tree, and
/// `--flag` keeps only flagged artefacts.
#[test]
fn show_prints_each_exhibit_with_its_metadata_and_filters_by_flag() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    std::os::unix::fs::symlink("letter.txt", desk.join("usb/link")).unwrap();
    let csv = format!(
        "{HEADER}JS/1,usb,\"USB stick, blue\",PC 123 Smith,2024-03-01,Leeds,SEAL-0042,SanDisk,Cruzer,SN123,,off,\"bag \x1b[2J torn\"\n"
    );
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &[]);
    assert_eq!(out.status.code(), Some(2), "a control character in notes refuses the row: {}", stderr(&out));
    let csv = format!(
        "{HEADER}JS/1,usb,\"USB stick, blue\",PC 123 Smith,2024-03-01,Leeds,SEAL-0042,SanDisk,Cruzer,SN123,,off,\n"
    );
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&sb.run(&["show", "--case", "MAN-1"]).stdout).into_owned();
    for line in [
        "exhibit JS/1: USB stick, blue",
        "  seized by PC 123 Smith, at 2024-03-01, in Leeds",
        "  seal or bag SEAL-0042",
        "  device SanDisk Cruzer serial SN123",
        "  OCR off",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    assert!(text.contains("letter.txt") && text.contains("link"), "{text}");
    let flagged =
        String::from_utf8_lossy(&sb.run(&["show", "--case", "MAN-1", "--flag", "symlink"]).stdout).into_owned();
    assert!(flagged.contains("usb/link") && !flagged.contains("letter.txt  "), "{flagged}");
    let out = sb.run(&["listing", "--case", "MAN-1", "--exhibit", "js/01", "--format", "json"]);
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listing["item"]["seal"], "SEAL-0042", "listing carries the exhibit's metadata");
    let shown = sb.show_json("MAN-1");
    assert_eq!(shown["items"][0]["exhibit"], "JS/1");
    assert_eq!(shown["items"][0]["item"]["device_serial"], "SN123");
}

/// `listing` works for an exhibit of files and folders: its originals are
/// the entries, in every format.
#[test]
fn listing_works_for_a_folder_exhibit() {
    let sb = Sandbox::new();
    let src = sb.sources();
    assert!(sb.ingest("MAN-L", &src).status.success());
    let out = sb.run(&["listing", "--case", "MAN-L", "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = listing["entries"].as_array().unwrap();
    let paths: Vec<&str> = entries.iter().map(|e| e["path"]["display"].as_str().unwrap()).collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    assert!(paths.iter().any(|p| p.ends_with("src/statement.txt")), "{paths:?}");
    let statement = entries.iter().find(|e| e["path"]["display"].as_str().unwrap().ends_with("statement.txt")).unwrap();
    assert_eq!(
        statement["digests"]["sha256"],
        exhibit_core::Sha256Digest::of(b"I saw the defendant at 10pm.\n").to_hex()
    );
    for format in ["csv", "dfxml"] {
        let out = sb.run(&["listing", "--case", "MAN-L", "--exhibit", "JS/1", "--format", format]);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("statement.txt"), "{format}");
    }
    let out = sb.run(&["listing", "--case", "MAN-L", "--exhibit", "JS/9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("holds nothing"), "{}", stderr(&out));
}

fn docs_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The same file under two rows: the second exhibit's summary names it as
/// a duplicate of the first exhibit's artefact, and still records it.
#[test]
fn a_file_already_in_another_exhibit_is_reported_as_a_duplicate() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    std::fs::create_dir(desk.join("copy")).unwrap();
    std::fs::write(desk.join("copy/phone-again.bin"), vec![7u8; 4096]).unwrap();
    // As a spreadsheet saves it: a byte-order mark and CRLF line ends.
    std::fs::write(desk.join("items.csv"), "\u{feff}Exhibit,Path\r\nJS/1,phone.bin\r\nJS/2,copy\r\n").unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("phone-again.bin is a duplicate of") && text.contains("(in another exhibit of this case)"),
        "{text}"
    );
    let shown = sb.show_json("MAN-1");
    assert_eq!(shown["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "original").count(), 2);
}

/// A JSON number or boolean where the manifest wants text (an exhibit ref,
/// a seal, a serial) is refused for that item: the text as typed is gone
/// once JSON parses it (`0042` is not JSON, `12345678901234567890123`
/// comes back as `1.2345678901234568e22`, so the refusal quotes the digits
/// as typed and asks for a JSON string). `pages` takes a whole number
/// and `ocr` a boolean, which say the same as their text.
#[test]
fn a_json_number_where_text_is_wanted_refuses_that_item_only() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let items = r#"[
        {"exhibit": 12, "path": "usb"},
        {"exhibit": "AB/2", "path": "phone.bin", "device_serial": 12345678901234567890123},
        {"exhibit": "AB/3", "path": "phone.bin", "seal": true},
        {"exhibit": "AB/4", "path": "usb", "pages": 2.5},
        {"exhibit": "AB/5", "path": "usb", "pages": 1, "ocr": false}
    ]"#;
    std::fs::write(desk.join("items.json"), items).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.json"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.contains("5 row(s): 0 clean, 1 need attention, 0 failed, 4 refused"), "{text}");
    assert!(text.contains("item 1: refused: exhibit: give text (\"12\"), not a number"), "{text}");
    assert!(
        text.contains("item 2: refused: device_serial: give text (\"12345678901234567890123\")")
            && text.contains("in quotes as a JSON string"),
        "the digits as typed, not a float: {text}"
    );
    assert!(text.contains("item 3: refused: seal: give text (\"true\"), not true or false"), "{text}");
    assert!(text.contains("item 4: refused: pages: 2.5 is not a whole number"), "{text}");
    let rows = described(&sb);
    assert_eq!(rows.len(), 1, "only item 5 went ahead: {rows:#?}");
    assert_eq!(rows[0]["exhibit"], "AB/5");
    assert_eq!(rows[0]["params"]["item"]["expected_pages"], 1);
    assert_eq!(rows[0]["params"]["item"]["ocr"], false);
}

#[test]
fn a_row_of_another_case_is_refused_and_the_others_go_ahead() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let csv = "exhibit,case,path\nJS/1,man-1,usb\nSB 1,OTHER-2,phone.bin\nSB 2,,phone.bin\n";
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}{}", stderr(&out));
    assert!(text.contains("3 row(s): 2 clean, 0 need attention, 0 failed, 1 refused"), "{text}");
    assert!(text.contains("line 3 exhibit SB 1: refused: case \"OTHER-2\": this ingest is for case MAN-1"), "{text}");
    assert!(!sb.case_dir("OTHER-2").exists(), "nothing recorded for the other case");
}

/// Repro 13: the OCR skip of a row with `ocr = off` names where the
/// setting came from, the manifest and its line, as other skip reasons
/// name their config key.
#[test]
fn an_ocr_off_row_names_the_manifest_and_line_in_the_skip_reason() {
    let sb = Sandbox::new();
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("scans")).unwrap();
    std::fs::write(desk.join("scans/p1.png"), crate::scan_desk::white_png(1240, 1754)).unwrap();
    std::fs::write(desk.join("items.csv"), "exhibit,path,ocr\nJS/1,scans,off\n").unwrap();
    let out = ingest_manifest(&sb, &desk.join("items.csv"), &["-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let skips: Vec<String> = sb
        .ledger("MAN-1")
        .into_iter()
        .filter_map(|(_, e)| e["params"]["skipped"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(skips, ["OCR is off for this item (item manifest items.csv line 2: ocr = off)"], "{skips:?}");
}
