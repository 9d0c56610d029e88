//! OCR selection settings between two runs of one case (issue 13, desk):
//! a scan that `[ocr] min_page_side` or `enabled = false` left out is OCRed
//! when a rerun's setting takes it in, the skip stays on record with the
//! setting that caused it, and a rerun under the same settings does nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Sandbox, fixture, stderr};

const CASE: &str = "OCR-SEL";

/// Two scan pages and an icon in one folder.
fn desk(sb: &Sandbox) -> PathBuf {
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixture("ocr/memo.png"), src.join("page1.png")).unwrap();
    std::fs::copy(fixture("ocr/rotated-90.png"), src.join("page2.png")).unwrap();
    std::fs::write(src.join("icon.png"), crate::scan_desk::white_png(16, 16)).unwrap();
    src
}

fn ingest(sb: &Sandbox, src: &Path, env: &[(&str, &str)]) {
    let mut cmd = sb.exhibit();
    cmd.args(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Test Officer"]).arg(src);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().expect("run exhibit");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn ocr_events(sb: &Sandbox) -> Vec<Value> {
    sb.ledger(CASE).into_iter().map(|(_, e)| e).filter(|e| e["action"] == "ocr").collect()
}

/// Rules of the OCR outputs recorded, with the file each was made from.
fn outputs(sb: &Sandbox) -> Vec<String> {
    let mut found: Vec<String> =
        ocr_events(sb).iter().filter_map(|e| e["params"]["rule"].as_str().map(str::to_owned)).collect();
    found.sort();
    found
}

fn skips(sb: &Sandbox) -> Vec<String> {
    ocr_events(sb).iter().filter_map(|e| e["params"]["skipped"].as_str().map(str::to_owned)).collect()
}

const PAGE_RULES: [&str; 3] = ["ocr-hocr", "ocr-searchable-pdf", "ocr-text"];

/// The outputs of two OCRed pages and their bundle.
fn two_pages_and_a_bundle() -> Vec<String> {
    let mut want: Vec<String> = PAGE_RULES.iter().chain(&PAGE_RULES).map(|r| (*r).to_owned()).collect();
    want.push(exhibit_ocr::BUNDLE_RULE.to_owned());
    want.sort();
    want
}

#[test]
fn a_lowered_min_page_side_ocrs_the_scans_it_skipped_and_nothing_else() {
    let sb = Sandbox::new();
    let src = desk(&sb);
    ingest(&sb, &src, &[("EXHIBIT__OCR__MIN_PAGE_SIDE", "5000")]);
    assert!(outputs(&sb).is_empty(), "every file smaller than 5000 px: {:?}", outputs(&sb));
    let first = skips(&sb);
    assert_eq!(first.len(), 3, "{first:?}");
    assert!(first.iter().all(|s| s.contains("ocr.min_page_side = 5000")), "{first:?}");

    ingest(&sb, &src, &[]);
    assert_eq!(outputs(&sb), two_pages_and_a_bundle(), "the pages are OCRed and bundled under the lower setting");
    let icon: Vec<String> = skips(&sb).into_iter().filter(|s| s.contains("16x16")).collect();
    assert!(
        icon.iter().any(|s| s.contains("ocr.min_page_side = 200")),
        "the icon's skip names the new value: {icon:?}"
    );
    assert_eq!(skips(&sb).len(), 4, "the first run's skips stay on record: {:?}", skips(&sb));

    let before = ocr_events(&sb).len();
    ingest(&sb, &src, &[]);
    assert_eq!(ocr_events(&sb).len(), before, "the same settings record nothing new");
}

#[test]
fn ocr_switched_on_after_a_run_with_it_off_ocrs_the_scans() {
    let sb = Sandbox::new();
    let src = desk(&sb);
    ingest(&sb, &src, &[("EXHIBIT__OCR__ENABLED", "false")]);
    assert!(outputs(&sb).is_empty(), "{:?}", outputs(&sb));
    assert!(skips(&sb).iter().all(|s| s.contains("[ocr] enabled = false")), "{:?}", skips(&sb));

    ingest(&sb, &src, &[]);
    assert_eq!(outputs(&sb), two_pages_and_a_bundle());
    // Switched off again: what was OCRed stays, and nothing is redone.
    let before = ocr_events(&sb).len();
    ingest(&sb, &src, &[("EXHIBIT__OCR__ENABLED", "false")]);
    assert_eq!(ocr_events(&sb).len(), before, "{:?}", skips(&sb));
}

#[test]
fn another_language_ocrs_again_beside_the_first_outputs() {
    let sb = Sandbox::new();
    let src = desk(&sb);
    ingest(&sb, &src, &[]);
    let first = outputs(&sb);
    assert_eq!(first, two_pages_and_a_bundle());
    ingest(&sb, &src, &[("EXHIBIT__OCR__LANGUAGES", "[\"eng\",\"cym\"]")]);
    let mut both = first.clone();
    both.extend(first);
    both.sort();
    assert_eq!(outputs(&sb), both, "each output again under the new languages");
    let versions: Vec<String> = ocr_events(&sb)
        .iter()
        .filter(|e| e["params"]["rule"] == "ocr-text")
        .filter_map(|e| e["params"]["policy_version"].as_str().map(str::to_owned))
        .collect();
    assert!(versions.iter().any(|v| v.contains(":eng+cym:")), "{versions:?}");
}
