//! Which images are camera photos, not scans (photos are not OCRed unless
//! `[ocr] photos = true`).
//!
//! The rule: a JPEG or TIFF is a camera photo when its EXIF (or TIFF) tags
//! name a camera `Make` and its Exif sub-directory records how the picture
//! was exposed (`ExposureTime`, `FNumber` or `FocalLength`). Scanners also
//! write `Make` and `Model`, but no exposure, so scans stay OCRed.

/// Bytes of the file head read to find the EXIF block.
pub const PHOTO_HEAD_BYTES: usize = 256 << 10;

const MAKE: u16 = 0x010F;
const EXIF_IFD: u16 = 0x8769;
const EXPOSURE_TAGS: [u16; 3] = [0x829A, 0x829D, 0x920A];

/// True when `head` (the start of a JPEG or TIFF file) is a camera photo by the rule above.
pub fn is_camera_photo(head: &[u8]) -> bool {
    let tiff = if head.starts_with(&[0xFF, 0xD8]) { exif_in_jpeg(head) } else { Some(head) };
    tiff.and_then(camera_tags).unwrap_or(false)
}

/// The TIFF structure inside a JPEG's APP1 `Exif` segment.
fn exif_in_jpeg(data: &[u8]) -> Option<&[u8]> {
    let mut at = 2;
    while at + 4 <= data.len() && data[at] == 0xFF {
        let marker = data[at + 1];
        let len = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        if marker == 0xDA || len < 2 {
            return None;
        }
        let body = data.get(at + 4..(at + 2 + len).min(data.len()))?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            return Some(&body[6..]);
        }
        at += 2 + len;
    }
    None
}

/// Reads IFD0 for `Make` and the Exif IFD for exposure tags.
fn camera_tags(tiff: &[u8]) -> Option<bool> {
    let tiff = crate::tiff_bytes::TiffBytes::new(tiff)?;
    let u16_at = |o: usize| tiff.u16_at(o);
    let u32_at = |o: usize| tiff.u32_at(o);
    let entries = |ifd: usize| -> Option<Vec<(u16, u32)>> {
        let count = usize::from(u16_at(ifd)?).min(512);
        (0..count).map(|i| Some((u16_at(ifd + 2 + i * 12)?, u32_at(ifd + 2 + i * 12 + 8)?))).collect()
    };
    let ifd0 = entries(u32_at(4)? as usize)?;
    let has_make = ifd0.iter().any(|(tag, _)| *tag == MAKE);
    let exif = ifd0.iter().find(|(tag, _)| *tag == EXIF_IFD).and_then(|(_, at)| entries(*at as usize));
    let exposed = exif.is_some_and(|e| e.iter().any(|(tag, _)| EXPOSURE_TAGS.contains(tag)));
    Some(has_make && exposed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF/EXIF block: IFD0 with `ifd0` tags (plus an Exif
    /// pointer when `exif` is not empty), then the Exif IFD.
    fn exif_block(ifd0: &[u16], exif: &[u16]) -> Vec<u8> {
        let mut tags: Vec<(u16, u32)> = ifd0.iter().map(|t| (*t, 0)).collect();
        let ifd0_len = 2 + (tags.len() + usize::from(!exif.is_empty())) * 12 + 4;
        if !exif.is_empty() {
            tags.push((EXIF_IFD, (8 + ifd0_len) as u32));
        }
        let mut out = b"II*\0".to_vec();
        out.extend_from_slice(&8u32.to_le_bytes());
        for ifd in [tags, exif.iter().map(|t| (*t, 0)).collect()] {
            out.extend_from_slice(&(ifd.len() as u16).to_le_bytes());
            for (tag, value) in ifd {
                out.extend_from_slice(&tag.to_le_bytes());
                out.extend_from_slice(&[4, 0, 1, 0, 0, 0]);
                out.extend_from_slice(&value.to_le_bytes());
            }
            out.extend_from_slice(&0u32.to_le_bytes());
        }
        out
    }

    fn jpeg_with(exif: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((exif.len() + 8) as u16).to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(exif);
        out.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        out
    }

    #[test]
    fn a_camera_jpeg_is_a_photo_and_a_scanner_jpeg_is_not() {
        assert!(is_camera_photo(&jpeg_with(&exif_block(&[MAKE, 0x0110], &[0x829A, 0x920A]))));
        assert!(!is_camera_photo(&jpeg_with(&exif_block(&[MAKE, 0x0110], &[]))), "scanner: make, no exposure");
        assert!(!is_camera_photo(&jpeg_with(&exif_block(&[], &[0x829A]))), "no make");
        assert!(is_camera_photo(&exif_block(&[MAKE], &[0x829D])), "a camera TIFF");
    }

    #[test]
    fn hostile_heads_are_not_photos_and_do_not_panic() {
        assert!(!is_camera_photo(b""));
        assert!(!is_camera_photo(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, b'E']));
        let mut block = exif_block(&[MAKE], &[0x829A]);
        block.truncate(20);
        assert!(!is_camera_photo(&jpeg_with(&block)));
        let mut looped = exif_block(&[MAKE], &[]);
        looped[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(!is_camera_photo(&looped));
    }
}
