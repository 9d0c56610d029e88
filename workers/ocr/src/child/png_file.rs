//! A plain PNG scan cut short or damaged part way. libpng (through
//! Leptonica) gives nothing of such a file, so its rows are read here: the
//! chunks in order up to the first one that is cut or fails its CRC, their
//! IDAT data inflated as far as it goes, and the rows unfiltered up to the
//! first bad one. The rows that decode are kept, the rest is left white,
//! and the page is flagged for review naming the white rows, as a cut
//! `.jpg` and a damaged TIFF page are.
//!
//! Covers non-interlaced PNGs of every colour type (alpha is dropped). A
//! PNG whose signature or header (IHDR) is broken, an interlaced one, or
//! one of which no row decodes stays refused as it was.

use super::input::{DecodedPage, check_pixels, decode_single};
use super::samples::{self, Colour, Raster};
use crate::{OcrError, OcrErrorKind, OcrPolicy};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// What the header says, and the channels each pixel stores (alpha included).
struct Header {
    raster: Raster,
    channels: usize,
    interlaced: bool,
}

/// The rows of a damaged PNG that decode.
struct Rows {
    header: Header,
    /// Packed samples of the decoded rows, alpha dropped.
    samples: Vec<u8>,
    rows: u32,
    /// Why the data stops where it does.
    why: String,
}

/// Decodes a PNG that is the whole document: as Leptonica does when it
/// can, else as far as its rows decode (see the module docs).
pub fn image(data: Vec<u8>, policy: &OcrPolicy) -> Result<DecodedPage, OcrError> {
    let refused = match decode_single(data.clone(), policy, 0) {
        Err(e) if e.kind == OcrErrorKind::Corrupt => e,
        decoded => return decoded,
    };
    let _span = tracing::info_span!("damaged_png", bytes = data.len()).entered();
    match read_rows(&data, policy) {
        Ok(Some(rows)) => partial_page(rows, policy),
        Ok(None) => Err(refused),
        Err(e) => Err(e),
    }
}

/// The page from the rows that decode, white below them, flagged for review.
fn partial_page(rows: Rows, policy: &OcrPolicy) -> Result<DecodedPage, OcrError> {
    let raster = &rows.header.raster;
    let (pnm, _) = samples::to_pnm_padded(&rows.samples, raster, 0)?;
    let kept = rows.rows;
    let mut page = decode_single(pnm, policy, 0)?;
    let height = raster.height;
    tracing::warn!(rows = kept, height, why = rows.why, "PNG scan damaged; kept what decodes");
    let white = match height - kept {
        0 => String::new(),
        1 => format!("; row {height} is left white"),
        _ => format!("; rows {}-{height} are left white", kept + 1),
    };
    page.damage =
        Some(format!("the PNG scan: the page image is damaged ({}); {kept} of {height} rows decode{white}", rows.why));
    Ok(page)
}

/// The rows of `data` that decode; `None` when its header is broken, it is
/// interlaced, or no row decodes. Over `ocr.max_pixels` is a limit error.
fn read_rows(data: &[u8], policy: &OcrPolicy) -> Result<Option<Rows>, OcrError> {
    let Some(mut header) = header(data) else { return Ok(None) };
    check_pixels(header.raster.width, header.raster.height, policy, 0)?;
    if header.interlaced {
        return Ok(None);
    }
    let (idat, why) = image_data(data, &mut header);
    if matches!(&header.raster.colour, Colour::Indexed { palette, .. } if palette.is_empty()) {
        return Ok(None);
    }
    let stride = stored_stride(&header);
    // Rows of the declared size at most: the inflated bytes are bounded by the header, not the stream.
    let limit = (stride + 1).saturating_mul(header.raster.height as usize);
    let Ok(filtered) = samples::inflate(&idat, limit, 0) else { return Ok(None) };
    let (stored, bad_row) = unfilter(&filtered, &header, stride);
    let rows = (stored.len() / stride.max(1)) as u32;
    if rows == 0 {
        return Ok(None);
    }
    let why = match bad_row {
        true => format!("row {} has a bad filter type", rows + 1),
        false => why,
    };
    let samples = drop_alpha(stored, &header, stride);
    Ok(Some(Rows { header, samples, rows, why }))
}

/// The IHDR chunk, checked: first, 13 bytes, its CRC right, a known
/// colour type and depth.
fn header(data: &[u8]) -> Option<Header> {
    let rest = data.strip_prefix(SIGNATURE)?;
    let (kind, ihdr, _) = chunk(rest)?;
    if kind != *b"IHDR" || ihdr.len() != 13 {
        return None;
    }
    let width = u32::from_be_bytes(ihdr[0..4].try_into().ok()?);
    let height = u32::from_be_bytes(ihdr[4..8].try_into().ok()?);
    let (bpc, colour_type, interlace) = (u32::from(ihdr[8]), ihdr[9], ihdr[12]);
    let (colour, channels, depths): (Colour, usize, &[u32]) = match colour_type {
        0 => (Colour::Gray, 1, &[1, 2, 4, 8, 16]),
        2 => (Colour::Rgb, 3, &[8, 16]),
        // The palette is filled in from PLTE.
        3 => (Colour::Indexed { base: Box::new(Colour::Rgb), palette: Vec::new() }, 1, &[1, 2, 4, 8]),
        4 => (Colour::Gray, 2, &[8, 16]),
        6 => (Colour::Rgb, 4, &[8, 16]),
        _ => return None,
    };
    let valid = width > 0 && height > 0 && depths.contains(&bpc) && ihdr[10] == 0 && ihdr[11] == 0 && interlace <= 1;
    let raster = Raster { width, height, bpc, colour, decode: None };
    valid.then_some(Header { raster, channels, interlaced: interlace == 1 })
}

/// One chunk at the start of `data`: its type, its data and what follows;
/// `None` when it is cut short or its CRC is wrong.
fn chunk(data: &[u8]) -> Option<([u8; 4], &[u8], &[u8])> {
    let len = usize::try_from(u32::from_be_bytes(data.get(0..4)?.try_into().ok()?)).ok()?;
    let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
    let end = len.checked_add(12)?;
    let body = data.get(8..8 + len)?;
    let crc = u32::from_be_bytes(data.get(8 + len..end)?.try_into().ok()?);
    (crc32fast::hash(&data[4..8 + len]) == crc).then_some((kind, body, &data[end..]))
}

/// The concatenated IDAT data up to IEND or the first chunk that is cut
/// short (its bytes that are there are kept) or fails its CRC, and why it
/// stops there. Fills in an indexed header's palette from PLTE.
fn image_data(data: &[u8], header: &mut Header) -> (Vec<u8>, String) {
    let mut rest = &data[SIGNATURE.len()..];
    let mut idat = Vec::new();
    // The IHDR was checked by `header`.
    if let Some((_, _, after)) = chunk(rest) {
        rest = after;
    }
    loop {
        match chunk(rest) {
            Some((kind, _, _)) if kind == *b"IEND" => {
                return (idat, "its image data does not decode to the end".into());
            }
            Some((kind, body, after)) => {
                if kind == *b"IDAT" {
                    idat.extend_from_slice(body);
                } else if kind == *b"PLTE" {
                    set_palette(header, body);
                }
                rest = after;
            }
            None if is_cut(rest) => {
                // A chunk cut by the end of the file: the IDAT bytes it holds are what the file has.
                if rest.get(4..8) == Some(b"IDAT") {
                    idat.extend_from_slice(rest.get(8..).unwrap_or_default());
                }
                let at = data.len() - rest.len();
                return (idat, format!("the file ends early, in the chunk at byte {at} of {}", data.len()));
            }
            None => {
                let at = data.len() - rest.len();
                return (idat, format!("the chunk at byte {at} is damaged (its CRC does not match)"));
            }
        }
    }
}

/// Whether the chunk at the start of `rest` runs past the end of the file.
fn is_cut(rest: &[u8]) -> bool {
    let Some(len) = rest.get(0..4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes) else { return true };
    (len as usize).saturating_add(12) > rest.len()
}

fn set_palette(header: &mut Header, plte: &[u8]) {
    if let Colour::Indexed { palette, .. } = &mut header.raster.colour {
        if palette.is_empty() && plte.len() % 3 == 0 && plte.len() <= 256 * 3 {
            palette.extend_from_slice(plte);
        }
    }
}

/// Bytes per stored row (alpha included), without the filter byte.
fn stored_stride(h: &Header) -> usize {
    (h.raster.width as usize * h.channels * h.raster.bpc as usize).div_ceil(8)
}

/// Undoes the row filters of the complete rows in `filtered`, stopping at
/// the first row whose filter type is unknown; returns the rows and
/// whether such a row stopped it.
fn unfilter(filtered: &[u8], h: &Header, stride: usize) -> (Vec<u8>, bool) {
    let bpp = (h.channels * h.raster.bpc as usize).div_ceil(8).max(1);
    let rows = (filtered.len() / (stride + 1)).min(h.raster.height as usize);
    let mut out = vec![0u8; rows * stride];
    for (row, input) in filtered.chunks_exact(stride + 1).take(rows).enumerate() {
        let (done, rest) = out.split_at_mut(row * stride);
        let prev = row.checked_sub(1).map(|p| &done[p * stride..]);
        let cur = &mut rest[..stride];
        cur.copy_from_slice(&input[1..]);
        if samples::unfilter_row(input[0], bpp, prev, cur).is_none() {
            out.truncate(row * stride);
            return (out, true);
        }
    }
    (out, false)
}

/// The samples without their alpha channel (grey+alpha, RGBA), packed as the raster says.
fn drop_alpha(stored: Vec<u8>, h: &Header, stride: usize) -> Vec<u8> {
    let colours = h.raster.colour.components();
    if h.channels == colours {
        return stored;
    }
    // Alpha comes only at 8 or 16 bits: whole bytes per sample.
    let sample = h.raster.bpc as usize / 8;
    let (pixel, keep) = (h.channels * sample, colours * sample);
    let mut out = Vec::with_capacity(stored.len() / h.channels * colours);
    for row in stored.chunks_exact(stride) {
        for px in row.chunks_exact(pixel) {
            out.extend_from_slice(&px[..keep]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32fast::hash(&[kind.as_slice(), data].concat()).to_be_bytes());
    }

    /// A PNG of `rows` (each with its filter byte), stored uncompressed in IDATs of `per_idat` bytes.
    fn png(width: u32, height: u32, depth: u8, colour_type: u8, rows: &[u8], per_idat: usize) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
        z.write_all(rows).unwrap();
        let zlib = z.finish().unwrap();
        let mut out = SIGNATURE.to_vec();
        let ihdr = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[depth, colour_type, 0, 0, 0]].concat();
        chunk(&mut out, b"IHDR", &ihdr);
        for part in zlib.chunks(per_idat) {
            chunk(&mut out, b"IDAT", part);
        }
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// 40x30 grey rows, row r all of value r, filter None.
    fn grey_rows() -> Vec<u8> {
        (0..30u8).flat_map(|r| std::iter::once(0).chain(std::iter::repeat_n(r, 40))).collect()
    }

    #[test]
    fn a_cut_png_gives_its_complete_rows() {
        let whole = png(40, 30, 8, 0, &grey_rows(), 200);
        let rows = read_rows(&whole[..whole.len() / 2], &OcrPolicy::default()).unwrap().unwrap();
        assert!(rows.rows > 5 && rows.rows < 30, "{}", rows.rows);
        assert_eq!(rows.samples.len(), rows.rows as usize * 40);
        assert!(rows.samples.chunks(40).enumerate().all(|(r, row)| row.iter().all(|v| *v as usize == r)));
        assert!(rows.why.contains("ends early"), "{}", rows.why);
    }

    #[test]
    fn a_chunk_whose_crc_fails_stops_the_rows_there() {
        let mut whole = png(40, 30, 8, 0, &grey_rows(), 200);
        // The third IDAT's data: its CRC no longer matches.
        let third = 8 + 25 + 2 * 212 + 8;
        whole[third + 50] ^= 0xFF;
        let rows = read_rows(&whole, &OcrPolicy::default()).unwrap().unwrap();
        assert!(rows.rows <= 400 / 41, "only the first two IDATs: {}", rows.rows);
        assert!(rows.why.contains("CRC"), "{}", rows.why);
    }

    #[test]
    fn a_broken_header_or_interlace_gives_nothing() {
        let mut whole = png(40, 30, 8, 0, &grey_rows(), 200);
        whole[20] ^= 1;
        assert!(read_rows(&whole, &OcrPolicy::default()).unwrap().is_none(), "IHDR CRC");
        let mut interlaced = png(40, 30, 8, 0, &grey_rows(), 200);
        interlaced[28] = 1;
        let crc = crc32fast::hash(&interlaced[12..29]).to_be_bytes();
        interlaced[29..33].copy_from_slice(&crc);
        assert!(read_rows(&interlaced, &OcrPolicy::default()).unwrap().is_none(), "Adam7");
        assert!(read_rows(&whole[..20], &OcrPolicy::default()).unwrap().is_none(), "cut in the header");
    }

    /// A huge declared size over `ocr.max_pixels` is a limit before anything
    /// is allocated; under it, a few bytes give no row (and no page-sized buffer).
    #[test]
    fn a_huge_declared_size_with_a_few_bytes_allocates_nothing() {
        let huge = png(100_000, 100_000, 8, 6, &[0; 10], 200);
        let e = read_rows(&huge, &OcrPolicy::default()).err().expect("over the pixel limit");
        assert_eq!(e.kind, OcrErrorKind::Limit, "{e}");
        let big = png(10_000, 10_000, 8, 6, &[0; 10], 200);
        assert!(read_rows(&big, &OcrPolicy::default()).unwrap().is_none());
    }

    #[test]
    fn alpha_is_dropped_and_a_palette_is_read() {
        let rgba: Vec<u8> = [0u8].into_iter().chain([1, 2, 3, 255, 4, 5, 6, 0]).collect();
        let whole = png(2, 2, 8, 6, &[rgba.clone(), rgba].concat(), 200);
        // Cut in the second row (IEND, the IDAT's CRC, the Adler sum and 4 bytes of row 2).
        let rows = read_rows(&whole[..whole.len() - 24], &OcrPolicy::default()).unwrap().unwrap();
        assert_eq!(rows.samples, [1, 2, 3, 4, 5, 6]);
        let mut indexed = png(8, 2, 1, 3, &[0, 0b1000_0000, 0, 0], 200);
        let mut plte = Vec::new();
        chunk(&mut plte, b"PLTE", &[255, 255, 255, 0, 0, 0]);
        indexed.splice(33..33, plte);
        let rows = read_rows(&indexed[..indexed.len() - 22], &OcrPolicy::default()).unwrap().unwrap();
        assert_eq!(
            rows.header.raster.colour,
            Colour::Indexed { base: Box::new(Colour::Rgb), palette: vec![255, 255, 255, 0, 0, 0] }
        );
        assert_eq!(rows.rows, 1);
    }
}
