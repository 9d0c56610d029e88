//! Acceptance 1, 3 and reproducibility, on fixtures made by scripts/fixtures/ocr.sh.

use exhibit_ocr::{HOCR_FILE, PDF_FILE, char_accuracy, normalise_whitespace};
use sha2::{Digest, Sha256};

use crate::common::{fixture, known_text, ocr, tool};

fn assert_accurate(name: &str, file: &str, media_type: &str) -> crate::common::Run {
    let run = ocr(&fixture(file), media_type);
    let expected = known_text(&format!("{name}.txt"));
    let accuracy = char_accuracy(&expected, &run.text);
    assert!(accuracy >= 0.99, "{file}: accuracy {accuracy:.4}\n--- got:\n{}", run.text);
    run
}

#[test]
fn g4_tiff_is_read_accurately() {
    let run = assert_accurate("statement-g4", "statement-g4.tif", "image/tiff");
    let page = &run.outcome.pages[0];
    assert!(!page.needs_review, "{page:?}");
    assert!(page.word_count >= 35 && page.mean_confidence >= 80, "{page:?}");
}

#[test]
fn multipage_tiff_gives_each_page_in_order() {
    let run = assert_accurate("bundle-multi", "bundle-multi.tif", "image/tiff");
    assert_eq!(run.outcome.pages.len(), 3);
    assert_eq!(run.text.matches('\u{c}').count(), 2, "a form feed between pages");
    let indexes: Vec<u32> = run.outcome.pages.iter().map(|p| p.index).collect();
    assert_eq!(indexes, [0, 1, 2]);
}

#[test]
fn jpeg_and_png_are_read_accurately() {
    assert_accurate("letter", "letter.jpg", "image/jpeg");
    assert_accurate("memo", "memo.png", "image/png");
}

#[test]
fn rotated_pages_are_detected_and_corrected() {
    let run = assert_accurate("rotated-90", "rotated-90.png", "image/png");
    assert_eq!(run.outcome.pages[0].rotated_degrees, 90);
    let run = assert_accurate("rotated-180", "rotated-180.tif", "image/tiff");
    assert_eq!(run.outcome.pages[0].rotated_degrees, 180);
}

/// Tesseract reads a page turned 90° clockwise well without turning it, so only
/// the sideways text lines show that the image needs turning.
#[test]
fn a_page_turned_clockwise_is_turned_back_though_tesseract_reads_it() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rotated-270.png");
    let run = ocr(&file, "image/png");
    let accuracy = char_accuracy(&known_text("statement-g4.txt"), &run.text);
    assert!(accuracy >= 0.99, "accuracy {accuracy:.4}\n--- got:\n{}", run.text);
    assert_eq!(run.outcome.pages[0].rotated_degrees, 270);
}

#[test]
fn img2pdf_scans_give_text_and_a_searchable_pdf_with_the_original_images() {
    let run = assert_accurate("scans", "scans.pdf", "application/pdf");
    assert_eq!(run.outcome.pages.len(), 3);
    assert!(run.outcome.searchable_pdf);
    let hocr = std::fs::read_to_string(run.path(HOCR_FILE)).unwrap();
    assert_eq!(hocr.matches("class='ocr_page'").count(), 3);
    let pdf = run.path(PDF_FILE);
    // pdftotext of the searchable PDF gives the same words as the text output.
    if let Some(extracted) = tool("pdftotext", &[pdf.as_os_str(), "-".as_ref()]) {
        assert_eq!(normalise_whitespace(&extracted), normalise_whitespace(&run.text));
    }
    // The page images are embedded at their original size and encoding.
    if let Some(list) = tool("pdfimages", &["-list".as_ref(), pdf.as_os_str()]) {
        let rows: Vec<Vec<&str>> = list.lines().skip(2).map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(rows.len(), 3, "{list}");
        let size_enc_ppi = |r: &Vec<&str>| (format!("{}x{}", r[3], r[4]), r[8].to_owned(), r[12].to_owned());
        let got: Vec<(String, String, String)> = rows.iter().map(size_enc_ppi).collect();
        assert_eq!(got[0], ("2480x1400".into(), "ccitt".into(), "300".into()), "{list}");
        assert_eq!(got[1].0, "2480x1400", "{list}");
        assert_eq!(got[2], ("2480x1400".into(), "jpeg".into(), "300".into()), "{list}");
        let original = std::fs::read(fixture("letter.jpg")).unwrap();
        let output = std::fs::read(&pdf).unwrap();
        assert!(output.windows(original.len()).any(|w| w == original), "JPEG embedded as-is");
        let input = std::fs::read(fixture("scans.pdf")).unwrap();
        let png_rows = flate_image_stream(&input);
        assert!(output.windows(png_rows.len()).any(|w| w == png_rows), "PNG-predicted Flate stream embedded as-is");
    }
}

/// The stream bytes of the first PNG-predicted Flate image in a PDF made by img2pdf.
fn flate_image_stream(pdf: &[u8]) -> &[u8] {
    let find = |from: usize, what: &[u8]| from + pdf[from..].windows(what.len()).position(|w| w == what).unwrap();
    let filter = find(0, b"/Predictor 15 >> /Filter /FlateDecode");
    let length_at = find(filter, b"/Length ") + b"/Length ".len();
    let digits = pdf[length_at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let length: usize = std::str::from_utf8(&pdf[length_at..length_at + digits]).unwrap().parse().unwrap();
    let start = find(length_at, b"stream\n") + b"stream\n".len();
    &pdf[start..start + length]
}

#[test]
fn same_input_gives_identical_text_and_pdf_bytes() {
    let a = ocr(&fixture("scans.pdf"), "application/pdf");
    let b = ocr(&fixture("scans.pdf"), "application/pdf");
    assert_eq!(a.text, b.text);
    let sha = |r: &crate::common::Run| hex::encode(Sha256::digest(std::fs::read(r.path(PDF_FILE)).unwrap()));
    assert_eq!(sha(&a), sha(&b));
    assert_eq!(std::fs::read(a.path(HOCR_FILE)).unwrap(), std::fs::read(b.path(HOCR_FILE)).unwrap());
}

#[test]
fn blank_page_needs_review() {
    let dir = tempfile::tempdir().unwrap();
    let pbm = dir.path().join("blank.pbm");
    let mut blank = b"P4\n800 600\n".to_vec();
    blank.resize(blank.len() + 100 * 600, 0);
    std::fs::write(&pbm, blank).unwrap();
    let run = ocr(&pbm, "image/x-portable-bitmap");
    let page = &run.outcome.pages[0];
    assert!(page.needs_review && page.word_count == 0, "{page:?}");
    assert_eq!(page.reason.as_deref(), Some("no words found"));
}
