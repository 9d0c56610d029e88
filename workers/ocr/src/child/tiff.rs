//! A bounded walk over a TIFF's IFDs: page count and page sizes, read before
//! any pixels are decoded so that limits apply to hostile headers. A chain
//! that breaks after some pages (it loops back, or points past the end of
//! the file) keeps the pages before the break: the fault is reported with
//! them, not instead of them.

use std::collections::HashMap;

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

/// The pages found, and why the chain stopped early, if it did.
#[derive(Debug)]
pub struct TiffPages {
    pub pages: Vec<TiffPage>,
    /// The break in the IFD chain after the last page found, for people.
    pub fault: Option<String>,
}

/// Each page of a TIFF, at most `max_pages + 1` pages. A document with no
/// readable page fails; a break after the first page ends the walk there.
pub fn pages(data: &[u8], max_pages: u32) -> Result<TiffPages, OcrError> {
    let bad = |why: &str| OcrError::corrupt(format!("TIFF: {why}"));
    let reader = Reader::new(data).ok_or_else(|| bad("not a classic TIFF header"))?;
    let mut pages = Vec::new();
    let mut offset = reader.u32_at(4).ok_or_else(|| bad("truncated header"))? as usize;
    // Each IFD read, and the page it starts.
    let mut seen = HashMap::new();
    while offset != 0 && pages.len() <= max_pages as usize {
        if let Some(&again) = seen.get(&offset) {
            let fault = format!("IFD chain loops: page {}'s next IFD is page {}'s again", pages.len(), again + 1);
            return chain_broken(pages, fault, bad);
        }
        seen.insert(offset, pages.len());
        match reader.ifd(offset, pages.len()) {
            Ok((page, next)) => {
                pages.push(page);
                offset = next;
            }
            Err(fault) => return chain_broken(pages, fault, bad),
        }
    }
    if pages.is_empty() {
        return Err(bad("no pages"));
    }
    Ok(TiffPages { pages, fault: None })
}

/// The pages before a break in the chain, or the break as the error when there are none.
fn chain_broken(pages: Vec<TiffPage>, fault: String, bad: impl Fn(&str) -> OcrError) -> Result<TiffPages, OcrError> {
    if pages.is_empty() {
        return Err(bad(&fault));
    }
    tracing::warn!(pages = pages.len(), fault, "TIFF IFD chain broken; the pages before the break are read");
    Ok(TiffPages { pages, fault: Some(fault) })
}

/// Reads numbers in the file's byte order.
struct Reader<'a> {
    data: &'a [u8],
    le: bool,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Option<Self> {
        match data.get(..4)? {
            b"II*\0" => Some(Self { data, le: true }),
            b"MM\0*" => Some(Self { data, le: false }),
            _ => None,
        }
    }

    fn u16_at(&self, o: usize) -> Option<u32> {
        let b: [u8; 2] = self.data.get(o..o.checked_add(2)?)?.try_into().ok()?;
        Some(u32::from(if self.le { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) }))
    }

    fn u32_at(&self, o: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(o..o.checked_add(4)?)?.try_into().ok()?;
        Some(if self.le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }

    /// The page whose IFD is at `offset` (`found` pages before it) and the next IFD's offset.
    fn ifd(&self, offset: usize, found: usize) -> Result<(TiffPage, usize), String> {
        let count = self.u16_at(offset).ok_or("IFD past the end of the file (truncated?)")? as usize;
        let (mut w, mut h) = (None, None);
        for i in 0..count {
            let e = offset + 2 + i * 12;
            let tag = self.u16_at(e).ok_or("IFD entry past the end of the file (truncated?)")?;
            let kind = self.u16_at(e + 2).ok_or("truncated IFD entry")?;
            let value = if kind == 3 { self.u16_at(e + 8) } else { self.u32_at(e + 8) };
            match tag {
                256 => w = value,
                257 => h = value,
                _ => {}
            }
        }
        let page = match (w, h) {
            (Some(width), Some(height)) if width > 0 && height > 0 => TiffPage { width, height, ifd: offset },
            _ => return Err(format!("page {} has no width or height", found + 1)),
        };
        let next = self.u32_at(offset + 2 + count * 12).ok_or("truncated IFD (no next offset)")?;
        Ok((page, next as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian TIFF header and `n` IFDs of one 10x20 page each, the
    /// last linking to `last_next`.
    fn chain(n: usize, last_next: u32) -> Vec<u8> {
        let mut data = b"II*\0".to_vec();
        data.extend_from_slice(&8u32.to_le_bytes());
        for i in 0..n {
            let here = data.len();
            data.extend_from_slice(&2u16.to_le_bytes());
            for (tag, value) in [(256u16, 10u32), (257, 20)] {
                data.extend_from_slice(&tag.to_le_bytes());
                data.extend_from_slice(&4u16.to_le_bytes());
                data.extend_from_slice(&1u32.to_le_bytes());
                data.extend_from_slice(&value.to_le_bytes());
            }
            let next = if i + 1 == n { last_next } else { (here + 2 + 24 + 4) as u32 };
            data.extend_from_slice(&next.to_le_bytes());
        }
        data
    }

    #[test]
    fn a_chain_that_loops_back_keeps_the_pages_before_the_loop() {
        let walked = pages(&chain(3, 8), 100).unwrap();
        assert_eq!(walked.pages.len(), 3);
        let fault = walked.fault.unwrap();
        assert!(fault.contains("loops") && fault.contains("page 3's next IFD is page 1's"), "{fault}");
    }

    #[test]
    fn a_chain_that_points_past_the_end_keeps_the_pages_before() {
        let walked = pages(&chain(2, 1 << 20), 100).unwrap();
        assert_eq!(walked.pages.len(), 2);
        assert!(walked.fault.unwrap().contains("past the end"));
    }

    #[test]
    fn a_sound_chain_has_no_fault_and_a_first_ifd_that_is_broken_fails() {
        let walked = pages(&chain(2, 0), 100).unwrap();
        assert_eq!((walked.pages.len(), walked.fault), (2, None));
        let mut cut = chain(1, 0);
        cut.truncate(12);
        assert!(pages(&cut, 100).is_err());
    }
}
