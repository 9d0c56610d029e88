//! Acceptance 4: hostile input fails that document with a typed error and a
//! reason, and the next document still works.

use std::path::Path;
use std::time::Duration;

use exhibit_ocr::{OcrErrorKind, OcrPolicy};

use crate::common::{fixture, ocr, policy, try_ocr};

/// Asserts `input` fails with `kind`, then that a good document still OCRs.
fn fails_then_next_works(input: &Path, media_type: &str, kind: OcrErrorKind, policy: &OcrPolicy) -> String {
    let (dir, r) = try_ocr(input, media_type, policy);
    let err = r.expect_err("hostile input must fail");
    assert_eq!(err.kind, kind, "{err}");
    assert!(!err.message.is_empty());
    assert!(!dir.path().join(exhibit_ocr::PDF_FILE).exists(), "no output is left after a failure");
    let good = ocr(&fixture("statement-g4.tif"), "image/tiff");
    assert_eq!(good.outcome.pages.len(), 1);
    err.message
}

/// A PNG signature and IHDR chunk (with a valid CRC) claiming `w` x `h` pixels, and nothing else.
pub fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    out
}

/// A minimal little-endian TIFF header with one IFD claiming `w` x `h` 8-bit pixels.
fn tiff_header(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    let entries: [(u16, u16, u32); 5] = [(256, 4, w), (257, 4, h), (258, 3, 8), (259, 3, 1), (273, 4, 100)];
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// A one-page PDF whose page draws only a rectangle, with a correct xref.
fn vector_only_pdf() -> Vec<u8> {
    const CONTENT: &str = "100 100 200 200 re f\nq Q\n";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>".to_owned(),
        format!("<< /Length {} >>\nstream\n{CONTENT}endstream", CONTENT.len()),
    ];
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

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn truncated_tiff_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(fixture("statement-g4.tif")).unwrap();
    let cut = write(&dir, "statement-g4.tif", &data[..data.len() * 6 / 10]);
    let msg = fails_then_next_works(&cut, "image/tiff", OcrErrorKind::Corrupt, &policy());
    assert!(msg.contains("TIFF"), "{msg}");
}

/// Issue 13 (stop 27): a multi-page TIFF cut short keeps the pages whose
/// directories come before the cut; the last one read is flagged with the
/// break (before, the whole document was refused as corrupt).
#[test]
fn a_multi_page_tiff_cut_short_keeps_the_pages_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(fixture("bundle-multi.tif")).unwrap();
    let cut = write(&dir, "bundle-multi.tif", &data[..data.len() * 6 / 10]);
    let (_out, r) = try_ocr(&cut, "image/tiff", &policy());
    let outcome = r.expect("the pages before the cut are read");
    assert!((1..3).contains(&outcome.pages.len()), "{:?}", outcome.pages);
    let last = outcome.pages.last().unwrap();
    let reason = last.reason.as_deref().unwrap_or_default();
    assert!(last.needs_review && reason.contains("the TIFF is damaged after page"), "{reason}");
}

/// A wrong `startxref` is read past by rebuilding the table from the
/// objects (as qpdf does); a file with no catalog to rebuild from is corrupt.
#[test]
fn pdf_with_a_broken_xref_is_rebuilt_or_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = std::fs::read(fixture("scans.pdf")).unwrap();
    let at = data.windows(9).rposition(|w| w == b"startxref").unwrap() + 10;
    data[at..at + 6].copy_from_slice(b"999999");
    let broken = write(&dir, "broken.pdf", &data);
    let run = crate::common::ocr(&broken, "application/pdf");
    assert_eq!(run.outcome.pages.len(), 3);
    let catalog = data.windows(8).position(|w| w == b"/Catalog").unwrap();
    data[catalog..catalog + 8].copy_from_slice(b"/Katalog");
    let hopeless = write(&dir, "hopeless.pdf", &data);
    let msg = fails_then_next_works(&hopeless, "application/pdf", OcrErrorKind::Corrupt, &policy());
    assert!(msg.starts_with("PDF"), "{msg}");
}

/// An encrypted PDF (user password) is refused whole, as ocrmypdf does:
/// no blank copy, no pages flagged as damaged.
#[test]
fn an_encrypted_pdf_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked.pdf");
    let script = "import pikepdf, sys\npdf = pikepdf.open(sys.argv[1])\npdf.save(sys.argv[2], encryption=pikepdf.Encryption(user='u', owner='o'))";
    let made = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(fixture("scans.pdf"))
        .arg(&locked)
        .status()
        .expect("Debian's python3 with pikepdf (ocrmypdf's dependency)");
    assert!(made.success(), "pikepdf could not encrypt the fixture");
    let msg = fails_then_next_works(&locked, "application/pdf", OcrErrorKind::Unsupported, &policy());
    assert!(msg.contains("encrypted"), "{msg}");
}

/// Flate image streams that are bombs, truncated, or have bad row filters
/// fail that page with a reason, within the memory limit.
#[test]
fn hostile_flate_images_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = std::fs::read(fixture("tools/img2pdf-palette1-png.pdf")).unwrap();
    let stream_at = |d: &[u8]| d.windows(7).position(|w| w == b"stream\n").unwrap() + 7;
    // Garbage inside the image stream (same length, so the xref stays valid).
    let mut garbled = data.clone();
    let start = stream_at(&garbled);
    garbled[start + 2..start + 200].iter_mut().enumerate().for_each(|(i, b)| *b = (i * 37) as u8);
    let garbled = write(&dir, "garbled.pdf", &garbled);
    let (_d, r) = try_ocr(&garbled, "application/pdf", &policy());
    assert!(matches!(r.map_err(|e| e.kind), Err(OcrErrorKind::Corrupt) | Ok(_)), "no crash, a typed result");
    // A page claiming a huge size over a small stream hits the pixel limit before any inflating.
    let mut huge = data.clone();
    let at = huge.windows(11).position(|w| w == b"/Width 1500").unwrap();
    huge.splice(at..at + 11, b"/Width 999999".iter().copied());
    let huge = write(&dir, "huge.pdf", &huge);
    let msg = fails_then_next_works(&huge, "application/pdf", OcrErrorKind::Limit, &policy());
    assert!(msg.contains("999999x400"), "{msg}");
}

#[test]
fn huge_image_headers_hit_the_pixel_limit() {
    let dir = tempfile::tempdir().unwrap();
    let png = write(&dir, "huge.png", &png_header(100_000, 100_000));
    let msg = fails_then_next_works(&png, "image/png", OcrErrorKind::Limit, &policy());
    assert!(msg.contains("100000x100000"), "{msg}");
    let tif = write(&dir, "huge.tif", &tiff_header(100_000, 100_000));
    fails_then_next_works(&tif, "image/tiff", OcrErrorKind::Limit, &policy());
}

/// A page of vectors only is rendered and OCRed: a filled rectangle holds
/// no words, so the page is for review, and the document does not fail.
#[test]
fn pdf_page_that_is_not_an_image_is_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(&dir, "vector.pdf", &vector_only_pdf());
    let (_d, r) = crate::common::try_ocr(&pdf, "application/pdf", &policy());
    let outcome = r.expect("a vector page is rendered");
    assert!(outcome.pages[0].needs_review && outcome.pages_ocred == 1, "{:?}", outcome.pages);
}

#[test]
fn garbage_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let junk = write(&dir, "junk.png", b"\x89PNG\r\n\x1a\nthis is not a png at all");
    fails_then_next_works(&junk, "image/png", OcrErrorKind::Corrupt, &policy());
}

#[test]
fn a_hang_past_the_timeout_is_killed() {
    let p = OcrPolicy { timeout: Duration::from_millis(50), ..policy() };
    let msg = fails_then_next_works(&fixture("scans.pdf"), "application/pdf", OcrErrorKind::Timeout, &p);
    assert!(msg.contains("longer than"), "{msg}");
}

#[test]
fn too_many_pages_hit_the_page_limit() {
    let p = OcrPolicy { max_pages: 2, ..policy() };
    fails_then_next_works(&fixture("bundle-multi.tif"), "image/tiff", OcrErrorKind::Limit, &p);
    fails_then_next_works(&fixture("scans.pdf"), "application/pdf", OcrErrorKind::Limit, &p);
}

#[test]
fn a_missing_language_is_a_config_error() {
    let p = OcrPolicy { languages: vec!["xx_not_installed".into()], ..policy() };
    fails_then_next_works(&fixture("statement-g4.tif"), "image/tiff", OcrErrorKind::Config, &p);
    let p = OcrPolicy { languages: vec!["../etc".into()], ..policy() };
    let (_d, r) = try_ocr(&fixture("statement-g4.tif"), "image/tiff", &p);
    assert_eq!(r.unwrap_err().kind, OcrErrorKind::Config);
}
