//! Issue 13, attack pass of stop 27: one page's fault refused the whole
//! document. A PDF page declaring 200000x200000 pixels (over
//! `ocr.max_pixels`) and a TIFF whose last IFD links back to the first now
//! keep their other pages, flagged with a reason that names the page.

use std::path::Path;

use exhibit_ocr::{OcrErrorKind, OcrPolicy, TEXT_FILE};

use crate::common::{policy, try_ocr};

/// Writes the inputs into `dir` with `scripts/fixtures/page-faults.py`.
fn inputs(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/page-faults.py");
    let out = std::process::Command::new("/usr/bin/python3").arg(script).arg(dir).output().expect("python3");
    assert!(out.status.success(), "PIL, pikepdf and img2pdf are needed: {}", String::from_utf8_lossy(&out.stderr));
}

fn text_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(TEXT_FILE)).expect("text output")
}

#[test]
fn a_pdf_page_over_the_pixel_limit_is_refused_alone() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("huge-page.pdf"), "application/pdf", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("one page over the limit refused the document: {e}"));
    assert_eq!(outcome.pages.len(), 3, "{:?}", outcome.pages);
    let text = text_of(out.path());
    for n in [1, 3] {
        assert!(text.contains(&format!("Page {n} of the statement")), "page {n}: {text}");
        assert!(!outcome.pages[n - 1].needs_review, "{:?}", outcome.pages[n - 1]);
    }
    let page2 = &outcome.pages[1];
    let reason = page2.reason.as_deref().unwrap_or_default();
    assert!(page2.needs_review, "{page2:?}");
    assert!(
        reason.contains("page 2 is 200000x200000") && reason.contains("ocr.max_pixels") && reason.contains("blank"),
        "{reason}"
    );
}

/// A document whose every page is over the limit still fails, as a limit.
#[test]
fn a_pdf_whose_only_pages_are_over_the_pixel_limit_fails_as_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let tight = OcrPolicy { max_pixels: 1000, ..policy() };
    let (_out, r) = try_ocr(&dir.path().join("huge-page.pdf"), "application/pdf", &tight);
    let e = r.expect_err("no page is under the limit");
    assert_eq!(e.kind, OcrErrorKind::Limit, "{e}");
    assert!(e.message.contains("page 1 is 1240x1754") && e.message.contains("ocr.max_pixels"), "{e}");
}

#[test]
fn a_tiff_whose_ifd_chain_loops_keeps_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("ifd-loop.tif"), "image/tiff", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("a looping IFD chain refused the pages it holds: {e}"));
    assert_eq!(outcome.pages.len(), 3, "{:?}", outcome.pages);
    let text = text_of(out.path());
    for n in 1..=3 {
        assert_eq!(text.matches(&format!("Page {n} of the statement")).count(), 1, "page {n}: {text}");
    }
    let last = &outcome.pages[2];
    let reason = last.reason.as_deref().unwrap_or_default();
    assert!(last.needs_review, "{last:?}");
    assert!(reason.contains("damaged after page 3") && reason.contains("loops"), "{reason}");
}
