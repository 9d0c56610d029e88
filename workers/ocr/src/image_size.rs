//! An image's width and height from its header bytes, read in the worker
//! without decoding anything: enough to tell an icon from a scanned page
//! (see `[ocr] min_page_side`). Only what the header states plainly is
//! read; anything else is `None`, and the image is OCRed as before.

/// Width and height of a PNG, a JPEG or a single-image TIFF whose header
/// is in `head`.
pub fn image_size(head: &[u8]) -> Option<(u32, u32)> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_size(head)
    } else if head.starts_with(&[0xFF, 0xD8]) {
        jpeg_size(head)
    } else {
        tiff_size(head)
    }
}

fn png_size(head: &[u8]) -> Option<(u32, u32)> {
    if head.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |at: usize| Some(u32::from_be_bytes(head.get(at..at + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}

/// The size in the first start-of-frame segment (SOF0-SOF15 but DHT, JPG
/// and DAC), walking the segments before the scan.
fn jpeg_size(head: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        let (&ff, &marker) = (head.get(at)?, head.get(at + 1)?);
        if ff != 0xFF {
            return None;
        }
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes(head.get(at + 2..at + 4)?.try_into().ok()?));
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let height = u16::from_be_bytes(head.get(at + 5..at + 7)?.try_into().ok()?);
            let width = u16::from_be_bytes(head.get(at + 7..at + 9)?.try_into().ok()?);
            return Some((u32::from(width), u32::from(height)));
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        at += 2 + len;
    }
}

/// The size in the first IFD of a TIFF holding one image; a multi-page
/// TIFF is a document, whatever its first page's size.
fn tiff_size(head: &[u8]) -> Option<(u32, u32)> {
    let tiff = crate::tiff_bytes::TiffBytes::new(head)?;
    let u16_at = |o: usize| tiff.u16_at(o);
    let u32_at = |o: usize| tiff.u32_at(o);
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    let (mut width, mut height) = (None, None);
    for entry in (0..count).map(|i| ifd + 2 + i * 12) {
        // SHORT (3) or LONG (4), one value, held in the entry itself.
        let value = match u16_at(entry + 2)? {
            3 => u32::from(u16_at(entry + 8)?),
            4 => u32_at(entry + 8)?,
            _ => continue,
        };
        match u16_at(entry)? {
            0x0100 => width = Some(value),
            0x0101 => height = Some(value),
            _ => {}
        }
    }
    let next_ifd = u32_at(ifd + 2 + count * 12)?;
    (next_ifd == 0).then_some((width?, height?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name)).unwrap()
    }

    #[test]
    fn sizes_of_the_fixture_scans_are_read_from_their_headers() {
        assert_eq!(image_size(&fixture("memo.png")), Some((2480, 1400)));
        let jpeg = image_size(&fixture("letter.jpg")).unwrap();
        assert!(jpeg.0 > 200 && jpeg.1 > 200, "{jpeg:?}");
        let tiff = image_size(&fixture("statement-g4.tif")).unwrap();
        assert!(tiff.0 > 200 && tiff.1 > 200, "{tiff:?}");
        assert_eq!(image_size(&fixture("bundle-multi.tif")), None, "a multi-page TIFF is a document");
    }

    #[test]
    fn short_or_hostile_headers_give_no_size() {
        for head in
            [&b""[..], b"\x89PNG\r\n\x1a\n", b"\xFF\xD8\xFF", b"\xFF\xD8\xFF\xE0\x00\x00", b"II*\0\xFF\xFF\xFF\xFF"]
        {
            assert_eq!(image_size(head), None, "{head:?}");
        }
    }
}
