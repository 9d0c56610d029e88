//! PDF Flate images with PNG predictors, re-wrapped as PNG files without
//! recompression (img2pdf in reverse). With `/Predictor` 10 to 15 each row of
//! the zlib stream starts with a PNG filter byte, so the stream bytes are a
//! valid PNG IDAT; the PDF renderer later copies that IDAT back unchanged.

use pdf::enc::LZWFlateParams;

/// The PNG file signature.
const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Describes a Flate-encoded 8-bit grey or RGB image.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    /// 1 (grey) or 3 (RGB).
    pub components: u32,
}

/// True when a Flate stream with `params` holds rows in PNG's own format for `layout`.
pub fn is_png_predicted(params: &LZWFlateParams, layout: Layout) -> bool {
    (10..=15).contains(&params.predictor)
        && params.bits_per_component == 8
        && u32::try_from(params.n_components) == Ok(layout.components)
        && u32::try_from(params.columns) == Ok(layout.width)
        && matches!(layout.components, 1 | 3)
}

/// A PNG file whose single IDAT chunk is `zlib_rows` (a PNG-predicted zlib stream).
pub fn wrap(zlib_rows: &[u8], layout: Layout) -> Option<Vec<u8>> {
    let idat_len = u32::try_from(zlib_rows.len()).ok().filter(|n| *n < 1 << 31)?;
    let colour_type = if layout.components == 3 { 2 } else { 0 };
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&layout.width.to_be_bytes());
    ihdr.extend_from_slice(&layout.height.to_be_bytes());
    // Bit depth 8, colour type, deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[8, colour_type, 0, 0, 0]);
    let mut out = Vec::with_capacity(SIGNATURE.len() + 3 * 12 + ihdr.len() + idat_len as usize);
    out.extend_from_slice(SIGNATURE);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", zlib_rows);
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

/// Appends one chunk: length, type, data, CRC of type and data.
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(predictor: i32, colors: i32, columns: i32) -> LZWFlateParams {
        LZWFlateParams { predictor, n_components: colors, bits_per_component: 8, columns, early_change: 1 }
    }

    #[test]
    fn only_png_predictors_matching_the_image_qualify() {
        let grey = Layout { width: 4, height: 2, components: 1 };
        assert!(is_png_predicted(&params(15, 1, 4), grey));
        assert!(is_png_predicted(&params(10, 1, 4), grey));
        assert!(!is_png_predicted(&params(1, 1, 4), grey), "no predictor: rows have no filter byte");
        assert!(!is_png_predicted(&params(2, 1, 4), grey), "TIFF predictor");
        assert!(!is_png_predicted(&params(15, 3, 4), grey), "colours differ");
        assert!(!is_png_predicted(&params(15, 1, 5), grey), "columns differ");
    }

    #[test]
    fn wrapped_rows_form_a_png_with_valid_chunks() {
        let png = wrap(b"zlib", Layout { width: 4, height: 2, components: 3 }).unwrap();
        assert!(png.starts_with(SIGNATURE));
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..29], &[0, 0, 0, 4, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        // The IHDR CRC covers its type and data.
        assert_eq!(&png[29..33], &crc32fast::hash(&png[12..29]).to_be_bytes());
        assert_eq!(&png[33..45], b"\0\0\0\x04IDATzlib");
        assert!(png.ends_with(b"\0\0\0\0IEND\xae\x42\x60\x82"));
    }
}
