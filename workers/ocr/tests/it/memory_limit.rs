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
