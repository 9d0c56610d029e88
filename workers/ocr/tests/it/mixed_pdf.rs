//! Issue 13: a PDF that mixes scans and born-digital pages gives a
//! searchable PDF with every page, in the input's order; a page whose text
//! content is damaged fails (for review) alone, not the document.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use exhibit_ocr::{OcrOutcome, PDF_FILE};

use crate::common::{fixture, policy, tool, try_ocr};
use crate::text_layer::pdf_of;

const TEXT_PAGE: &str = "Born digital page two";

fn run(cmd: &str, args: &[&OsStr]) -> String {
    tool(cmd, args).unwrap_or_else(|| panic!("{cmd} (img2pdf, ghostscript, poppler-utils) is needed"))
}

/// A scan page made by img2pdf from the memo fixture.
fn scan_pdf(dir: &Path) -> PathBuf {
    let out = dir.join("scan.pdf");
    run("img2pdf", &[fixture("memo.png").as_os_str(), OsStr::new("-o"), out.as_os_str()]);
    out
}

/// A born-digital page made by Ghostscript's pdfwrite from PostScript.
fn text_pdf(dir: &Path) -> PathBuf {
    let ps = dir.join("text.ps");
    let page = format!("%!PS\n/Helvetica findfont 30 scalefont setfont 72 650 moveto ({TEXT_PAGE}) show showpage\n");
    std::fs::write(&ps, page).unwrap();
    let out = dir.join("text.pdf");
    let to = format!("-sOutputFile={}", out.display());
    let args = ["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", &to, ps.to_str().unwrap()];
    run("gs", &args.map(OsStr::new));
    out
}

/// `parts` joined into one PDF by poppler's pdfunite.
fn unite(dir: &Path, parts: &[&Path], name: &str) -> PathBuf {
    let out = dir.join(name);
    let mut args: Vec<&OsStr> = parts.iter().map(|p| p.as_os_str()).collect();
    args.push(out.as_os_str());
    run("pdfunite", &args);
    out
}

fn page_count(pdf: &Path) -> usize {
    let info = run("pdfinfo", &[pdf.as_os_str()]);
    let line = info.lines().find(|l| l.starts_with("Pages:")).expect("pdfinfo prints Pages");
    line["Pages:".len()..].trim().parse().expect("a page count")
}

/// The text of page `n` (one-based) by pdftotext.
fn page_text(pdf: &Path, n: usize) -> String {
    let n = n.to_string();
    let args = ["-f", &n, "-l", &n, pdf.to_str().unwrap(), "-"];
    run("pdftotext", &args.map(OsStr::new))
}

/// OCRs `input` and returns the outcome and where its searchable PDF is.
fn ocr_pdf(input: &Path) -> (tempfile::TempDir, OcrOutcome, PathBuf) {
    let (dir, r) = try_ocr(input, "application/pdf", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("OCR of {} failed: {e}", input.display()));
    let pdf = dir.path().join(PDF_FILE);
    assert!(pdf.exists(), "no searchable PDF: {:?}", outcome.pages);
    (dir, outcome, pdf)
}

#[test]
fn a_mixed_pdf_keeps_every_page_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (scan, text) = (scan_pdf(dir.path()), text_pdf(dir.path()));
    // Text first and last: pages before the first scan are kept too.
    let mixed = unite(dir.path(), &[&text, &scan, &text], "mixed.pdf");
    assert_eq!(page_count(&mixed), 3);
    let (_out, outcome, pdf) = ocr_pdf(&mixed);
    assert_eq!(page_count(&pdf), 3, "{:?}", outcome.pages);
    assert_eq!(outcome.pages.len(), 3);
    assert_eq!(outcome.pages_ocred, 3, "{:?}", outcome.pages);
    for n in [1, 3] {
        let words = page_text(&pdf, n);
        assert!(words.contains(TEXT_PAGE), "page {n}: {words:?}");
        assert!(outcome.pages[n - 1].had_text_layer, "{:?}", outcome.pages[n - 1]);
    }
    let memo = page_text(&pdf, 2);
    assert!(memo.contains("Memorandum") && !memo.contains(TEXT_PAGE), "page 2: {memo:?}");
    assert!(!outcome.pages[1].had_text_layer);
}

/// A born-digital page whose content stream is damaged (Flate that does
/// not inflate): that page is flagged for review, in its place; the scan
/// and the good text page are read.
#[test]
fn a_damaged_text_page_fails_alone_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let good = "BT /F1 30 Tf 72 650 Td (Hello from the good page) Tj ET";
    let garbage = "this is not Flate data, it does not inflate";
    let damaged = pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{good}\nendstream", good.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 7 0 R >>"
            .to_owned(),
        format!("<< /Length {} /Filter /FlateDecode >>\nstream\n{garbage}\nendstream", garbage.len()),
    ]);
    let damaged_path = dir.path().join("damaged.pdf");
    std::fs::write(&damaged_path, &damaged).unwrap();
    let mixed = unite(dir.path(), &[&scan_pdf(dir.path()), &damaged_path], "mixed-damaged.pdf");
    let (_out, outcome, pdf) = ocr_pdf(&mixed);
    assert_eq!(outcome.pages.len(), 3, "{:?}", outcome.pages);
    assert_eq!(page_count(&pdf), 3, "{:?}", outcome.pages);
    assert!(page_text(&pdf, 1).contains("Memorandum"));
    assert!(page_text(&pdf, 2).contains("Hello from the good page"));
    let bad = &outcome.pages[2];
    assert!(bad.needs_review, "{bad:?}");
    assert!(bad.reason.as_deref().is_some_and(|r| r.contains("damaged")), "{bad:?}");
    assert!(!outcome.pages[0].needs_review && !outcome.pages[1].needs_review, "{:?}", outcome.pages);
}

/// The mixed PDF's output is a PDF/A-2b with every font embedded (the text
/// pages' Helvetica is not carried over), and the same input gives the same
/// bytes, as `reproduce` needs.
#[test]
fn a_mixed_pdf_gives_a_reproducible_pdfa_with_every_font_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = unite(dir.path(), &[&scan_pdf(dir.path()), &text_pdf(dir.path())], "mixed.pdf");
    let info = exhibit_ocr::DocumentInfo {
        title: "Exhibit JS/3: mixed.pdf".into(),
        created: time::macros::datetime!(2026-12-06 04:05:06 UTC),
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    exhibit_ocr::ocr_to_pdfa(&mixed, "application/pdf", &policy(), a.path(), &info).unwrap();
    exhibit_ocr::ocr_to_pdfa(&mixed, "application/pdf", &policy(), b.path(), &info).unwrap();
    let pdf = a.path().join(PDF_FILE);
    assert_eq!(std::fs::read(&pdf).unwrap(), std::fs::read(b.path().join(PDF_FILE)).unwrap(), "same bytes");
    let out =
        std::process::Command::new("/usr/bin/python3").arg("-c").arg(crate::pdfa::CHECK).arg(&pdf).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("part 2 conformance B"), "{report}");
    assert!(report.contains("pages 2"), "{report}");
    let (fonts, embedded) = (field(&report, "fonts"), field(&report, "embedded"));
    assert!(fonts > 0 && fonts == embedded, "{report}");
}

fn field(report: &str, name: &str) -> usize {
    let words: Vec<&str> = report.split_whitespace().collect();
    let at = words.iter().position(|w| *w == name).unwrap_or_else(|| panic!("{name} in {report}"));
    words[at + 1].parse().unwrap()
}
