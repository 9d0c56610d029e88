//! A JPEG page image (a PDF page's DCTDecode image, or a plain `.jpg`
//! scan, tester's repro-16) that ends early. JPEG entropy data
//! cannot hold an end-of-image marker (`FF D9`: an `FF` byte in it is
//! stuffed as `FF 00`), so a stream with none after its last scan header
//! was cut. libjpeg (through Leptonica, told to go on past bad data)
//! decodes what such data holds and fills the blocks after the cut as a
//! zero coefficient does (flat grey); the page is kept so and flagged.

use super::ffi::Pix;
use super::input::{DecodedPage, check_pixels, decode_single, plausible_ppi};
use crate::{OcrError, OcrErrorKind, OcrPolicy};

const SOS: [u8; 2] = [0xFF, 0xDA];
const EOI: [u8; 2] = [0xFF, 0xD9];

/// Whether `data` has an end-of-image marker after its last scan header.
pub fn is_complete(data: &[u8]) -> bool {
    let last_scan = data.windows(2).rposition(|w| w == SOS).unwrap_or(0);
    data[last_scan..].windows(2).any(|w| w == EOI)
}

/// Decodes a PDF page's JPEG; see [`decode`].
pub fn page(data: Vec<u8>, policy: &OcrPolicy, index: u32) -> Result<DecodedPage, OcrError> {
    decode(data, policy, index, &format!("PDF page {}", index + 1))
}

/// Decodes a JPEG file that is the whole document; see [`decode`].
pub fn image(data: Vec<u8>, policy: &OcrPolicy) -> Result<DecodedPage, OcrError> {
    decode(data, policy, 0, "the JPEG scan")
}

/// Decodes a page's JPEG; one cut short, or whose data Leptonica refuses
/// as corrupt, keeps what libjpeg decodes of it and is flagged for review
/// with why (`index` is the page, `what` names it).
fn decode(data: Vec<u8>, policy: &OcrPolicy, index: u32, what: &str) -> Result<DecodedPage, OcrError> {
    let damage = if is_complete(&data) {
        match decode_single(data.clone(), policy, index) {
            Err(e) if e.kind == OcrErrorKind::Corrupt => format!("its JPEG data is corrupt ({})", e.message),
            decoded => return decoded,
        }
    } else {
        format!("its JPEG data ends early ({} bytes, no end marker)", data.len())
    };
    let header = Pix::read_header(&data)?;
    check_pixels(header.width, header.height, policy, index)?;
    let pix = match Pix::read_damaged_jpeg(&data) {
        Ok(pix) => pix,
        // A spoiled byte pair that reads as a marker stops the scan, and
        // libjpeg then fails on it as a marker: ended there, the rows stay.
        Err(e) => cut_at_stray_marker(&data).map_or(Err(e), |cut| Pix::read_damaged_jpeg(&cut))?,
    };
    check_pixels(pix.width(), pix.height(), policy, index)?;
    tracing::warn!(page = index + 1, damage, "JPEG page damaged; kept what decodes");
    let ppi = plausible_ppi(pix.y_res());
    // The damaged bytes are not a JPEG to embed: the decoded raster is.
    let damage = Some(format!(
        "{what}: the page image is damaged: {damage}; the rows it holds are kept, the rest shows as flat grey"
    ));
    Ok(DecodedPage { index, seq: index, pix: pix.plain()?, original: None, ppi, text_layer: false, damage })
}

/// A baseline JPEG ended (with an end marker) at the first marker in its
/// scan's entropy data that cannot be there: not a stuffed `FF 00`, a
/// restart marker or the end itself. `None` when there is none, or the
/// JPEG is not baseline (a progressive one has tables and scans after its
/// first scan).
fn cut_at_stray_marker(data: &[u8]) -> Option<Vec<u8>> {
    let sos = data.windows(2).position(|w| w == SOS)?;
    if !matches!(frame_marker(&data[..sos])?, 0xC0 | 0xC1) {
        return None;
    }
    let header_len = usize::from(u16::from_be_bytes([*data.get(sos + 2)?, *data.get(sos + 3)?]));
    let scan = sos + 2 + header_len;
    let stray =
        data.get(scan..)?.windows(2).position(|w| w[0] == 0xFF && !matches!(w[1], 0x00 | 0xD0..=0xD7 | 0xFF))?;
    let at = scan + stray;
    if data[at + 1] == EOI[1] {
        return None;
    }
    tracing::info!(at, "JPEG scan data holds a stray marker; decoded up to it");
    Some([&data[..at], &EOI].concat())
}

/// The start-of-frame marker among the segments before the first scan.
fn frame_marker(head: &[u8]) -> Option<u8> {
    let mut at = 2;
    while at + 4 <= head.len() {
        let marker = head[at + 1];
        if head[at] != 0xFF {
            return None;
        }
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return Some(marker);
        }
        at += 2 + usize::from(u16::from_be_bytes([head[at + 2], head[at + 3]]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{cut_at_stray_marker, is_complete};

    #[test]
    fn a_stray_marker_in_baseline_scan_data_ends_the_jpeg_there() {
        // SOI, SOF0 (length 2), SOS (length 2), data with a stuffed FF 00 and RST0, a stray FF C4, more data, EOI.
        let jpeg = b"\xff\xd8\xff\xc0\x00\x02\xff\xda\x00\x02\x12\xff\x00\xff\xd0\x34\xff\xc4\x56\xff\xd9";
        assert_eq!(
            cut_at_stray_marker(jpeg).unwrap(),
            b"\xff\xd8\xff\xc0\x00\x02\xff\xda\x00\x02\x12\xff\x00\xff\xd0\x34\xff\xd9"
        );
        let sound = b"\xff\xd8\xff\xc0\x00\x02\xff\xda\x00\x02\x12\xff\x00\x34\xff\xd9";
        assert_eq!(cut_at_stray_marker(sound), None, "only its end marker");
        let progressive = b"\xff\xd8\xff\xc2\x00\x02\xff\xda\x00\x02\x12\xff\xc4\x00\x02\xff\xd9";
        assert_eq!(cut_at_stray_marker(progressive), None, "tables between scans are not stray");
    }

    #[test]
    fn an_end_marker_after_the_last_scan_is_a_complete_jpeg() {
        assert!(is_complete(b"\xff\xd8\xff\xda\x00\x02\x12\xff\x00\x34\xff\xd9"));
        assert!(is_complete(b"\xff\xd8\xff\xda\x00\x02\x12\xff\xd9\n"), "padding after it");
        assert!(!is_complete(b"\xff\xd8\xff\xda\x00\x02\x12\xff\x00\x34"), "cut in the scan");
        // A thumbnail's own end marker comes before the main scan.
        assert!(!is_complete(b"\xff\xd8\xff\xe1\xff\xda\x01\xff\xd9\xff\xda\x00\x02\x12"));
    }
}
