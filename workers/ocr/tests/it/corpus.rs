//! Acceptance 2: conformance on the shared corpus (skipped when absent).

use exhibit_ocr::{OcrPolicy, char_accuracy};

use crate::common::{corpus, ocr, ocr_with, policy};

#[test]
fn phototest_equals_tesseracts_expected_text() {
    let Some(c) = corpus() else { return };
    let run = ocr(&c.join("tesseract-test/phototest.tif"), "image/tiff");
    let expected = std::fs::read_to_string(c.join("tesseract-test/expected/phototest.txt")).unwrap();
    // Tesseract's own test compares after trimming trailing whitespace and the page's form feed.
    assert_eq!(run.text.trim_end_matches(['\u{c}', '\n', ' ']), expected.trim_end());
}

#[test]
fn linn_in_png_ccitt_and_jbig2_is_read_accurately() {
    let Some(c) = corpus() else { return };
    let expected = std::fs::read_to_string(c.join("ocrmypdf/expected/linn.txt")).unwrap();
    for (file, media_type) in
        [("linn.png", "image/png"), ("ccitt.pdf", "application/pdf"), ("jbig2.pdf", "application/pdf")]
    {
        let run = ocr(&c.join("ocrmypdf").join(file), media_type);
        let accuracy = char_accuracy(&expected, &run.text);
        assert!(accuracy >= 0.95, "{file}: accuracy {accuracy:.4}\n{}", run.text);
    }
}

#[test]
fn multipage_pdf_has_six_pages() {
    let Some(c) = corpus() else { return };
    let p = OcrPolicy { rotate: false, ..policy() };
    let run = ocr_with(&c.join("ocrmypdf/multipage.pdf"), "application/pdf", &p);
    assert_eq!(run.outcome.pages.len(), 6, "{:?}", run.outcome.pages);
}

#[test]
fn pytesseract_images_contain_the_quick_brown_dog() {
    let Some(c) = corpus() else { return };
    for (file, media_type) in [("test.jpg", "image/jpeg"), ("test.png", "image/png"), ("test.tiff", "image/tiff")] {
        let run = ocr(&c.join("pytesseract").join(file), media_type);
        assert!(run.text.contains("The quick brown dog"), "{file}: {}", run.text);
    }
}

#[test]
fn welsh_works_when_installed() {
    let Some(_) = corpus() else { return };
    if !std::path::Path::new("/usr/share/tesseract-ocr/5/tessdata/cym.traineddata").exists() {
        eprintln!("SKIPPED: cym.traineddata not installed");
        return;
    }
    let p = OcrPolicy { languages: vec!["cym".into(), "eng".into()], ..policy() };
    let run = ocr_with(&crate::common::fixture("statement-g4.tif"), "image/tiff", &p);
    assert_eq!(run.outcome.languages, ["cym", "eng"]);
    assert!(run.text.contains("Albion Street"), "{}", run.text);
}
