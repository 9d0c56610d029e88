//! Reading a document into decoded pages, in order, with limits checked on
//! headers before any pixels are decoded.

use std::path::Path;

use super::ffi::Pix;
use super::pdf_input;
use super::tiff::{self, TiffPage};
use super::tiff_errors::{self, Caught};
use crate::{OcrError, OcrPolicy, memory_cap};

/// Resolution assumed when an image does not record a plausible one.
pub const DEFAULT_PPI: i32 = 300;

/// A page ready for recognition.
pub struct DecodedPage {
    /// Zero-based page index in the document.
    pub index: u32,
    /// Position among the pages that are OCRed (the render order).
    pub seq: u32,
    pub pix: Pix,
    /// The page image as the input encodes it, embedded as-is in the searchable PDF when the page is not turned.
    pub original: Option<Original>,
    pub ppi: i32,
    /// The PDF page has a text layer of its own (rendered only to keep it in the outputs).
    pub text_layer: bool,
    /// Why the page could not be read as it is: it is flagged for review.
    pub damage: Option<String>,
}

/// An encoded page image in a format the PDF renderer embeds without re-encoding
/// (JPEG, and PNG other than 1 bit) or that stands for the lossless original (G3/G4 TIFF).
pub struct Original {
    pub format: Format,
    pub bytes: Vec<u8>,
}

impl Original {
    /// True when Tesseract's PDF renderer can embed these bytes as they are:
    /// not a CMYK JPEG, nor a 16-bit PNG.
    pub fn embeddable(&self) -> bool {
        match self.format {
            Format::Jpeg => matches!(jpeg_components(&self.bytes), Some(1 | 3)),
            Format::Png => self.bytes.get(24).is_some_and(|depth| *depth <= 8),
            Format::Tiff => true,
        }
    }
}

/// The number of colour components in a JPEG's frame header.
fn jpeg_components(data: &[u8]) -> Option<u8> {
    let mut at = 2;
    while at + 4 <= data.len() {
        if data[at] != 0xFF {
            return None;
        }
        let marker = data[at + 1];
        let len = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        // SOF0-SOF15, less DHT (C4), JPG (C8) and DAC (CC): length, precision, height, width, components.
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return data.get(at + 9).copied();
        }
        at += 2 + len;
    }
    None
}

/// The formats of [`Original`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Tiff,
}

impl Format {
    /// The format of an encoded image, from its magic bytes.
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if data.starts_with(b"II*\0") || data.starts_with(b"MM\0*") {
            Some(Self::Tiff)
        } else {
            None
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Tiff => "tif",
        }
    }
}

/// What the reader hands on, in page order.
pub enum Item {
    Page(DecodedPage),
    /// A PDF page with a text layer that is not OCRed.
    TextLayer(u32),
    /// Something about the document to flag for review on page `.0`
    /// (whatever else the page gives), such as a page tree `/Count` that
    /// disagrees with the pages found.
    Note(u32, String),
    /// Something about the document to record with its outputs that is not
    /// a reason to review a page (no page is lost or misread).
    DocumentNote(String),
}

/// The page sink: returns false when the run is aborting.
pub type Sink<'a> = dyn FnMut(Item) -> bool + 'a;

/// Reads `input` and sends each page to `sink`; returns the page count.
pub fn read_document(input: &Path, media_type: &str, policy: &OcrPolicy, sink: &mut Sink<'_>) -> Result<u32, OcrError> {
    let data = std::fs::read(input).map_err(|e| OcrError::io("cannot read the input", e))?;
    let head = &data[..data.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") || media_type == "application/pdf" {
        return pdf_input::read_pdf(data, policy, sink);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        return read_tiff(&data, policy, sink);
    }
    if !media_type.starts_with("image/") && !media_type.is_empty() && media_type != "application/octet-stream" {
        return Err(OcrError::new(crate::OcrErrorKind::Unsupported, format!("cannot OCR media type {media_type}")));
    }
    // A JPEG or PNG cut short is read as far as it decodes, as inside a PDF.
    let page = match Format::sniff(&data) {
        Some(Format::Jpeg) => super::jpeg::image(data, policy)?,
        Some(Format::Png) => super::png_file::image(data, policy)?,
        _ => decode_single(data, policy, 0)?,
    };
    sink(Item::Page(page));
    Ok(1)
}

/// The pages `read_document` would read, decoding none: a PDF's page tree
/// walked, a TIFF's IFD chain, 1 for any other image. For `--pages` when
/// OCR is off or skipped.
pub fn count_pages(input: &Path, media_type: &str, policy: &OcrPolicy) -> Result<u32, OcrError> {
    let data = std::fs::read(input).map_err(|e| OcrError::io("cannot read the input", e))?;
    let head = &data[..data.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") || media_type == "application/pdf" {
        return pdf_input::count_pdf(data, policy);
    }
    if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        let pages = tiff::pages(&data, policy.max_pages)?.pages.len();
        return Ok(u32::try_from(pages).unwrap_or(u32::MAX));
    }
    Ok(1)
}

/// Fails when a `width` x `height` page is over the pixel limit, or when
/// recognising it would need more memory than the OCR child may use (by
/// [`memory_cap::page_memory`]): checked on headers, before any pixel is
/// decoded, so an image bomb under `ocr.max_pixels` is refused cheaply.
pub fn check_pixels(width: u32, height: u32, policy: &OcrPolicy, index: u32) -> Result<(), OcrError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > policy.max_pixels {
        return Err(OcrError::limit(format!(
            "page {} is {width}x{height} = {pixels} pixels, over the OCR pixel limit ocr.max_pixels = {}",
            index + 1,
            policy.max_pixels
        )));
    }
    // The depth is not known before decoding: colour, the most, is assumed.
    let estimate = memory_cap::page_memory(width, height, None);
    if estimate > policy.max_memory {
        return Err(OcrError::limit(format!(
            "page {} is {width}x{height} = {pixels} pixels: recognising it needs about {} by the estimate ({} bytes a pixel), over the OCR memory limit ocr.max_memory = {}; it was not decoded",
            index + 1,
            memory_cap::human(estimate),
            memory_cap::COLOUR_BYTES_PER_PIXEL,
            memory_cap::human(policy.max_memory)
        )));
    }
    Ok(())
}

/// Checks the header, then decodes one encoded image (PNG, JPEG, PNM, JP2).
pub fn decode_single(data: Vec<u8>, policy: &OcrPolicy, index: u32) -> Result<DecodedPage, OcrError> {
    if let Some((w, h)) = png_size(&data) {
        // Checked before Leptonica sees the file, which rejects short files outright.
        check_pixels(w, h, policy, index)?;
    }
    let header = Pix::read_header(&data)?;
    check_pixels(header.width, header.height, policy, index)?;
    // A TIFF (a PDF's CCITT image) can decode to garbage with only an error report.
    let (pix, caught) = tiff_errors::capture(|| Pix::read_mem(&data));
    let pix = pix?;
    check_pixels(pix.width(), pix.height(), policy, index)?;
    let ppi = plausible_ppi(pix.y_res());
    let pix = pix.plain()?;
    let original = Format::sniff(&data).map(|format| Original { format, bytes: data });
    let damage = decoder_damage(index, &caught);
    Ok(DecodedPage { index, seq: index, pix, original, ppi, text_layer: false, damage })
}

/// Why a page that decoded is damaged all the same: its decoder reported errors.
fn decoder_damage(index: u32, caught: &Caught) -> Option<String> {
    let reports = caught.summary()?;
    tracing::warn!(page = index + 1, reports, "page image decoded with errors");
    Some(format!(
        "page {} is damaged: its image decoder reported errors ({reports}); what it decoded was OCRed and may be garbled",
        index + 1
    ))
}

fn read_tiff(data: &[u8], policy: &OcrPolicy, sink: &mut Sink<'_>) -> Result<u32, OcrError> {
    let walked = tiff::pages(data, policy.max_pages)?;
    let pages = walked.pages;
    if pages.len() > policy.max_pages as usize {
        return Err(OcrError::limit(format!(
            "TIFF has more than {} pages, the page limit ocr.max_pages",
            policy.max_pages
        )));
    }
    if let Some(fault) = walked.fault {
        let last = pages.len() as u32;
        sink(Item::Note(
            last - 1,
            format!("the TIFF is damaged after page {last}: {fault}; pages 1-{last} were read, any after are missing"),
        ));
    }
    let mut stand_ins = StandIns::default();
    for (i, p) in (0u32..).zip(&pages) {
        let page = match check_pixels(p.width, p.height, policy, i) {
            Ok(()) => read_tiff_page(data, i, p, policy, &mut stand_ins)?,
            Err(e) => {
                let page = refused_page(i, &e, policy)?;
                stand_ins.refused.get_or_insert(e);
                stand_ins.count += 1;
                page
            }
        };
        if !sink(Item::Page(page)) {
            return Ok(pages.len() as u32);
        }
    }
    stand_ins.judge(pages.len())?;
    Ok(pages.len() as u32)
}

/// The pages of a document that stand in for ones that could not be read.
#[derive(Default)]
struct StandIns {
    count: usize,
    /// The first page refused by a limit, and the first damage.
    refused: Option<OcrError>,
    first_damage: Option<String>,
}

impl StandIns {
    /// A document of stand-ins only is not a reading of the evidence: it
    /// fails, with the limit when a limit refused a page.
    fn judge(self, pages: usize) -> Result<(), OcrError> {
        if self.count < pages {
            return Ok(());
        }
        if let Some(limit) = self.refused {
            return Err(limit);
        }
        Err(OcrError::corrupt(format!(
            "TIFF: no page could be decoded ({0} of {0} pages are damaged; the first: {1})",
            self.count,
            self.first_damage.unwrap_or_default()
        )))
    }
}

/// Page `i` as far as it decodes: whole, its strips, or a blank stand-in.
fn read_tiff_page(
    data: &[u8],
    i: u32,
    p: &TiffPage,
    policy: &OcrPolicy,
    stand_ins: &mut StandIns,
) -> Result<DecodedPage, OcrError> {
    let why = match tiff_page(data, i, p, policy)? {
        Ok(page) => return Ok(page),
        Err(why) => why,
    };
    let page = match partial_tiff_page(data, i, p, &why, policy) {
        Some(page) => page,
        None => {
            stand_ins.count += 1;
            damaged_tiff_page(i, p, &why, policy)?
        }
    };
    stand_ins.first_damage.get_or_insert(why);
    Ok(page)
}

/// A blank Letter page at 72 ppi standing in for page `i`, which a limit
/// refused before it was decoded; flagged for review with the limit.
pub fn refused_page(i: u32, limit: &OcrError, policy: &OcrPolicy) -> Result<DecodedPage, OcrError> {
    tracing::warn!(page = i + 1, limit = %limit.message, "page refused by a limit; a blank page stands in");
    let (w, h) = REFUSED_PAGE;
    let mut pbm = format!("P4\n{w} {h}\n").into_bytes();
    pbm.resize(pbm.len() + (w as usize).div_ceil(8) * h as usize, 0);
    // Under limits so low that even the stand-in is refused, the page's own limit stands.
    let mut page = decode_single(pbm, policy, i).map_err(|_| limit.clone())?;
    page.ppi = 72;
    page.damage = Some(format!("the page is not OCRed ({}); a blank page stands in for it", limit.message));
    Ok(page)
}

/// The size of a refused page's stand-in: US Letter at 72 ppi.
const REFUSED_PAGE: (u32, u32) = (612, 792);

/// Decodes TIFF page `i` from its IFD: `Ok(Err(why))` when its image data
/// does not decode (the page is damaged, not the document).
fn tiff_page(data: &[u8], i: u32, p: &TiffPage, policy: &OcrPolicy) -> Result<Result<DecodedPage, String>, OcrError> {
    // Page 1 from the header (as Leptonica does with offset 0), the others from their IFD.
    let mut offset = if i == 0 { 0 } else { p.ifd };
    let (pix, caught) = tiff_errors::capture(|| Pix::read_tiff_page(data, &mut offset));
    let pix = match pix {
        Ok(pix) => pix,
        Err(e) => {
            let reports = caught.summary().map_or_else(String::new, |r| format!(" ({r})"));
            return Ok(Err(format!("TIFF page {}: {}{reports}", i + 1, e.message.trim_start_matches("TIFF page: "))));
        }
    };
    check_pixels(pix.width(), pix.height(), policy, i)?;
    let ppi = plausible_ppi(pix.y_res());
    let pix = pix.plain()?;
    let damage = decoder_damage(i, &caught).map(|d| format!("TIFF {d}"));
    Ok(Ok(DecodedPage { index: i, seq: i, pix, original: None, ppi, text_layer: false, damage }))
}

/// A damaged page as far as its strips decode (see `tiff_strips`), white
/// below and between, flagged for review with why; `None` when no row
/// decodes or the layout is not one read strip by strip.
fn partial_tiff_page(data: &[u8], i: u32, p: &TiffPage, why: &str, policy: &OcrPolicy) -> Option<DecodedPage> {
    let strips = super::tiff_strips::read(data, p.ifd, i, policy.max_pixels).ok().filter(|s| s.rows > 0)?;
    let pnm = super::samples::to_pnm(&strips.samples, &strips.raster, i).ok()?;
    let mut page = decode_single(pnm, policy, i).ok()?;
    let height = strips.raster.height;
    tracing::warn!(page = i + 1, why, rows = strips.rows, height, "TIFF page damaged; kept what decodes");
    let white = strips.white_rows().map_or_else(String::new, |rows| format!("; {rows} are left white"));
    page.damage = Some(format!("the page is damaged ({why}); {} of {height} rows decode{white}", strips.rows));
    Some(page)
}

/// A white page of the damaged page's declared size, flagged for review with why.
fn damaged_tiff_page(i: u32, p: &TiffPage, why: &str, policy: &OcrPolicy) -> Result<DecodedPage, OcrError> {
    tracing::warn!(page = i + 1, why, "TIFF page damaged");
    // 1 bit per pixel: the size was checked against ocr.max_pixels above.
    let mut pbm = format!("P4\n{} {}\n", p.width, p.height).into_bytes();
    pbm.resize(pbm.len() + (p.width as usize).div_ceil(8) * p.height as usize, 0);
    let mut page = decode_single(pbm, policy, i)?;
    page.damage =
        Some(format!("the page is damaged ({why}); a blank page of its size ({}x{}) stands in", p.width, p.height));
    Ok(page)
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(data: &[u8]) -> Option<(u32, u32)> {
    if !data.starts_with(b"\x89PNG\r\n\x1a\n") || data.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(data.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(data.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

/// The recorded resolution if plausible for a scan, else 300 ppi.
pub fn plausible_ppi(ppi: i32) -> i32 {
    if (70..=2400).contains(&ppi) { ppi } else { DEFAULT_PPI }
}
