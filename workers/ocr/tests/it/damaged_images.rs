//! Issue 13 (tester's repro-5): a page whose image data does not decode is
//! a damaged page. It is kept as far as it decodes (else a blank page of its
//! size), flagged for review with why, and the other pages are read; only a
//! document with no page that decodes fails.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use exhibit_ocr::{OcrErrorKind, OcrOutcome, PDF_FILE, TEXT_FILE};

use crate::common::{policy, tool, try_ocr};

/// Writes the tester's inputs into `dir` with `scripts/fixtures/damaged-pages.py`.
pub fn damaged_inputs(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/damaged-pages.py");
    let out = std::process::Command::new("/usr/bin/python3").arg(script).arg(dir).output().expect("python3");
    assert!(out.status.success(), "PIL, pikepdf and img2pdf are needed: {}", String::from_utf8_lossy(&out.stderr));
}

fn page_count(pdf: &Path) -> usize {
    let info = tool("pdfinfo", &[pdf.as_os_str()]).expect("poppler-utils");
    let line = info.lines().find(|l| l.starts_with("Pages:")).expect("pdfinfo prints Pages");
    line["Pages:".len()..].trim().parse().expect("a page count")
}

fn page_text(pdf: &Path, n: usize) -> String {
    let n = n.to_string();
    let args = ["-f", &n, "-l", &n, pdf.to_str().unwrap(), "-"];
    tool("pdftotext", &args.map(OsStr::new)).expect("poppler-utils")
}

/// OCRs `input`, which must succeed, and checks what every 3-page damaged input gives.
fn read_around(input: &Path, media_type: &str, bad: usize) -> (tempfile::TempDir, OcrOutcome, PathBuf) {
    let (dir, r) = try_ocr(input, media_type, &policy());
    let outcome = r.unwrap_or_else(|e| panic!("one damaged page failed the document: {e}"));
    assert_eq!(outcome.pages.len(), 3, "{:?}", outcome.pages);
    assert_eq!(outcome.pages_ocred, 3, "{:?}", outcome.pages);
    let pdf = dir.path().join(PDF_FILE);
    assert_eq!(page_count(&pdf), 3, "every page in the searchable PDF");
    let text = std::fs::read_to_string(dir.path().join(TEXT_FILE)).unwrap();
    for n in (1..=3).filter(|n| *n != bad) {
        assert!(page_text(&pdf, n).contains(&format!("Page {n} of the statement")), "page {n}");
        assert!(text.contains(&format!("Page {n} of the statement")), "page {n} in the text: {text}");
        assert!(!outcome.pages[n - 1].needs_review, "{:?}", outcome.pages[n - 1]);
    }
    let damaged = &outcome.pages[bad - 1];
    assert!(damaged.needs_review, "{damaged:?}");
    let reason = damaged.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("damaged") && reason.contains(&format!("page {bad}")), "{reason}");
    (dir, outcome, pdf)
}

#[test]
fn a_pdf_page_whose_image_is_cut_short_fails_alone_and_keeps_what_decodes() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (_out, outcome, pdf) = read_around(&dir.path().join("statement-damaged.pdf"), "application/pdf", 2);
    // The first third of the stream holds the top of the page: its first line.
    assert!(page_text(&pdf, 2).contains("Page 2 of the statement"), "{:?}", outcome.pages[1]);
    let reason = outcome.pages[1].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("rows") && reason.contains("left white"), "kept as far as it decodes: {reason}");
}

#[test]
fn a_tiff_page_whose_strip_is_spoiled_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (_out, outcome, _pdf) = read_around(&dir.path().join("multi-damaged.tif"), "image/tiff", 3);
    // The spoiled bytes cover the first strips (the text); the rows below decode.
    let reason = outcome.pages[2].reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("rows decode") && reason.contains("are left white") && reason.contains("rows 1-"),
        "{reason}"
    );
}

/// A strip below the text spoiled: the strips above and below it are kept,
/// so the page's text is read, and the page is still flagged for review.
#[test]
fn a_tiff_page_keeps_the_strips_that_decode() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (_out, outcome, pdf) = read_around(&dir.path().join("late-damaged.tif"), "image/tiff", 3);
    assert!(page_text(&pdf, 3).contains("Page 3 of the statement"), "{:?}", outcome.pages[2]);
    let reason = outcome.pages[2].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("1702 of 1754 rows decode"), "one strip of 52 rows lost: {reason}");
    // Tester's repro-6: only that strip's rows are white, not the rest of the page.
    assert!(reason.contains("rows 1041-1092 are left white"), "names the white rows: {reason}");
    assert!(!reason.contains("the rest"), "{reason}");
}

/// A JPEG page image cut short keeps the rows before the cut (its first
/// line of text), and the other pages are read.
#[test]
fn a_pdf_page_whose_jpeg_is_cut_short_keeps_what_decodes() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (_out, outcome, pdf) = read_around(&dir.path().join("jpeg-damaged.pdf"), "application/pdf", 2);
    assert!(page_text(&pdf, 2).contains("Page 2 of the statement"), "{:?}", outcome.pages[1]);
    let reason = outcome.pages[1].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("JPEG data ends early") && reason.contains("rows it holds are kept"), "{reason}");
}

/// Every page damaged: a clear error, not a document of blank pages.
#[test]
fn a_document_with_no_page_that_decodes_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let tiff = dir.path().join("all-damaged.tif");
    let (out, r) = try_ocr(&tiff, "image/tiff", &policy());
    let err = r.expect_err("no page decodes");
    assert_eq!(err.kind, OcrErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("no page"), "{err}");
    assert!(!out.path().join(PDF_FILE).exists());
}

/// The same damaged input gives the same bytes (as `reproduce` needs).
#[test]
fn a_damaged_pdf_reads_to_the_same_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let input = dir.path().join("statement-damaged.pdf");
    let (a, ra) = try_ocr(&input, "application/pdf", &policy());
    let (b, rb) = try_ocr(&input, "application/pdf", &policy());
    ra.unwrap();
    rb.unwrap();
    for name in [PDF_FILE, TEXT_FILE, exhibit_ocr::HOCR_FILE] {
        assert_eq!(std::fs::read(a.path().join(name)).unwrap(), std::fs::read(b.path().join(name)).unwrap(), "{name}");
    }
}

/// Tester's repro-18: a G4 page whose data is spoiled decodes to garbage
/// with no failure; libtiff's error report ("Bad code word") flags it.
#[test]
fn a_g4_tiff_page_whose_decoder_reports_errors_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (_out, outcome, _pdf) = read_around(&dir.path().join("g4-damaged.tif"), "image/tiff", 2);
    let reason = outcome.pages[1].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("Bad code word"), "names the damage: {reason}");
}

/// Tester's repro-16: a plain JPEG cut short keeps its rows as the same
/// JPEG inside a PDF does, flagged for review.
#[test]
fn a_plain_jpeg_cut_short_keeps_what_decodes() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("cut.jpg"), "image/jpeg", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("a cut JPEG keeps what decodes: {e}"));
    assert_eq!(outcome.pages.len(), 1);
    let text = std::fs::read_to_string(out.path().join(TEXT_FILE)).unwrap();
    assert!(text.contains("Page 1 of the statement"), "{text}");
    let reason = outcome.pages[0].reason.as_deref().unwrap_or_default();
    assert!(outcome.pages[0].needs_review && reason.contains("damaged") && reason.contains("ends early"), "{reason}");
}

/// A plain PNG cut short keeps the rows that decode (its first line of
/// text), the rest white, flagged for review naming the white rows, as a
/// cut `.jpg` and a damaged TIFF page are.
#[test]
fn a_plain_png_cut_short_keeps_the_rows_that_decode() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("cut.png"), "image/png", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("a cut PNG keeps what decodes: {e}"));
    assert_eq!(outcome.pages.len(), 1);
    let text = std::fs::read_to_string(out.path().join(TEXT_FILE)).unwrap();
    assert!(text.contains("Page 1 of the statement"), "{text}");
    let page = &outcome.pages[0];
    let reason = page.reason.as_deref().unwrap_or_default();
    assert!(page.needs_review && reason.contains("damaged") && reason.contains("ends early"), "{reason}");
    assert!(reason.contains("of 1754 rows decode") && reason.contains("-1754 are left white"), "{reason}");
}

/// A PNG whose header is broken has nothing to decode by: it stays refused.
#[test]
fn a_png_whose_header_is_broken_is_still_refused() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    let (_out, r) = try_ocr(&dir.path().join("bad-header.png"), "image/png", &policy());
    let e = r.expect_err("no header, no rows");
    assert_eq!(e.kind, OcrErrorKind::Corrupt, "{e}");
}

/// Issue 13: a 1-page PDF whose only JPEG is spoiled mid-stream keeps the
/// rows before the spoil, flagged damaged, as the same spoil on page 2 of
/// a 2-page PDF does.
#[test]
fn a_one_page_pdf_whose_jpeg_is_spoiled_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    damaged_inputs(dir.path());
    for (name, pages) in [("jpeg-spoiled-two.pdf", 2), ("jpeg-spoiled-one.pdf", 1)] {
        let (out, r) = try_ocr(&dir.path().join(name), "application/pdf", &policy());
        let outcome = r.unwrap_or_else(|e| panic!("{name}: a spoiled JPEG keeps what decodes: {e}"));
        assert_eq!(outcome.pages.len(), pages, "{name}");
        let pdf = out.path().join(PDF_FILE);
        assert!(page_text(&pdf, pages).contains("Page 1 of the statement"), "{name}: {:?}", outcome.pages);
        let last = &outcome.pages[pages - 1];
        let reason = last.reason.as_deref().unwrap_or_default();
        assert!(last.needs_review && reason.contains("damaged"), "{name}: {reason}");
    }
}
