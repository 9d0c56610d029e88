//! A bounded walk over a TIFF's IFDs: page count and page sizes, read before
//! any pixels are decoded so that limits apply to hostile headers.

use crate::OcrError;

/// One page of a TIFF as its directory declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TiffPage {
    pub width: u32,
    pub height: u32,
    /// Offset of the page's IFD, where a reader starts on the page (so a
    /// page whose data does not decode can be passed over).
    pub ifd: usize,
}

/// Each page of a TIFF, at most `max_pages + 1` pages.
pub fn pages(data: &[u8], max_pages: u32) -> Result<Vec<TiffPage>, OcrError> {
    let bad = |why: &str| OcrError::corrupt(format!("TIFF: {why}"));
    let le = match data.get(..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => return Err(bad("not a classic TIFF header")),
    };
    let u16_at = |o: usize| -> Option<u32> {
        let b: [u8; 2] = data.get(o..o + 2)?.try_into().ok()?;
        Some(u32::from(if le { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) }))
    };
    let u32_at = |o: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(o..o + 4)?.try_into().ok()?;
        Some(if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    let mut pages = Vec::new();
    let mut offset = u32_at(4).ok_or_else(|| bad("truncated header"))? as usize;
    let mut seen = std::collections::HashSet::new();
    while offset != 0 {
        if !seen.insert(offset) {
            return Err(bad("IFD chain loops"));
        }
        if pages.len() > max_pages as usize {
            break;
        }
        let count = u16_at(offset).ok_or_else(|| bad("IFD past the end of the file (truncated?)"))? as usize;
        let (mut w, mut h) = (None, None);
        for i in 0..count {
            let e = offset + 2 + i * 12;
            let tag = u16_at(e).ok_or_else(|| bad("IFD entry past the end of the file (truncated?)"))?;
            let kind = u16_at(e + 2).ok_or_else(|| bad("truncated IFD entry"))?;
            let value = if kind == 3 { u16_at(e + 8) } else { u32_at(e + 8) };
            match tag {
                256 => w = value,
                257 => h = value,
                _ => {}
            }
        }
        match (w, h) {
            (Some(width), Some(height)) if width > 0 && height > 0 => {
                pages.push(TiffPage { width, height, ifd: offset })
            }
            _ => return Err(bad(&format!("page {} has no width or height", pages.len() + 1))),
        }
        offset = u32_at(offset + 2 + count * 12).ok_or_else(|| bad("truncated IFD (no next offset)"))? as usize;
    }
    if pages.is_empty() {
        return Err(bad("no pages"));
    }
    Ok(pages)
}
