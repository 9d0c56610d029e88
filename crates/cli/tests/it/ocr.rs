//! Scans end to end: text, hOCR and a searchable PDF per scan, linked to
//! it, and the bundle's page count reconciled.

use std::path::Path;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

#[test]
fn scans_get_text_hocr_and_searchable_pdf_and_the_bundle_is_reconciled() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir(&src).unwrap();
    for name in ["statement-g4.tif", "memo.png"] {
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name), src.join(name))
            .unwrap();
    }
    let out = sb.run(&[
        "ingest",
        "--case",
        "OCR-1",
        "--exhibit",
        "JS/2",
        "--operator",
        "Test",
        "--pages",
        "5",
        src.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "a page count mismatch needs attention: {}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("page-count-mismatch"), "2 pages scanned, 5 expected: {table}");
    let shown = sb.show_json("OCR-1");
    let derived: Vec<&Value> =
        shown["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "derivative").collect();
    let mimes: Vec<&str> = derived.iter().map(|d| d["media_type"]["mime"].as_str().unwrap()).collect();
    for mime in ["text/plain", "text/vnd.hocr+html", "application/pdf"] {
        assert_eq!(mimes.iter().filter(|m| **m == mime).count(), 2, "{mime} per scan: {mimes:?}");
    }
    let text = derived.iter().find(|d| d["media_type"]["mime"] == "text/plain").unwrap();
    let pages = &text["derivation"]["details"]["pages"];
    assert!(pages[0]["word_count"].as_u64().unwrap() > 10, "{pages}");
    let copy = sb.dir.path().join("text.txt");
    assert!(
        sb.run(&["get", "--case", "OCR-1", text["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()])
            .status
            .success()
    );
    assert!(!std::fs::read_to_string(&copy).unwrap().trim().is_empty());
    let (code, report) = sb.verify_json("OCR-1");
    assert_eq!(code, 0, "{report:#}");
    assert!(report["notes"].as_array().unwrap().iter().any(|n| n["kind"] == "page-count-mismatch"));
}
