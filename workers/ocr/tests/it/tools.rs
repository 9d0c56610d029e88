//! Scan PDFs written by each common tool (img2pdf from every PNG, TIFF and
//! JPEG kind, Ghostscript, LibreOffice, tiff2pdf, a JBIG2 PDF), made by
//! scripts/fixtures/ocr-tools.sh, which checks that ocrmypdf reads each one:
//! exhibit reads every one of them too.

use exhibit_ocr::{TEXT_FILE, char_accuracy};

use crate::common::{fixture, known_text, policy, try_ocr};

#[test]
fn every_tools_scan_pdf_is_read_accurately() {
    let expected = known_text("tools/page.txt");
    let mut names: Vec<_> = std::fs::read_dir(fixture("tools"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".pdf"))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let (dir, r) = try_ocr(&fixture(&format!("tools/{name}")), "application/pdf", &policy());
        let outcome = match r {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let text = std::fs::read_to_string(dir.path().join(TEXT_FILE)).unwrap();
        let accuracy = char_accuracy(&expected, &text);
        assert_eq!(outcome.pages.len(), 1, "{name}");
        if accuracy < 0.95 || !outcome.searchable_pdf {
            failures.push(format!("{name}: accuracy {accuracy:.3}: {text:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// tiff2pdf's JPEG pass-through: wrong xref offsets and a short stream
/// `/Length` are repaired (as qpdf does), and its "JPEG" (one JPEG per strip
/// end to end, which Ghostscript renders blank) is reported as corrupt,
/// with a reason, instead of an empty page.
#[test]
fn tiff2pdf_jpeg_pass_through_is_repaired_then_its_image_reported() {
    let (_d, r) = try_ocr(&fixture("tools/broken/tiff2pdf-jpeg-passthrough.pdf"), "application/pdf", &policy());
    let err = r.unwrap_err();
    assert_eq!(err.kind, exhibit_ocr::OcrErrorKind::Corrupt);
    assert!(err.message.contains("image header"), "{err}");
}
