//! Scanned PDFs: page enumeration and page-image extraction with the `pdf`
//! crate. DCT images are passed on as JPEG bytes; CCITT G3/G4 streams are
//! wrapped in a TIFF header for Leptonica; Flate streams with PNG predictors
//! are wrapped as a PNG; JBIG2 goes to `jbig2dec`; other Flate and raw
//! samples become a PNM. A page with text operators has a text layer.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf::content::Op;
use pdf::enc::{CCITTFaxDecodeParams, LZWFlateParams, StreamFilter};
use pdf::file::FileOptions;
use pdf::object::{ColorSpace, ImageXObject, Page, Resolve, XObject};

use super::input::{DecodedPage, Item, Sink, check_pixels, decode_single, plausible_ppi};
use super::{jbig2, png};
use crate::{OcrError, OcrErrorKind, OcrPolicy};

/// Reads every page of a PDF and sends it on; returns the page count.
pub fn read_pdf(data: Vec<u8>, policy: &OcrPolicy, sink: &mut Sink<'_>) -> Result<u32, OcrError> {
    let file = catch_unwind(|| FileOptions::uncached().load(data))
        .map_err(|_| OcrError::corrupt("PDF: the parser failed on this file"))?
        .map_err(|e| OcrError::corrupt(format!("PDF: {e}")))?;
    let resolver = file.resolver();
    let count = file.num_pages();
    if count == 0 {
        return Err(OcrError::corrupt("PDF has no pages"));
    }
    if count > policy.max_pages {
        return Err(OcrError::limit(format!("PDF has {count} pages, over the limit of {}", policy.max_pages)));
    }
    let mut seq = 0;
    for index in 0..count {
        let item = catch_unwind(AssertUnwindSafe(|| {
            let page = file.get_page(index).map_err(|e| OcrError::corrupt(format!("PDF page {}: {e}", index + 1)))?;
            page_item(&page, index, seq, policy, &resolver)
        }))
        .map_err(|_| OcrError::corrupt(format!("PDF page {}: the parser failed", index + 1)))??;
        if matches!(item, Item::Page(_)) {
            seq += 1;
        }
        if !sink(item) {
            break;
        }
    }
    Ok(count)
}

fn page_item(page: &Page, index: u32, seq: u32, policy: &OcrPolicy, r: &impl Resolve) -> Result<Item, OcrError> {
    let err = |e: pdf::error::PdfError| OcrError::corrupt(format!("PDF page {}: {e}", index + 1));
    let ops = match &page.contents {
        Some(c) => c.operations(r).map_err(err)?,
        None => Vec::new(),
    };
    let has_text = ops.iter().any(|op| matches!(op, Op::TextDraw { .. } | Op::TextDrawAdjusted { .. }));
    if has_text && !policy.ocr_pages_with_text {
        return Ok(Item::TextLayer(index));
    }
    let resources = page.resources().map_err(err)?;
    let mut best: Option<(u64, pdf::object::RcRef<XObject>)> = None;
    for op in &ops {
        let Op::XObject { name } = op else { continue };
        let Some(xref) = resources.xobjects.get(name) else { continue };
        let xobject = r.get(*xref).map_err(err)?;
        if let XObject::Image(img) = &*xobject {
            let pixels = u64::from(img.width) * u64::from(img.height);
            if best.as_ref().is_none_or(|(p, _)| pixels > *p) {
                best = Some((pixels, xobject.clone()));
            }
        }
    }
    let Some((_, xobject)) = best else {
        if has_text {
            return Ok(Item::TextLayer(index));
        }
        return Err(OcrError::new(
            OcrErrorKind::Unsupported,
            format!("PDF page {} has no image to OCR and no text layer", index + 1),
        ));
    };
    let XObject::Image(img) = &*xobject else { unreachable!("filtered above") };
    check_pixels(img.width, img.height, policy, index)?;
    let mut page_out = decode_image(img, index, policy, r)?;
    page_out.seq = seq;
    let box_height = page.media_box().map(|b| (b.top - b.bottom).abs()).unwrap_or(0.0);
    if box_height > 1.0 {
        page_out.ppi = plausible_ppi((img.height as f32 * 72.0 / box_height).round() as i32);
    }
    Ok(Item::Page(page_out))
}

fn decode_image(img: &ImageXObject, index: u32, policy: &OcrPolicy, r: &impl Resolve) -> Result<DecodedPage, OcrError> {
    let err = |e: pdf::error::PdfError| OcrError::corrupt(format!("PDF page {} image: {e}", index + 1));
    let (raw, filter) = img.raw_image_data(r).map_err(err)?;
    let encoded = match filter {
        Some(StreamFilter::DCTDecode(_)) | Some(StreamFilter::JPXDecode) => raw.to_vec(),
        Some(StreamFilter::CCITTFaxDecode(p)) => ccitt_tiff(&raw, p, img),
        Some(StreamFilter::JBIG2Decode(p)) => {
            let globals = p.globals.as_ref().map(|g| g.data(r)).transpose().map_err(err)?;
            jbig2::decode_to_pbm(&raw, globals.as_deref().unwrap_or_default(), index)?
        }
        Some(StreamFilter::FlateDecode(p)) => match png_page(&raw, p, img, policy, index) {
            Some(page) => return Ok(page),
            None => pnm(&img.image_data(r).map_err(err)?, img, index)?,
        },
        None => {
            let samples = img.image_data(r).map_err(err)?;
            pnm(&samples, img, index)?
        }
        Some(other) => {
            return Err(OcrError::new(
                OcrErrorKind::Unsupported,
                format!("PDF page {}: image filter {other:?}", index + 1),
            ));
        }
    };
    decode_single(encoded, policy, index)
}

/// A Flate image whose stream already holds PNG rows, decoded from a PNG
/// around that stream (kept as the page's original); None to decode it as samples.
fn png_page(raw: &[u8], p: &LZWFlateParams, img: &ImageXObject, policy: &OcrPolicy, index: u32) -> Option<DecodedPage> {
    let identity_decode = img.decode.as_deref().is_none_or(|d| d.chunks(2).all(|pair| pair == [0.0, 1.0]));
    if img.image_mask || img.bits_per_component != Some(8) || !identity_decode {
        return None;
    }
    let layout =
        png::Layout { width: img.width, height: img.height, components: components(img.color_space.as_ref())? };
    if !png::is_png_predicted(p, layout) {
        return None;
    }
    // A stream that libpng refuses is decoded again the long way, which reports what is wrong.
    decode_single(png::wrap(raw, layout)?, policy, index).ok()
}

/// Number of colour components of an image colour space, if it is one we turn into a PNM.
fn components(cs: Option<&ColorSpace>) -> Option<u32> {
    match cs? {
        ColorSpace::DeviceGray | ColorSpace::CalGray(_) => Some(1),
        ColorSpace::DeviceRGB | ColorSpace::CalRGB(_) => Some(3),
        ColorSpace::Icc(icc) => match icc.info.components {
            n @ (1 | 3) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

/// Wraps decoded samples (1 bpc grey, 8 bpc grey or RGB) as PBM/PGM/PPM.
fn pnm(samples: &[u8], img: &ImageXObject, index: u32) -> Result<Vec<u8>, OcrError> {
    let (w, h) = (img.width as usize, img.height as usize);
    let bpc = img.bits_per_component.unwrap_or(if img.image_mask { 1 } else { 8 });
    let comps = if img.image_mask { Some(1) } else { components(img.color_space.as_ref()) };
    let unsupported = || {
        OcrError::new(
            OcrErrorKind::Unsupported,
            format!("PDF page {}: image colour space {:?} at {bpc} bits", index + 1, img.color_space),
        )
    };
    let comps = comps.ok_or_else(unsupported)? as usize;
    let (magic, row_bytes) = match (bpc, comps) {
        (1, 1) => ("P4", w.div_ceil(8)),
        (8, 1) => ("P5", w),
        (8, 3) => ("P6", w * 3),
        _ => return Err(unsupported()),
    };
    let need = row_bytes * h;
    if samples.len() < need {
        return Err(OcrError::corrupt(format!("PDF page {}: image data is shorter than its size", index + 1)));
    }
    let header = if magic == "P4" { format!("{magic}\n{w} {h}\n") } else { format!("{magic}\n{w} {h}\n255\n") };
    let mut out = Vec::with_capacity(header.len() + need);
    out.extend_from_slice(header.as_bytes());
    if magic == "P4" {
        // PDF grey and (default) image masks paint 0 as black; PBM paints 1.
        // image_data has already applied a Decode [1 0] inversion.
        out.extend(samples[..need].iter().map(|b| !b));
    } else {
        out.extend_from_slice(&samples[..need]);
    }
    Ok(out)
}

/// A little-endian TIFF around a CCITT stream, so Leptonica (libtiff) decodes it.
fn ccitt_tiff(data: &[u8], p: &CCITTFaxDecodeParams, img: &ImageXObject) -> Vec<u8> {
    let rows = if p.rows > 0 { p.rows } else { img.height };
    let inverted = img.decode.as_deref() == Some(&[1.0, 0.0][..]);
    // Black runs show black when BlackIs1 is false (unless Decode inverts): TIFF WhiteIsZero.
    let photometric = u32::from(p.black_is_1 != inverted);
    let (compression, opt_tag, options) =
        if p.k < 0 { (4, 293, 0) } else { (3, 292, u32::from(p.k > 0) | if p.encoded_byte_align { 4 } else { 0 }) };
    let entries: [(u16, u16, u32); 11] = [
        (256, 4, p.columns),
        (257, 4, rows),
        (258, 3, 1),
        (259, 3, compression),
        (262, 3, photometric),
        (273, 4, 0), // strip offset, patched below
        (277, 3, 1),
        (278, 4, rows),
        (279, 4, data.len() as u32),
        (opt_tag, 4, options),
        (296, 3, 2),
    ];
    let ifd_len = 2 + entries.len() * 12 + 4;
    let data_offset = (8 + ifd_len) as u32;
    let mut out = Vec::with_capacity(8 + ifd_len + data.len());
    out.extend_from_slice(b"II*\0");
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        let value = if tag == 273 { data_offset } else { value };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        if kind == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(data);
    out
}
