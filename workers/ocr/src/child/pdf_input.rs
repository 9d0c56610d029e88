//! Scanned PDFs: page enumeration and page-image extraction with the `pdf`
//! crate. DCT images are passed on as JPEG bytes; CCITT G3/G4 streams are
//! wrapped in a TIFF header for Leptonica; Flate streams with PNG predictors
//! are wrapped as a PNG; JBIG2 goes to `jbig2dec`; other Flate and raw
//! samples become a PNM. A page with text operators has a text layer. A
//! page with no image is rendered (`render`).

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf::content::Op;
use pdf::enc::{CCITTFaxDecodeParams, StreamFilter};
use pdf::file::{FileOptions, NoCache, NoLog};
use pdf::object::{ColorSpace, ImageXObject, Page, PagesNode, Resolve, XObject};

use super::input::{DecodedPage, Item, Sink, check_pixels, decode_single, plausible_ppi};
use super::page_tree::Leaf;
use super::pdf_error::describe;
use super::render::PageRenderer;
use super::samples::{self, Colour, Raster};
use super::text_pages::{Found, InOrder};
use super::{jbig2, jpeg, page_tree, png, repair};
use crate::{OcrError, OcrErrorKind, OcrPolicy};

/// A PDF opened from memory.
type PdfFile<'a> = pdf::file::File<&'a [u8], NoCache, NoCache, NoLog>;

/// Reads every page of a PDF and sends it on; returns the page count.
pub fn read_pdf(data: Vec<u8>, policy: &OcrPolicy, sink: &mut Sink<'_>) -> Result<u32, OcrError> {
    with_pdf(data, |file, bytes| read_pages(file, bytes, policy, sink))
}

/// The pages of a PDF's page tree (what `read_pdf` would read), decoding none.
pub fn count_pdf(data: Vec<u8>, policy: &OcrPolicy) -> Result<u32, OcrError> {
    with_pdf(data, |file, _| {
        let walked = page_tree::walk(&file.trailer.root.pages, &file.resolver(), policy)?;
        if walked.pages.is_empty() {
            return Err(no_pages(&walked));
        }
        Ok(walked.pages.len() as u32)
    })
}

fn no_pages(walked: &page_tree::Walked) -> OcrError {
    let broken = if walked.broken.is_empty() { String::new() } else { format!(": {}", walked.broken_nodes()) };
    OcrError::corrupt(format!("PDF has no pages{broken}"))
}

/// Opens a PDF (mending wrong stream lengths and a broken cross-reference
/// table) and runs `f` on it and the bytes it was opened from.
fn with_pdf<T>(
    data: Vec<u8>,
    f: impl for<'a> FnOnce(&PdfFile<'a>, &'a [u8]) -> Result<T, OcrError>,
) -> Result<T, OcrError> {
    // Stream lengths are checked first: a wrong one fails a page only after
    // earlier pages have been handed on.
    let data = match repair::fix_stream_lengths(&data) {
        Some(fixed) => {
            tracing::info!("PDF stream lengths fixed");
            fixed
        }
        None => data,
    };
    // As ocrmypdf does, an encrypted PDF is refused whole: with a user
    // password its streams decode to garbage, and OCR of that would give a
    // blank "searchable" copy and pages flagged as damaged. Checked on the
    // bytes too: a file the parser cannot load is read again with a rebuilt
    // cross-reference table, whose trailer has no /Encrypt.
    if declares_encryption(&data) {
        return Err(encrypted());
    }
    let fixed;
    let (file, bytes) = match load(&data) {
        Ok(file) => (file, data.as_slice()),
        Err(e) => {
            fixed = repair::rebuild_xref(&data).ok_or_else(|| e.clone())?;
            tracing::info!(error = %e, "PDF cross-reference table rebuilt");
            (load(&fixed).map_err(|_| e)?, fixed.as_slice())
        }
    };
    if file.trailer.encrypt_dict.is_some() {
        return Err(encrypted());
    }
    f(&file, bytes)
}

fn read_pages(file: &PdfFile<'_>, bytes: &[u8], policy: &OcrPolicy, sink: &mut Sink<'_>) -> Result<u32, OcrError> {
    let mut renderer = PageRenderer::new(bytes);
    let resolver = file.resolver();
    // The pages are those in the tree, not the number its root claims.
    let walked = page_tree::walk(&file.trailer.root.pages, &resolver, policy)?;
    if walked.pages.is_empty() {
        return Err(no_pages(&walked));
    }
    let count = walked.pages.len() as u32;
    if let Some((at, note)) = page_tree::count_note(file.num_pages(), walked.pages.len()) {
        tracing::warn!(claimed = file.num_pages(), found = count, "PDF page tree /Count disagrees with its pages");
        sink(Item::Note(at, note));
    }
    if let Some((at, note)) = walked.broken_note() {
        sink(Item::Note(at, note));
    }
    if let Some(note) = walked.repeat_note() {
        tracing::warn!(note, "PDF page tree met a node again");
        sink(Item::DocumentNote(note));
    }
    let pages = walked.pages;
    let mut order = InOrder::default();
    for (index, leaf) in (0u32..).zip(pages) {
        let found = match leaf {
            Leaf::Page(node) => {
                let PagesNode::Leaf(page) = &*node else { unreachable!("the walk keeps leaves only") };
                catch_unwind(AssertUnwindSafe(|| page_item(page, index, policy, &resolver, &mut renderer)))
                    .map_err(|_| OcrError::corrupt(format!("PDF page {}: the parser failed", index + 1)))??
            }
            // A page object that does not parse fails alone (shown as far as poppler renders it).
            Leaf::Damaged { size, why } => Found::Damaged { size, why, image: true },
        };
        if !order.take(index, found, &mut renderer, policy, sink)? {
            return Ok(count);
        }
    }
    order.finish(sink)?;
    Ok(count)
}

fn encrypted() -> OcrError {
    OcrError::new(
        OcrErrorKind::Unsupported,
        "PDF is encrypted (password-protected): not OCRed; the original is stored as it is. Ask for an unprotected copy, or remove the protection with the password and ingest that copy too",
    )
}

/// Whether the file names an `/Encrypt` dictionary (not `/EncryptMetadata`)
/// anywhere outside compressed streams: a trailer or an xref stream's
/// dictionary that says the document is encrypted.
fn declares_encryption(data: &[u8]) -> bool {
    const KEY: &[u8] = b"/Encrypt";
    data.windows(KEY.len() + 1).any(|w| w.starts_with(KEY) && !w[KEY.len()].is_ascii_alphanumeric())
}

/// Opens a PDF held in memory.
fn load(data: &[u8]) -> Result<pdf::file::File<&[u8], NoCache, NoCache, NoLog>, OcrError> {
    catch_unwind(|| FileOptions::uncached().load(data))
        .map_err(|_| OcrError::corrupt("PDF: the parser failed on this file"))?
        .map_err(|e| OcrError::corrupt(format!("PDF cannot be read: {}", describe(&e))))
}

/// The page as OCR input: its largest image, or (a page of vectors or of
/// nothing, or text that `ocr_pages_with_text` wants OCRed) a rendering;
/// or a text layer (see `text_pages`); or damaged, when its content cannot
/// be read.
fn page_item(
    page: &Page,
    index: u32,
    policy: &OcrPolicy,
    r: &impl Resolve,
    renderer: &mut PageRenderer<'_>,
) -> Result<Found, OcrError> {
    let err = |e: pdf::error::PdfError| OcrError::corrupt(format!("PDF page {}: {}", index + 1, describe(&e)));
    let ops = match page.contents.as_ref().map(|c| c.operations(r)).transpose() {
        Ok(ops) => ops.unwrap_or_default(),
        Err(e) => return Ok(Found::Damaged { size: page_size(page), why: describe(&e), image: false }),
    };
    let has_text = ops.iter().any(draws_text);
    if has_text && !policy.ocr_pages_with_text {
        return Ok(Found::Text(page_size(page)));
    }
    // A page with no `/Resources` of its own or inherited from the page
    // tree has none (PDF 32000-1, 7.7.3.3): it draws no image.
    let resources = match page.resources() {
        Ok(resources) => Some(resources),
        Err(pdf::error::PdfError::MissingEntry { .. }) => None,
        Err(e) => return Err(err(e)),
    };
    let mut best: Option<(u64, pdf::object::RcRef<XObject>)> = None;
    for op in &ops {
        let Op::XObject { name } = op else { continue };
        let Some(xref) = resources.and_then(|res| res.xobjects.get(name)) else { continue };
        let xobject = r.get(*xref).map_err(err)?;
        if let XObject::Image(img) = &*xobject {
            let pixels = u64::from(img.width) * u64::from(img.height);
            if best.as_ref().is_none_or(|(p, _)| pixels > *p) {
                best = Some((pixels, xobject.clone()));
            }
        }
    }
    let Some((_, xobject)) = best else {
        return renderer.render(index, page_size(page), policy).map(Found::Scan);
    };
    let XObject::Image(img) = &*xobject else { unreachable!("filtered above") };
    // A page over a limit is refused alone: the other pages are read.
    if let Err(limit) = check_pixels(img.width, img.height, policy, index) {
        return Ok(Found::Refused(limit));
    }
    let mut page_out = match decode_image(img, index, policy, r) {
        Ok(page) => page,
        // Image data that does not decode damages this page, not the document.
        Err(e) if e.kind == OcrErrorKind::Corrupt => {
            return Ok(Found::Damaged { size: page_size(page), why: e.message, image: true });
        }
        Err(e) if e.kind == OcrErrorKind::Limit => return Ok(Found::Refused(e)),
        Err(e) => return Err(e),
    };
    let box_height = page.media_box().map(|b| (b.top - b.bottom).abs()).unwrap_or(0.0);
    if box_height > 1.0 {
        page_out.ppi = plausible_ppi((img.height as f32 * 72.0 / box_height).round() as i32);
    }
    Ok(Found::Scan(page_out))
}

/// The page's visible size in points (crop box, else media box; US Letter
/// when neither can be read, as viewers assume).
fn page_size(page: &Page) -> (f32, f32) {
    page.crop_box().map_or((612.0, 792.0), |b| ((b.right - b.left).abs(), (b.top - b.bottom).abs()))
}

/// A filter's name without its parameters (which hold data from the file).
fn filter_name(filter: &StreamFilter) -> String {
    let debug = format!("{filter:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or_default().to_owned()
}

/// Whether an operator draws text: an empty string draws nothing, so a scan
/// page cannot dodge OCR with `() Tj`.
fn draws_text(op: &Op) -> bool {
    match op {
        Op::TextDraw { text } => !text.data.is_empty(),
        Op::TextDrawAdjusted { array } => {
            array.iter().any(|t| matches!(t, pdf::content::TextDrawAdjusted::Text(s) if !s.data.is_empty()))
        }
        _ => false,
    }
}

fn decode_image(img: &ImageXObject, index: u32, policy: &OcrPolicy, r: &impl Resolve) -> Result<DecodedPage, OcrError> {
    let err = |e: pdf::error::PdfError| OcrError::corrupt(format!("PDF page {} image: {}", index + 1, describe(&e)));
    let (raw, filter) = img.raw_image_data(r).map_err(err)?;
    let encoded = match filter {
        Some(StreamFilter::DCTDecode(_)) => return jpeg::page(raw.to_vec(), policy, index),
        Some(StreamFilter::JPXDecode) => raw.to_vec(),
        Some(StreamFilter::CCITTFaxDecode(p)) => ccitt_tiff(&raw, p, img),
        Some(StreamFilter::JBIG2Decode(p)) => {
            let globals = p.globals.as_ref().map(|g| g.data(r)).transpose().map_err(err)?;
            jbig2::decode_to_pbm(&raw, globals.as_deref().unwrap_or_default(), index)?
        }
        Some(StreamFilter::FlateDecode(p)) => {
            let raster = raster_of(img, index)?;
            if png::is_png_predicted(p, &raster) {
                // The stream already holds PNG rows: a PNG around it is the page's original.
                if let Some(page) = png::wrap(&raw, &raster).and_then(|png| decode_single(png, policy, index).ok()) {
                    return Ok(page);
                }
            }
            // Otherwise (or when libpng refuses it) the samples are decoded here, which reports what is wrong.
            return samples_page(&samples::flate_samples(&raw, p, &raster, index)?, &raster, policy, index);
        }
        None => return samples_page(&raw, &raster_of(img, index)?, policy, index),
        Some(other) => {
            return Err(OcrError::new(
                OcrErrorKind::Unsupported,
                format!("PDF page {}: image filter {}", index + 1, filter_name(other)),
            ));
        }
    };
    decode_single(encoded, policy, index)
}

/// A page of decoded samples. Samples that end early (damaged image data)
/// give the rows they hold, white below, and the page is flagged for review.
fn samples_page(samples: &[u8], raster: &Raster, policy: &OcrPolicy, index: u32) -> Result<DecodedPage, OcrError> {
    let (pnm, rows) = samples::to_pnm_padded(samples, raster, index)?;
    let mut page = decode_single(pnm, policy, index)?;
    if rows < raster.height {
        tracing::warn!(page = index + 1, rows, height = raster.height, "PDF page image data ends early");
        page.damage = Some(format!(
            "PDF page {}: the page image is damaged: its data ends after {rows} of {} rows; the rest is left white",
            index + 1,
            raster.height
        ));
    }
    Ok(page)
}

/// What an image's samples are: size, depth, colour model and decode array.
fn raster_of(img: &ImageXObject, index: u32) -> Result<Raster, OcrError> {
    let (colour, bpc) = if img.image_mask {
        (Colour::Gray, 1)
    } else {
        let colour = colour_of(img.color_space.as_ref()).ok_or_else(|| {
            OcrError::new(
                OcrErrorKind::Unsupported,
                format!("PDF page {}: image colour space {}", index + 1, colour_space_name(img.color_space.as_ref())),
            )
        })?;
        (colour, img.bits_per_component.unwrap_or(8))
    };
    let bpc = u32::try_from(bpc)
        .ok()
        .filter(|b| matches!(b, 1 | 2 | 4 | 8 | 16))
        .ok_or_else(|| OcrError::corrupt(format!("PDF page {}: {bpc} bits per component", index + 1)))?;
    let identity = |d: &[f32]| {
        let max = if matches!(colour, Colour::Indexed { .. }) { ((1u32 << bpc) - 1) as f32 } else { 1.0 };
        d.chunks(2).all(|pair| pair == [0.0, max])
    };
    let decode = img.decode.clone().filter(|d| !identity(d));
    Ok(Raster { width: img.width, height: img.height, bpc, colour, decode })
}

/// A colour space's kind, without its tables (an Indexed lookup is file data).
fn colour_space_name(cs: Option<&ColorSpace>) -> String {
    cs.map_or_else(
        || "none".to_owned(),
        |cs| format!("{cs:?}").split(['(', ' ', '{']).next().unwrap_or_default().to_owned(),
    )
}

/// The colour model of a colour space, if it is one we decode.
fn colour_of(cs: Option<&ColorSpace>) -> Option<Colour> {
    match cs? {
        ColorSpace::DeviceGray | ColorSpace::CalGray(_) => Some(Colour::Gray),
        ColorSpace::DeviceRGB | ColorSpace::CalRGB(_) => Some(Colour::Rgb),
        ColorSpace::DeviceCMYK | ColorSpace::CalCMYK(_) => Some(Colour::Cmyk),
        ColorSpace::Icc(icc) => match icc.info.components {
            1 => Some(Colour::Gray),
            3 => Some(Colour::Rgb),
            4 => Some(Colour::Cmyk),
            _ => None,
        },
        ColorSpace::Indexed(base, _hival, lookup) => {
            let base = colour_of(Some(base)).filter(|b| !matches!(b, Colour::Indexed { .. }))?;
            Some(Colour::Indexed { base: Box::new(base), palette: lookup.to_vec() })
        }
        _ => None,
    }
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
