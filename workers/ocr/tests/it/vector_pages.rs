//! PDF pages without an image (issue 13): a page drawn in vectors (text
//! turned to outlines, a form, a drawing) is rendered at the configured
//! resolution and OCRed; a page without `/Resources` is a blank page, for
//! review, never a failure of the whole document.

use exhibit_ocr::{OcrPolicy, TEXT_FILE};

use crate::common::{ocr_with, policy, tool, try_ocr};
use crate::text_layer::pdf_of;

const HELLO: &str = "BT /F1 36 Tf 72 650 Td (Hello from page one) Tj ET";

/// Page 1 draws text with a font; page 2 has no `/Resources` (none to
/// inherit either) and no contents.
fn pdf_with_a_page_without_resources() -> Vec<u8> {
    pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{HELLO}\nendstream", HELLO.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>".to_owned(),
    ])
}

#[test]
fn a_page_without_resources_is_a_blank_page_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-resources.pdf");
    std::fs::write(&path, pdf_with_a_page_without_resources()).unwrap();
    let (_d, r) = try_ocr(&path, "application/pdf", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("one blank page fails the document: {e}"));
    assert_eq!(outcome.pages.len(), 2, "{:?}", outcome.pages);
    assert!(outcome.pages[0].had_text_layer && !outcome.pages[0].needs_review, "{:?}", outcome.pages[0]);
    let blank = &outcome.pages[1];
    assert!(!blank.had_text_layer && blank.needs_review && blank.word_count == 0, "{blank:?}");
    assert_eq!(outcome.pages_ocred, 1);
}

/// Ghostscript with `-dNoOutputFonts` turns the text into outlines: the
/// page holds no image and no text operator, only paths.
#[test]
fn text_turned_to_outlines_is_rendered_and_read() {
    let dir = tempfile::tempdir().unwrap();
    let ps = dir.path().join("page.ps");
    std::fs::write(
        &ps,
        "%!PS\n/Helvetica findfont 40 scalefont setfont 72 650 moveto (Drawn in vectors) show showpage\n",
    )
    .unwrap();
    let pdf = dir.path().join("outlines.pdf");
    let out = format!("-sOutputFile={}", pdf.display());
    let args =
        ["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dNoOutputFonts", "-sDEVICE=pdfwrite", &out, ps.to_str().unwrap()];
    tool("gs", &args.map(std::ffi::OsStr::new)).expect("gs (Debian package ghostscript) is needed");
    let run = ocr_with(&pdf, "application/pdf", &policy());
    assert_eq!(run.outcome.pages_ocred, 1, "{:?}", run.outcome.pages);
    assert!(!run.outcome.pages[0].had_text_layer);
    assert!(run.text.contains("Drawn in vectors"), "{:?}", run.text);
    assert!(run.path(TEXT_FILE).exists());
}

/// With `ocr_pages_with_text`, a page whose text is drawn with a font (and
/// no image) is rendered and OCRed, not passed over as a text layer.
#[test]
fn ocr_pages_with_text_renders_a_text_page_that_has_no_image() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("text.pdf");
    std::fs::write(&path, pdf_with_a_page_without_resources()).unwrap();
    let forced = OcrPolicy { ocr_pages_with_text: true, ..policy() };
    let run = ocr_with(&path, "application/pdf", &forced);
    assert_eq!(run.outcome.pages_ocred, 2, "{:?}", run.outcome.pages);
    assert!(run.text.contains("Hello from page one"), "{:?}", run.text);
    assert!(run.outcome.pages[1].needs_review, "the blank page: {:?}", run.outcome.pages[1]);
}
