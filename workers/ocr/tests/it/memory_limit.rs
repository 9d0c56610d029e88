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

/// A 3-page deflate TIFF of blank 4000x4000 RGB pages (16 Mpx, ~288 MB
/// each by the child's estimate of what recognising a colour page takes).
fn modest_tiff(path: &Path) {
    let code = format!(
        "from PIL import Image\nim = Image.new('RGB', (4000, 4000), (255, 255, 255))\nim.save('{}', save_all=True, append_images=[im, im], compression='tiff_deflate')",
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
    let outcome = r.expect("three 16 Mpx pages fit in 1 GiB one at a time");
    assert_eq!(outcome.pages.len(), 3);
    assert_eq!(outcome.most_pages_in_flight, 1, "two pages of ~288 MB do not fit in a 512 MiB budget");
}

/// A PNG bomb: `width` x `height` white RGBA rows, deflated to a few hundred KB.
fn png_bomb(path: &Path, width: u32, height: u32) {
    let code = format!(
        "import struct, zlib\n\
         w, h = {width}, {height}\n\
         def chunk(k, d): return struct.pack('>I', len(d)) + k + d + struct.pack('>I', zlib.crc32(k + d))\n\
         z = zlib.compressobj(9)\n\
         row = b'\\0' + b'\\xff' * (4 * w)\n\
         idat = b''.join(z.compress(row) for _ in range(h)) + z.flush()\n\
         ihdr = struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0)\n\
         open('{}', 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat) + chunk(b'IEND', b''))",
        path.display()
    );
    let out = std::process::Command::new("/usr/bin/python3").args(["-c", &code]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Issue 13 (attack pass of stop 27): an image bomb under `ocr.max_pixels`
/// (6000x6000 RGBA in ~150 KB; the tester's was 12000x12000 and peaked at
/// 2.4 GB) is refused on its header when recognising it would need more
/// than `ocr.max_memory` by the estimate: a limit naming the page, the
/// estimate and the key, and nothing decoded.
#[test]
fn a_page_whose_estimate_is_over_the_memory_cap_is_refused_before_it_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bomb.png");
    png_bomb(&input, 6000, 6000);
    assert!(std::fs::metadata(&input).unwrap().len() < 1 << 20);
    let tight = OcrPolicy { max_memory: 512 << 20, ..policy() };
    let (_out, r) = try_ocr(&input, "image/png", &tight);
    let e = r.expect_err("a 36 Mpx page needs more than 512 MiB");
    assert_eq!(e.kind, OcrErrorKind::Limit, "{e}");
    for part in ["page 1 is 6000x6000", "by the estimate", "ocr.max_memory = 512 MiB", "not decoded"] {
        assert!(e.message.contains(part), "{part}: {e}");
    }
}
