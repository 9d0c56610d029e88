//! Keeping every page of a PDF in its searchable PDF, in place (issue 13).
//!
//! A page with a text layer needs no OCR of its own, but when any page of
//! the document is OCRed the searchable PDF must still hold it in its
//! place. Such a page is rendered by `pdftoppm` and OCRed like a vector
//! page, so it gets the same image and text layer as the scans around it
//! and the output stays PDF/A-2b (its own fonts may not be embedded).
//! Text pages before the first scan wait here until a scan is met; if none
//! is, they stay text layers and the document has no outputs.
//!
//! A page whose content or image data cannot be read is rendered as far as
//! poppler can, or replaced by a blank page of its size, and flagged for
//! review with why: it fails alone. Only a document in which no page's
//! image decodes fails as a whole.

use super::input::{DecodedPage, Item, Sink, decode_single};
use super::render::{PageRenderer, fitting_dpi};
use crate::{OcrError, OcrErrorKind, OcrPolicy};

/// US Letter in points, for a damaged page whose size is unknown or too large.
const LETTER: (f32, f32) = (612.0, 792.0);
/// Resolution of a blank page standing in for one that cannot be rendered.
const BLANK_DPI: u32 = 72;

/// What the reader found on one page.
pub enum Found {
    /// A text layer; the page's visible size in points.
    Text((f32, f32)),
    /// An image or rendering to OCR.
    Scan(DecodedPage),
    /// The page's content (`image: false`) or its image data cannot be read.
    Damaged { size: (f32, f32), why: String, image: bool },
    /// The page's image is refused by a limit (`ocr.max_pixels`) before it
    /// is decoded: a blank page stands in, flagged with the limit.
    Refused(OcrError),
}

/// Hands pages on in document order, numbering the ones that are OCRed.
#[derive(Default)]
pub struct InOrder {
    pending: Vec<(u32, (f32, f32))>,
    ocring: bool,
    seq: u32,
    /// Pages taken, and pages that stand in for an image that did not decode.
    taken: u32,
    stand_ins: u32,
    first_damage: Option<String>,
    /// Stand-ins for pages a limit refused, and the first such limit.
    refused: u32,
    first_limit: Option<OcrError>,
}

impl InOrder {
    /// Takes page `index`; false when the run is aborting.
    pub fn take(
        &mut self,
        index: u32,
        found: Found,
        renderer: &mut PageRenderer<'_>,
        policy: &OcrPolicy,
        sink: &mut Sink<'_>,
    ) -> Result<bool, OcrError> {
        self.taken += 1;
        match found {
            Found::Text(size) if !self.ocring => {
                self.pending.push((index, size));
                Ok(true)
            }
            Found::Text(size) => Ok(self.send(text_page(index, size, renderer, policy)?, sink)),
            Found::Scan(page) => Ok(self.start(renderer, policy, sink)? && self.send(page, sink)),
            Found::Damaged { size, why, image } => {
                if image {
                    self.stand_ins += 1;
                    self.first_damage.get_or_insert_with(|| why.clone());
                }
                Ok(self.start(renderer, policy, sink)?
                    && self.send(damaged_page(index, size, why, image, renderer, policy)?, sink))
            }
            Found::Refused(limit) => {
                // Not rendered: poppler would decode the very image refused.
                let page = super::input::refused_page(index, &limit, policy)?;
                self.stand_ins += 1;
                self.refused += 1;
                self.first_limit.get_or_insert(limit);
                Ok(self.start(renderer, policy, sink)? && self.send(page, sink))
            }
        }
    }

    /// Ends the document: text pages that never had to be rendered stay
    /// text layers. Fails when no page's image decoded at all: a document
    /// of stand-ins is not a reading of the evidence; when every page was
    /// refused by a limit, the limit is the error.
    pub fn finish(self, sink: &mut Sink<'_>) -> Result<(), OcrError> {
        if let Some(limit) = self.first_limit.filter(|_| self.taken > 0 && self.refused == self.taken) {
            return Err(limit);
        }
        if self.taken > 0 && self.stand_ins == self.taken {
            return Err(OcrError::corrupt(format!(
                "PDF: no page could be decoded ({} of {} page images are damaged; the first: {})",
                self.stand_ins,
                self.taken,
                self.first_damage.unwrap_or_default()
            )));
        }
        for (index, _) in self.pending {
            if !sink(Item::TextLayer(index)) {
                break;
            }
        }
        Ok(())
    }

    /// The first page to OCR: the text pages before it are rendered first.
    fn start(
        &mut self,
        renderer: &mut PageRenderer<'_>,
        policy: &OcrPolicy,
        sink: &mut Sink<'_>,
    ) -> Result<bool, OcrError> {
        if self.ocring {
            return Ok(true);
        }
        self.ocring = true;
        for (index, size) in std::mem::take(&mut self.pending) {
            if !self.send(text_page(index, size, renderer, policy)?, sink) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn send(&mut self, mut page: DecodedPage, sink: &mut Sink<'_>) -> bool {
        page.seq = self.seq;
        self.seq += 1;
        sink(Item::Page(page))
    }
}

/// A text page rendered for the searchable PDF; a damaged one if it cannot be.
fn text_page(
    index: u32,
    size: (f32, f32),
    renderer: &mut PageRenderer<'_>,
    policy: &OcrPolicy,
) -> Result<DecodedPage, OcrError> {
    match renderer.render(index, size, policy) {
        Ok(mut page) => {
            page.text_layer = true;
            Ok(page)
        }
        Err(e) if per_page(&e) => {
            let mut page = blank_page(index, size, policy)?;
            page.text_layer = true;
            page.damage = Some(format!("the page has a text layer but could not be rendered: {}", e.message));
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

/// A page whose content or image cannot be read: what poppler renders of
/// it, or a blank page.
fn damaged_page(
    index: u32,
    size: (f32, f32),
    why: String,
    image: bool,
    renderer: &mut PageRenderer<'_>,
    policy: &OcrPolicy,
) -> Result<DecodedPage, OcrError> {
    tracing::warn!(page = index + 1, why, image, "PDF page damaged");
    let mut page = match renderer.render(index, size, policy) {
        Ok(page) => page,
        Err(e) if per_page(&e) => blank_page(index, size, policy)?,
        Err(e) => return Err(e),
    };
    let what = if image { "the page image is damaged" } else { "the page is damaged" };
    page.damage = Some(format!("{what} ({why}); it is shown as far as it could be rendered"));
    Ok(page)
}

/// Errors that fail one page: its content or size, not the setup.
fn per_page(e: &OcrError) -> bool {
    matches!(e.kind, OcrErrorKind::Corrupt | OcrErrorKind::Limit)
}

/// A white page of `size` (Letter when that is over the limit) at 72 dpi.
fn blank_page(index: u32, size: (f32, f32), policy: &OcrPolicy) -> Result<DecodedPage, OcrError> {
    let size = if fitting_dpi(size, BLANK_DPI, policy.max_pixels) == Some(BLANK_DPI) { size } else { LETTER };
    let (w, h) = ((size.0.abs() as u32).max(1), (size.1.abs() as u32).max(1));
    let mut pgm = format!("P5\n{w} {h}\n255\n").into_bytes();
    pgm.resize(pgm.len() + (w as usize) * (h as usize), 0xFF);
    let mut page = decode_single(pgm, policy, index)?;
    page.ppi = BLANK_DPI as i32;
    Ok(page)
}
