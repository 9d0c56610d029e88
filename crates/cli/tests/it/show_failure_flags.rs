//! `show --flag` takes the summary's words for what the ledger records as
//! failures or failed checks, not as flags (issue 13: the table said
//! `damaged-record` and `page-count-mismatch`, and `show --flag` refused
//! both as unknown). It finds the artefact the failure names, with the
//! artefacts above it, and prints the word beside it.

use std::path::Path;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn fixture(dir: &str, name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(dir).join(name)
}

fn ingest(sb: &Sandbox, case: &str, files: &[(&str, &str)], extra: &[&str]) {
    let src = sb.dir.path().join(case);
    std::fs::create_dir_all(&src).unwrap();
    for (dir, name) in files {
        std::fs::copy(fixture(dir, name), src.join(name)).unwrap();
    }
    let mut args = vec!["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "T"];
    args.extend_from_slice(extra);
    args.push(src.to_str().unwrap());
    let out = sb.run(&args);
    assert_eq!(out.status.code(), Some(3), "needs attention: {}", stderr(&out));
}

fn shown(sb: &Sandbox, case: &str, flag: &str) -> (Value, String) {
    let json = sb.run(&["show", "--case", case, "--flag", flag, "--json"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let text = sb.run(&["show", "--case", case, "--flag", flag]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    (serde_json::from_slice(&json.stdout).unwrap(), String::from_utf8_lossy(&text.stdout).into_owned())
}

fn names(doc: &Value) -> Vec<String> {
    doc["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["source"]["path"]["display"].as_str())
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_damaged_record_is_found_on_the_image_that_holds_it() {
    let sb = Sandbox::new();
    ingest(&sb, "FLAG-DAMAGED", &[("damaged", "iso-bad-extent.iso"), ("ocr", "memo.png")], &[]);
    let (doc, text) = shown(&sb, "FLAG-DAMAGED", "damaged-record");
    let found = names(&doc);
    assert!(found.iter().any(|n| n.ends_with("iso-bad-extent.iso")), "{found:?}");
    assert!(!found.iter().any(|n| n.ends_with("memo.png")), "only what the failure names: {found:?}");
    let line = text.lines().find(|l| l.contains("iso-bad-extent.iso")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("damaged-record"), "{line}");
    let json_flags = &doc["artefacts"][0]["flags"];
    assert!(!json_flags.to_string().contains("damaged-record"), "--json keeps the manifest as stored: {doc:#}");
}

#[test]
fn a_failed_page_count_is_found_on_the_exhibits_pages() {
    let sb = Sandbox::new();
    ingest(&sb, "FLAG-PAGES", &[("ocr", "memo.png")], &["--pages", "3"]);
    let (doc, text) = shown(&sb, "FLAG-PAGES", "page-count-mismatch");
    assert!(names(&doc).iter().any(|n| n.ends_with("memo.png")), "{doc:#}");
    assert!(text.contains("page-count-mismatch"), "{text}");
    let (clean, _) = shown(&sb, "FLAG-PAGES", "unconverted");
    assert!(clean["artefacts"].as_array().unwrap().is_empty(), "nothing unconverted: {clean:#}");
}
