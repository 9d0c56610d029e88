//! Issue 13, attack pass of stop 27: `--pages` counts pages, not page files.
//! With OCR off, a 3-page TIFF is 3 pages and a tiff2pdf PDF is its pages;
//! a born-digital PDF left as "already text" counts its pages with OCR on.
//! And a page tree that loops back on itself is noted on the OCR record.

use std::path::Path;

use serde_json::Value;

use crate::common::{Sandbox, stderr};
use crate::ocr::{ocr_fixture, scans_folder, text_pdf};

fn ingest_with(sb: &Sandbox, config: Option<&Path>, case: &str, pages: &str, src: &Path) -> std::process::Output {
    let mut cmd = sb.exhibit();
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.args(["ingest", "--case", case, "--exhibit", "P/1", "--operator", "T", "--pages", pages]).arg(src);
    cmd.output().unwrap()
}

fn bundle_checks(sb: &Sandbox, case: &str) -> Vec<Value> {
    sb.ledger(case).into_iter().map(|(_, e)| e).filter(|e| e["params"].get("bundle").is_some()).collect()
}

/// OCR off: the 3-page TIFF and the 1-page tiff2pdf PDF are 4 pages. Before,
/// they counted as 1 page file (the TIFF) and 0 (the PDF is no page file).
#[test]
fn ocr_off_counts_the_pages_of_a_multi_page_tiff_and_of_a_pdf() {
    let sb = Sandbox::new();
    let src = scans_folder(
        &sb,
        &[("bundle.tif", ocr_fixture("bundle-multi.tif")), ("tiff2pdf.pdf", ocr_fixture("tools/tiff2pdf-g4.pdf"))],
    );
    let config = sb.dir.path().join("off.toml");
    std::fs::write(&config, "[ocr]\nenabled = false\n").unwrap();
    let out = ingest_with(&sb, Some(&config), "PC-OFF", "4", &src);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(!table.contains("page-count-mismatch") && !table.contains("expected 4"), "{table}");
    assert_eq!(out.status.code(), Some(0), "{table}\n{}", stderr(&out));
    let checks = bundle_checks(&sb, "PC-OFF");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["params"]["bundle"]["found_pages"], 4, "{:?}", checks[0]);
    // Rerunning with the same count records nothing again.
    let again = ingest_with(&sb, Some(&config), "PC-OFF", "4", &src);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(bundle_checks(&sb, "PC-OFF").len(), 1, "the same check is recorded once");
}

/// OCR on: a born-digital PDF is "already text" (no OCR outputs), and its
/// page still counts. Before, it read "expected 1 pages, found 0".
#[test]
fn a_born_digital_pdf_left_as_already_text_counts_its_pages() {
    let sb = Sandbox::new();
    let born = text_pdf("BT /F1 24 Tf 72 700 Td (Born digital text page) Tj ET");
    let src = scans_folder(&sb, &[("born.pdf", born), ("memo.png", ocr_fixture("memo.png"))]);
    let out = ingest_with(&sb, None, "PC-TEXT", "2", &src);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(!table.contains("page-count-mismatch") && !table.contains("expected 2"), "{table}");
    assert_eq!(out.status.code(), Some(0), "{table}\n{}", stderr(&out));
    let again = ingest_with(&sb, None, "PC-TEXT", "2", &src);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(bundle_checks(&sb, "PC-TEXT").len(), 1, "the same check is recorded once");
}

/// A PDF whose page tree lists its own root (`scripts/fixtures/page-tree.py`'s
/// `kids-loop.pdf`) loses no page: the run is clean, and the OCR record
/// notes the loop. Before, nothing showed it.
#[test]
fn a_page_tree_that_loops_back_is_noted_on_the_ocr_record() {
    let sb = Sandbox::new();
    let made = sb.dir.path().join("made");
    std::fs::create_dir_all(&made).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/page-tree.py");
    let out = std::process::Command::new("/usr/bin/python3").arg(script).arg(&made).output().unwrap();
    assert!(out.status.success(), "PIL, pikepdf and img2pdf are needed: {}", String::from_utf8_lossy(&out.stderr));
    let src = scans_folder(&sb, &[("loop.pdf", std::fs::read(made.join("kids-loop.pdf")).unwrap())]);
    let out = ingest_with(&sb, None, "PC-LOOP", "2", &src);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let shown = sb.show_json("PC-LOOP");
    let texts: Vec<&Value> =
        shown["artefacts"].as_array().unwrap().iter().filter(|a| a["derivation"]["rule"] == "ocr-text").collect();
    assert_eq!(texts.len(), 1, "{shown}");
    let notes = texts[0]["derivation"]["details"]["notes"].as_array().cloned().unwrap_or_default();
    assert!(notes.iter().any(|n| n.as_str().is_some_and(|n| n.contains("loops back"))), "{notes:?}");
    let events = sb.ledger("PC-LOOP").into_iter().map(|(_, e)| e);
    let noted = events.filter(|e| e["action"] == "ocr").any(|e| e["params"]["notes"].is_array());
    assert!(noted, "the ocr event records the note");
}
