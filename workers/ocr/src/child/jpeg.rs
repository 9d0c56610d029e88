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
    let pix = Pix::read_damaged_jpeg(&data)?;
    check_pixels(pix.width(), pix.height(), policy, index)?;
    tracing::warn!(page = index + 1, damage, "JPEG page damaged; kept what decodes");
    let ppi = plausible_ppi(pix.y_res());
    // The damaged bytes are not a JPEG to embed: the decoded raster is.
    let damage = Some(format!(
        "{what}: the page image is damaged: {damage}; the rows it holds are kept, the rest shows as flat grey"
    ));
    Ok(DecodedPage { index, seq: index, pix: pix.plain()?, original: None, ppi, text_layer: false, damage })
}

#[cfg(test)]
mod tests {
    use super::is_complete;

    #[test]
    fn an_end_marker_after_the_last_scan_is_a_complete_jpeg() {
        assert!(is_complete(b"\xff\xd8\xff\xda\x00\x02\x12\xff\x00\x34\xff\xd9"));
        assert!(is_complete(b"\xff\xd8\xff\xda\x00\x02\x12\xff\xd9\n"), "padding after it");
        assert!(!is_complete(b"\xff\xd8\xff\xda\x00\x02\x12\xff\x00\x34"), "cut in the scan");
        // A thumbnail's own end marker comes before the main scan.
        assert!(!is_complete(b"\xff\xd8\xff\xe1\xff\xda\x01\xff\xd9\xff\xda\x00\x02\x12"));
    }
}
