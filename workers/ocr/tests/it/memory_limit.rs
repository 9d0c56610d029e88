//! Tester's repro-10: a valid document whose pages are too large for the
//! OCR child's memory cap is a `limit` fault naming `ocr.max_memory`, never
//! "no decoder accepts it" (corrupt) or a crash.

use std::path::Path;

use exhibit_ocr::{OcrErrorKind, OcrPolicy};

use crate::common::{policy, try_ocr};

/// A 2-page deflate TIFF of blank 8000x8000 RGB pages (64 Mpx, 256 MB each decoded).
fn large_tiff(path: &Path) {
    let code = format!(
        "from PIL import Image\nim = Image.new('RGB', (8000, 8000), (255, 255, 255))\nim.save('{}', save_all=True, append_images=[im], compression='tiff_deflate')",
        path.display()
    );
    let out = std::process::Command::new("/usr/bin/python3").args(["-c", &code]).output().expect("python3");
    assert!(out.status.success(), "PIL is needed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn pages_over_the_memory_cap_are_a_limit_naming_ocr_max_memory() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("plans.tif");
    large_tiff(&input);
    let tight = OcrPolicy { max_memory: 512 << 20, ..policy() };
    let (_out, r) = try_ocr(&input, "image/tiff", &tight);
    let e = r.expect_err("256 MB pages do not fit in 512 MiB with Tesseract");
    assert_eq!(e.kind, OcrErrorKind::Limit, "{e}");
    assert!(e.message.contains("ocr.max_memory") && e.message.contains("512 MiB"), "{e}");
}

/// A 3-page deflate TIFF of blank 4000x3000 grey pages (12 Mpx, ~288 MB
/// each by the child's estimate of what recognising a page takes).
fn modest_tiff(path: &Path) {
    let code = format!(
        "from PIL import Image\nim = Image.new('L', (4000, 3000), 255)\nim.save('{}', save_all=True, append_images=[im, im], compression='tiff_deflate')",
        path.display()
    );
    let out = std::process::Command::new("/usr/bin/python3").args(["-c", &code]).output().expect("python3");
    assert!(out.status.success(), "PIL is needed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Repro-10's gate: pages are handed to the workers only while their
/// estimated memory fits in half of `ocr.max_memory`. With 1 GiB (a budget
/// of 512 MiB) two of these pages do not fit at once, so with two workers
/// the child never holds more than one, as its recorded peak shows.
#[test]
fn pages_are_not_run_more_at_once_than_the_memory_budget_allows() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("modest.tif");
    modest_tiff(&input);
    let tight = OcrPolicy { max_memory: 1 << 30, threads: 2, ..policy() };
    let (_out, r) = try_ocr(&input, "image/tiff", &tight);
    let outcome = r.expect("three 12 Mpx pages fit in 1 GiB one at a time");
    assert_eq!(outcome.pages.len(), 3);
    assert_eq!(outcome.most_pages_in_flight, 1, "two pages of ~288 MB do not fit in a 512 MiB budget");
}
