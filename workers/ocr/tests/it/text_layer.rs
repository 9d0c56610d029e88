//! Issue 13 attack findings: a born-digital PDF is recorded as already text
//! (never an empty OCR output), and a damaged PDF's reason is one line for
//! people, without the parser's source paths.

use std::path::Path;

use exhibit_ocr::{HOCR_FILE, OcrErrorKind, PDF_FILE, TEXT_FILE};

use crate::common::{policy, tool, try_ocr};

/// A PDF from numbered object bodies, with a correct xref.
pub fn pdf_of(objects: &[String]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let trailer = format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.extend_from_slice(trailer.as_bytes());
    out
}

/// One page drawing `content` with Helvetica as /F1 and the given MediaBox.
fn text_pdf(content: &str, media_box: &str) -> Vec<u8> {
    pdf_of(&[
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox {media_box} /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ])
}

/// A born-digital page: the outcome says so, and there is no output at all
/// (an empty text file would read as "OCR found nothing").
fn assert_already_text(path: &Path) {
    let (dir, r) = try_ocr(path, "application/pdf", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(outcome.pages.len(), 1);
    let page = &outcome.pages[0];
    assert!(page.had_text_layer, "{page:?}");
    assert!(page.reason.as_deref().is_some_and(|r| r.contains("text layer")), "{page:?}");
    assert_eq!(outcome.pages_ocred, 0);
    assert!(!outcome.searchable_pdf);
    for name in [TEXT_FILE, HOCR_FILE, PDF_FILE] {
        assert!(!dir.path().join(name).exists(), "{name} written for a born-digital PDF");
    }
}

#[test]
fn a_born_digital_pdf_is_recorded_as_text_with_no_empty_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let content = "BT /F1 24 Tf 72 700 Td (Hello huge page) Tj ET";
    let plain = dir.path().join("plain.pdf");
    std::fs::write(&plain, text_pdf(content, "[0 0 612 792]")).unwrap();
    assert_already_text(&plain);
    // The attacker's huge page: 14400 pt square at UserUnit 75000.
    let huge = dir.path().join("huge.pdf");
    std::fs::write(&huge, text_pdf(content, "[0 0 14400 14400] /UserUnit 75000")).unwrap();
    assert_already_text(&huge);
    // Ghostscript's pdfwrite from a one-line PostScript page.
    let ps = dir.path().join("page.ps");
    std::fs::write(&ps, "%!PS\n/Helvetica findfont 24 scalefont setfont 72 700 moveto (Born digital) show showpage\n")
        .unwrap();
    let gs = dir.path().join("gs.pdf");
    let out = format!("-sOutputFile={}", gs.display());
    let args = ["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", &out, ps.to_str().unwrap()];
    if tool("gs", &args.map(std::ffi::OsStr::new)).is_some() {
        assert_already_text(&gs);
    }
}

/// Empty strings draw nothing: a page cannot dodge OCR with `() Tj`. With
/// no image either, it is rendered, OCRed, found blank and flagged.
#[test]
fn an_empty_text_operator_is_not_a_text_layer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty-text.pdf");
    std::fs::write(&path, text_pdf("BT /F1 24 Tf 72 700 Td () Tj [()] TJ ET", "[0 0 612 792]")).unwrap();
    let (_d, r) = try_ocr(&path, "application/pdf", &policy());
    let outcome = r.expect("a blank page is a page");
    let page = &outcome.pages[0];
    assert!(!page.had_text_layer && page.needs_review && page.word_count == 0, "{page:?}");
}

fn assert_one_clear_line(message: &str) {
    assert!(!message.contains('\n') && !message.contains("\\n"), "{message:?}");
    for leak in [".rs:", "/root", ".cargo", "Try at", "caused by", "Shared"] {
        assert!(!message.contains(leak), "{leak} in {message:?}");
    }
    assert!(message.len() < 300, "{message:?}");
}

#[test]
fn a_damaged_pdf_is_reported_in_one_line_without_source_paths() {
    let dir = tempfile::tempdir().unwrap();
    let whole = text_pdf("BT /F1 24 Tf 72 700 Td (Hello) Tj ET", "[0 0 612 792]");
    let truncated = dir.path().join("trunc.pdf");
    std::fs::write(&truncated, &whole[..whole.len() / 2]).unwrap();
    let garbage = dir.path().join("garbage.pdf");
    std::fs::write(&garbage, [b"%PDF-1.7\n".as_slice(), &[0xff; 1000]].concat()).unwrap();
    for path in [truncated, garbage] {
        let (_d, r) = try_ocr(&path, "application/pdf", &policy());
        let err = r.expect_err("a damaged PDF fails");
        assert_eq!(err.kind, OcrErrorKind::Corrupt, "{err}");
        assert!(err.message.contains("PDF"), "{err}");
        assert_one_clear_line(&err.message);
    }
}
