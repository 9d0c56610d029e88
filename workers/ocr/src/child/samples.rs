//! PDF image samples (any bit depth; grey, RGB, CMYK or indexed; with or
//! without a Flate PNG/TIFF predictor) turned into a PNM that Leptonica reads.
//! The `pdf` crate's own Flate predictor assumes 8 bits per component, which
//! fails on img2pdf's 1-bit palette pages; this module does not rely on it.

use std::io::Read;

use pdf::enc::LZWFlateParams;

use crate::{OcrError, OcrErrorKind};

/// The colour model of an image's samples.
#[derive(Debug, Clone, PartialEq)]
pub enum Colour {
    Gray,
    Rgb,
    Cmyk,
    /// Samples are indexes into `palette`, whose entries have `base` components.
    Indexed {
        base: Box<Colour>,
        palette: Vec<u8>,
    },
}

impl Colour {
    /// Components per sample.
    pub fn components(&self) -> usize {
        match self {
            Self::Gray | Self::Indexed { .. } => 1,
            Self::Rgb => 3,
            Self::Cmyk => 4,
        }
    }
}

/// What a page image's samples are.
#[derive(Debug, Clone)]
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub bpc: u32,
    pub colour: Colour,
    /// The `/Decode` array, when it is not the identity.
    pub decode: Option<Vec<f32>>,
}

impl Raster {
    /// Bytes per row of packed samples.
    pub fn row_bytes(&self) -> usize {
        (self.width as usize * self.colour.components() * self.bpc as usize).div_ceil(8)
    }

    /// Bytes per complete pixel, at least 1 (the PNG filter distance).
    pub fn pixel_bytes(&self) -> usize {
        (self.colour.components() * self.bpc as usize).div_ceil(8).max(1)
    }

    fn samples_len(&self) -> usize {
        self.row_bytes() * self.height as usize
    }
}

fn unsupported(index: u32, what: String) -> OcrError {
    OcrError::new(OcrErrorKind::Unsupported, format!("PDF page {}: {what}", index + 1))
}

fn corrupt(index: u32, what: &str) -> OcrError {
    OcrError::corrupt(format!("PDF page {}: {what}", index + 1))
}

/// Inflates a zlib (or raw deflate) stream, reading at most `limit` bytes of output.
/// A stream cut short or damaged part way gives what it holds up to there;
/// the size check later says whether it is enough.
pub fn inflate(data: &[u8], limit: usize, index: u32) -> Result<Vec<u8>, OcrError> {
    let mut zlib = Vec::new();
    if flate2::read::ZlibDecoder::new(data).take(limit as u64).read_to_end(&mut zlib).is_ok() && !zlib.is_empty() {
        return Ok(zlib);
    }
    let mut raw = Vec::new();
    let deflate = flate2::read::DeflateDecoder::new(data).take(limit as u64).read_to_end(&mut raw);
    match deflate {
        _ if zlib.len() > raw.len() => Ok(zlib),
        Ok(_) => Ok(raw),
        Err(_) if !raw.is_empty() => Ok(raw),
        Err(e) => Err(corrupt(index, &format!("image data does not inflate: {e}"))),
    }
}

/// Decodes a Flate stream with its predictor into packed samples.
pub fn flate_samples(raw: &[u8], p: &LZWFlateParams, r: &Raster, index: u32) -> Result<Vec<u8>, OcrError> {
    let png = p.predictor >= 10;
    let limit = r.samples_len() + if png { r.height as usize } else { 0 } + 16;
    let data = inflate(raw, limit, index)?;
    match p.predictor {
        10..=15 => unpredict_png(&data, r, index),
        2 => unpredict_tiff(data, r, index),
        0 | 1 => Ok(data),
        n => Err(unsupported(index, format!("Flate predictor {n}"))),
    }
}

/// Undoes PNG row filters (each row has its own filter type byte). Data
/// that ends early, or a row with a bad filter type, gives the complete
/// rows before it; none at all is an error.
pub fn unpredict_png(data: &[u8], r: &Raster, index: u32) -> Result<Vec<u8>, OcrError> {
    let (stride, bpp) = (r.row_bytes(), r.pixel_bytes());
    let rows = (data.len() / (stride + 1)).min(r.height as usize);
    if rows == 0 {
        return Err(corrupt(index, "image data is shorter than its size"));
    }
    let mut out = vec![0u8; rows * stride];
    for row in 0..rows {
        let input = &data[row * (stride + 1)..(row + 1) * (stride + 1)];
        let (done, rest) = out.split_at_mut(row * stride);
        let prev = if row == 0 { None } else { Some(&done[(row - 1) * stride..]) };
        let cur = &mut rest[..stride];
        cur.copy_from_slice(&input[1..]);
        if unfilter_row(input[0], bpp, prev, cur).is_none() {
            if row == 0 {
                return Err(corrupt(index, "bad PNG row filter type"));
            }
            out.truncate(row * stride);
            break;
        }
    }
    Ok(out)
}

/// Undoes one row's PNG filter in place (`bpp`: bytes per pixel, at least
/// 1); `None` for an unknown filter type.
pub fn unfilter_row(filter: u8, bpp: usize, prev: Option<&[u8]>, cur: &mut [u8]) -> Option<()> {
    let up = |i: usize| prev.map_or(0, |p| p[i]);
    match filter {
        0 => {}
        1 => (bpp..cur.len()).for_each(|i| cur[i] = cur[i].wrapping_add(cur[i - bpp])),
        2 => (0..cur.len()).for_each(|i| cur[i] = cur[i].wrapping_add(up(i))),
        3 => (0..cur.len()).for_each(|i| {
            let left = if i >= bpp { cur[i - bpp] } else { 0 };
            cur[i] = cur[i].wrapping_add(((u16::from(left) + u16::from(up(i))) / 2) as u8);
        }),
        4 => (0..cur.len()).for_each(|i| {
            let (a, c) = if i >= bpp { (cur[i - bpp], up(i - bpp)) } else { (0, 0) };
            cur[i] = cur[i].wrapping_add(paeth(a, up(i), c));
        }),
        _ => return None,
    }
    Some(())
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Undoes the TIFF horizontal predictor (8-bit components only).
fn unpredict_tiff(mut data: Vec<u8>, r: &Raster, index: u32) -> Result<Vec<u8>, OcrError> {
    if r.bpc != 8 {
        return Err(unsupported(index, format!("TIFF predictor at {} bits", r.bpc)));
    }
    let (stride, comps) = (r.row_bytes(), r.colour.components());
    for row in data.chunks_mut(stride) {
        for i in comps..row.len() {
            row[i] = row[i].wrapping_add(row[i - comps]);
        }
    }
    Ok(data)
}

/// Reads sample `i` of a packed row as a value 0..=255.
fn sample(row: &[u8], i: usize, bpc: u32) -> u8 {
    match bpc {
        8 => row[i],
        16 => row[2 * i],
        _ => {
            let bit = i * bpc as usize;
            let byte = row[bit / 8];
            let shift = 8 - bpc as usize - bit % 8;
            let v = (byte >> shift) & ((1u8 << bpc) - 1);
            // Scale to 0..=255.
            (u32::from(v) * 255 / ((1u32 << bpc) - 1)) as u8
        }
    }
}

/// Reads the raw index (not scaled) of sample `i` for an indexed image.
fn index_at(row: &[u8], i: usize, bpc: u32) -> usize {
    match bpc {
        8 => row[i] as usize,
        16 => row[2 * i] as usize,
        _ => {
            let bit = i * bpc as usize;
            ((row[bit / 8] >> (8 - bpc as usize - bit % 8)) & ((1u8 << bpc) - 1)) as usize
        }
    }
}

/// Turns packed samples into a PBM (1-bit grey), PGM (grey) or PPM (colour).
pub fn to_pnm(samples: &[u8], r: &Raster, index: u32) -> Result<Vec<u8>, OcrError> {
    if !matches!(r.bpc, 1 | 2 | 4 | 8 | 16) {
        return Err(unsupported(index, format!("{} bits per component", r.bpc)));
    }
    if matches!(r.colour, Colour::Indexed { .. }) && r.bpc == 16 {
        return Err(corrupt(index, "an indexed image cannot have 16 bits per component"));
    }
    if samples.len() < r.samples_len() {
        return Err(corrupt(index, "image data is shorter than its size"));
    }
    let h = r.height as usize;
    let stride = r.row_bytes();
    let inverted = decode_inverts(r);
    let mut out = pnm_header(r, r.height);
    if bilevel(r) {
        // PDF grey paints 0 black; PBM paints 1 black.
        out.extend(samples[..stride * h].iter().map(|b| if inverted { *b } else { !*b }));
        return Ok(out);
    }
    let comps = out_components(r);
    out.reserve(r.width as usize * h * comps);
    let mut px = [0u8; 4];
    for row in samples.chunks(stride).take(h) {
        for x in 0..r.width as usize {
            let rgb = pixel(row, x, r, inverted, &mut px);
            out.extend_from_slice(&rgb[..comps]);
        }
    }
    Ok(out)
}

/// Like [`to_pnm`], for samples that may end early (damaged image data):
/// the complete rows, then white to the image's height. Returns the PNM and
/// the number of rows the samples held; none at all is an error.
pub fn to_pnm_padded(samples: &[u8], r: &Raster, index: u32) -> Result<(Vec<u8>, u32), OcrError> {
    let rows = (samples.len() / r.row_bytes().max(1)).min(r.height as usize) as u32;
    if rows == r.height || rows == 0 {
        return to_pnm(samples, r, index).map(|pnm| (pnm, r.height));
    }
    let part = to_pnm(samples, &Raster { height: rows, ..r.clone() }, index)?;
    let body = &part[pnm_header(r, rows).len()..];
    let mut out = pnm_header(r, r.height);
    out.extend_from_slice(body);
    // PBM paints 0 white; PGM and PPM paint 255 white.
    let (row_len, white) =
        if bilevel(r) { (r.row_bytes(), 0x00) } else { (r.width as usize * out_components(r), 0xFF) };
    out.resize(out.len() + row_len * (r.height - rows) as usize, white);
    Ok((out, rows))
}

/// A 1-bit grey image, written as a PBM.
fn bilevel(r: &Raster) -> bool {
    r.colour == Colour::Gray && r.bpc == 1
}

/// Components per pixel of the PGM (1) or PPM (3) written for `r`.
fn out_components(r: &Raster) -> usize {
    match &r.colour {
        Colour::Gray => 1,
        Colour::Indexed { base, .. } if **base == Colour::Gray => 1,
        _ => 3,
    }
}

/// The PNM header for `r` at `height` rows.
fn pnm_header(r: &Raster, height: u32) -> Vec<u8> {
    let w = r.width;
    match (bilevel(r), out_components(r)) {
        (true, _) => format!("P4\n{w} {height}\n"),
        (false, 1) => format!("P5\n{w} {height}\n255\n"),
        _ => format!("P6\n{w} {height}\n255\n"),
    }
    .into_bytes()
}

/// True for a `/Decode` array that swaps each component's range ([1 0 ...]).
fn decode_inverts(r: &Raster) -> bool {
    r.decode.as_deref().is_some_and(|d| d.len() >= 2 && d[0] > d[1])
}

/// One pixel as grey (first byte) or RGB.
fn pixel(row: &[u8], x: usize, r: &Raster, inverted: bool, px: &mut [u8; 4]) -> [u8; 3] {
    let comps = r.colour.components();
    let (colour, values): (&Colour, &[u8]) = match &r.colour {
        Colour::Indexed { base, palette } => {
            let n = base.components();
            let at = index_at(row, x, r.bpc) * n;
            for (c, v) in px.iter_mut().take(n).enumerate() {
                *v = palette.get(at + c).copied().unwrap_or(0);
            }
            (base, &px[..n])
        }
        colour => {
            for (c, v) in px.iter_mut().take(comps).enumerate() {
                let s = sample(row, x * comps + c, r.bpc);
                *v = if inverted { 255 - s } else { s };
            }
            (colour, &px[..comps])
        }
    };
    match colour {
        Colour::Rgb => [values[0], values[1], values[2]],
        Colour::Cmyk => {
            let k = 255 - u16::from(values[3]);
            let ch = |c: u8| ((255 - u16::from(c)) * k / 255) as u8;
            [ch(values[0]), ch(values[1]), ch(values[2])]
        }
        _ => [values[0]; 3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raster(width: u32, height: u32, bpc: u32, colour: Colour) -> Raster {
        Raster { width, height, bpc, colour, decode: None }
    }

    #[test]
    fn png_filters_of_every_type_are_undone_at_one_bit() {
        // 10 pixels at 1 bit = 2 bytes per row; rows use filters None, Sub, Up, Average, Paeth.
        let r = raster(10, 5, 1, Colour::Gray);
        let rows: [[u8; 2]; 5] = [[0b1010_1010, 0b1100_0000], [1, 2], [3, 4], [5, 6], [7, 8]];
        let mut encoded = Vec::new();
        let mut prev = [0u8; 2];
        for (filter, row) in rows.iter().enumerate() {
            encoded.push(filter as u8);
            for i in 0..2 {
                let left = if i >= 1 { row[i - 1] } else { 0 };
                let upleft = if i >= 1 { prev[i - 1] } else { 0 };
                let predicted = match filter {
                    0 => 0,
                    1 => left,
                    2 => prev[i],
                    3 => ((u16::from(left) + u16::from(prev[i])) / 2) as u8,
                    _ => paeth(left, prev[i], upleft),
                };
                encoded.push(row[i].wrapping_sub(predicted));
            }
            prev = *row;
        }
        let out = unpredict_png(&encoded, &r, 0).unwrap();
        assert_eq!(out, rows.concat());
    }

    #[test]
    fn bad_filter_type_and_short_data_are_corrupt() {
        let r = raster(8, 2, 8, Colour::Gray);
        assert_eq!(unpredict_png(&[255; 18], &r, 0).unwrap_err().kind, OcrErrorKind::Corrupt);
        assert_eq!(unpredict_png(&[0; 8], &r, 0).unwrap_err().kind, OcrErrorKind::Corrupt);
    }

    #[test]
    fn data_that_ends_early_gives_its_complete_rows() {
        let r = raster(8, 3, 8, Colour::Gray);
        assert_eq!(unpredict_png(&[0; 10], &r, 0).unwrap().len(), 8, "one complete row of two");
        let bad_second = [[0u8; 9].as_slice(), &[9; 9], &[0; 9]].concat();
        assert_eq!(unpredict_png(&bad_second, &r, 0).unwrap().len(), 8, "rows before a bad filter type");
    }

    #[test]
    fn a_short_image_is_padded_with_white() {
        let (pnm, rows) = to_pnm_padded(&[0x10; 8], &raster(8, 3, 8, Colour::Gray), 0).unwrap();
        assert_eq!(rows, 1);
        let header = b"P5\n8 3\n255\n";
        assert_eq!(&pnm[..header.len()], header);
        assert_eq!(&pnm[header.len()..], [[0x10; 8], [0xFF; 8], [0xFF; 8]].concat());
        let (pbm, rows) = to_pnm_padded(&[0x00], &raster(8, 2, 1, Colour::Gray), 0).unwrap();
        assert_eq!((pbm.as_slice(), rows), (b"P4\n8 2\n\xff\x00".as_slice(), 1), "black row, then white");
        assert!(to_pnm_padded(&[], &raster(8, 2, 1, Colour::Gray), 0).is_err());
    }

    #[test]
    fn a_cut_zlib_stream_gives_what_it_holds() {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::none());
        enc.write_all(&[7u8; 3000]).unwrap();
        let whole = enc.finish().unwrap();
        let part = inflate(&whole[..whole.len() / 2], 10_000, 0).unwrap();
        assert!(!part.is_empty() && part.len() < 3000 && part.iter().all(|b| *b == 7), "{}", part.len());
    }

    #[test]
    fn one_bit_palette_maps_through_its_lookup() {
        // Index 0 is white and 1 black, as img2pdf writes a 1-bit palette PNG.
        let r = raster(8, 1, 1, Colour::Indexed { base: Box::new(Colour::Rgb), palette: vec![255, 255, 255, 0, 0, 0] });
        let pnm = to_pnm(&[0b1000_0001], &r, 0).unwrap();
        let header = b"P6\n8 1\n255\n";
        assert_eq!(&pnm[..header.len()], header);
        let px: Vec<u8> = pnm[header.len()..].chunks(3).map(|c| c[0]).collect();
        assert_eq!(px, [0, 255, 255, 255, 255, 255, 255, 0]);
    }

    #[test]
    fn sixteen_bit_grey_and_cmyk_become_eight_bit() {
        let pnm = to_pnm(&[0x12, 0x34, 0xff, 0xff], &raster(2, 1, 16, Colour::Gray), 0).unwrap();
        assert!(pnm.ends_with(&[0x12, 0xff]));
        let pnm = to_pnm(&[0, 0, 0, 255, 0, 0, 0, 0], &raster(2, 1, 8, Colour::Cmyk), 0).unwrap();
        assert!(pnm.ends_with(&[0, 0, 0, 255, 255, 255]), "full black, then white");
    }

    #[test]
    fn a_bomb_is_cut_at_the_limit() {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 50 << 20]).unwrap();
        let bomb = enc.finish().unwrap();
        assert_eq!(inflate(&bomb, 1000, 0).unwrap().len(), 1000);
    }
}
