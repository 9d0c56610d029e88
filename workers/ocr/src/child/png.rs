//! PDF Flate images with PNG predictors, re-wrapped as PNG files without
//! recompression (img2pdf in reverse). With `/Predictor` 10 to 15 each row of
//! the zlib stream starts with a PNG filter byte, so the stream bytes are a
//! valid PNG IDAT; the PDF renderer later copies that IDAT back unchanged.

use pdf::enc::LZWFlateParams;

use super::samples::{Colour, Raster};

/// The PNG file signature.
const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// True when a Flate stream with `params` holds rows in PNG's own format for
/// `r`, and PNG can say what the samples are (grey, RGB, or a palette of
/// grey or RGB; no `/Decode` array).
pub fn is_png_predicted(params: &LZWFlateParams, r: &Raster) -> bool {
    let depth_ok = match &r.colour {
        Colour::Gray | Colour::Rgb => matches!(r.bpc, 1 | 2 | 4 | 8 | 16) && (r.colour == Colour::Gray || r.bpc >= 8),
        Colour::Indexed { base, .. } => matches!(r.bpc, 1 | 2 | 4 | 8) && matches!(**base, Colour::Gray | Colour::Rgb),
        Colour::Cmyk => false,
    };
    (10..=15).contains(&params.predictor)
        && depth_ok
        && r.decode.is_none()
        && u32::try_from(params.bits_per_component) == Ok(r.bpc)
        && usize::try_from(params.n_components) == Ok(r.colour.components())
        && u32::try_from(params.columns) == Ok(r.width)
}

/// A PNG file whose single IDAT chunk is `zlib_rows` (a PNG-predicted zlib stream).
pub fn wrap(zlib_rows: &[u8], r: &Raster) -> Option<Vec<u8>> {
    let idat_len = u32::try_from(zlib_rows.len()).ok().filter(|n| *n < 1 << 31)?;
    let (colour_type, plte) = match &r.colour {
        Colour::Gray => (0, None),
        Colour::Rgb => (2, None),
        Colour::Indexed { base, palette } => (3, Some(plte(base, palette, r.bpc)?)),
        Colour::Cmyk => return None,
    };
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&r.width.to_be_bytes());
    ihdr.extend_from_slice(&r.height.to_be_bytes());
    // Bit depth, colour type, deflate, adaptive filtering, no interlace.
    ihdr.extend_from_slice(&[r.bpc as u8, colour_type, 0, 0, 0]);
    let extra = plte.as_ref().map_or(0, |p| p.len() + 12);
    let mut out = Vec::with_capacity(SIGNATURE.len() + 3 * 12 + ihdr.len() + idat_len as usize + extra);
    out.extend_from_slice(SIGNATURE);
    chunk(&mut out, b"IHDR", &ihdr);
    if let Some(plte) = plte {
        chunk(&mut out, b"PLTE", &plte);
    }
    chunk(&mut out, b"IDAT", zlib_rows);
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

/// The PLTE chunk data (RGB triples) of a grey or RGB lookup table, padded
/// with black to the bit depth's size so that no index is out of range.
fn plte(base: &Colour, palette: &[u8], bpc: u32) -> Option<Vec<u8>> {
    let entries = 1usize << bpc;
    let mut out = Vec::with_capacity(entries * 3);
    match base {
        Colour::Gray => palette.iter().take(entries).for_each(|g| out.extend_from_slice(&[*g; 3])),
        Colour::Rgb => palette.chunks_exact(3).take(entries).for_each(|c| out.extend_from_slice(c)),
        _ => return None,
    }
    out.resize(entries * 3, 0);
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

    fn params(predictor: i32, colors: i32, bpc: i32, columns: i32) -> LZWFlateParams {
        LZWFlateParams { predictor, n_components: colors, bits_per_component: bpc, columns, early_change: 1 }
    }

    fn raster(width: u32, bpc: u32, colour: Colour) -> Raster {
        Raster { width, height: 2, bpc, colour, decode: None }
    }

    #[test]
    fn only_png_predictors_matching_the_image_qualify() {
        let grey = raster(4, 8, Colour::Gray);
        assert!(is_png_predicted(&params(15, 1, 8, 4), &grey));
        assert!(is_png_predicted(&params(10, 1, 8, 4), &grey));
        assert!(!is_png_predicted(&params(1, 1, 8, 4), &grey), "no predictor: rows have no filter byte");
        assert!(!is_png_predicted(&params(2, 1, 8, 4), &grey), "TIFF predictor");
        assert!(!is_png_predicted(&params(15, 3, 8, 4), &grey), "colours differ");
        assert!(!is_png_predicted(&params(15, 1, 8, 5), &grey), "columns differ");
        let bilevel = raster(4, 1, Colour::Gray);
        assert!(is_png_predicted(&params(15, 1, 1, 4), &bilevel));
        let palette = raster(4, 1, Colour::Indexed { base: Box::new(Colour::Rgb), palette: vec![255; 6] });
        assert!(is_png_predicted(&params(15, 1, 1, 4), &palette), "img2pdf's 1-bit palette page");
        assert!(!is_png_predicted(&params(15, 4, 8, 4), &raster(4, 8, Colour::Cmyk)), "PNG has no CMYK");
        let inverted = Raster { decode: Some(vec![1.0, 0.0]), ..bilevel };
        assert!(!is_png_predicted(&params(15, 1, 1, 4), &inverted), "PNG has no Decode array");
    }

    #[test]
    fn wrapped_rows_form_a_png_with_valid_chunks() {
        let png = wrap(b"zlib", &Raster { height: 2, ..raster(4, 8, Colour::Rgb) }).unwrap();
        assert!(png.starts_with(SIGNATURE));
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(&png[16..29], &[0, 0, 0, 4, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        // The IHDR CRC covers its type and data.
        assert_eq!(&png[29..33], &crc32fast::hash(&png[12..29]).to_be_bytes());
        assert_eq!(&png[33..45], b"\0\0\0\x04IDATzlib");
        assert!(png.ends_with(b"\0\0\0\0IEND\xae\x42\x60\x82"));
    }

    #[test]
    fn a_palette_gets_a_full_plte_chunk() {
        let r = raster(4, 1, Colour::Indexed { base: Box::new(Colour::Gray), palette: vec![255] });
        let png = wrap(b"zlib", &r).unwrap();
        assert_eq!(&png[24..26], &[1, 3], "1 bit, colour type 3");
        assert_eq!(&png[33..37], &6u32.to_be_bytes());
        assert_eq!(&png[37..47], b"PLTE\xff\xff\xff\0\0\0");
    }
}
