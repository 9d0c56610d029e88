//! What an OCR run found: per-page results and bundle reconciliation.

use serde::{Deserialize, Serialize};

/// File name of the UTF-8 text output (pages separated by form feeds).
pub const TEXT_FILE: &str = "text.txt";
/// File name of the hOCR output.
pub const HOCR_FILE: &str = "hocr.html";
/// File name of the searchable PDF.
pub const PDF_FILE: &str = "searchable.pdf";

/// The result of OCRing one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrOutcome {
    /// One entry per page found, in document order.
    pub pages: Vec<PageResult>,
    /// Tesseract's version string.
    pub tesseract_version: String,
    /// Leptonica's version string.
    pub leptonica_version: String,
    /// The languages used.
    pub languages: Vec<String>,
    /// Pages written to the text, hOCR and PDF outputs: every page when any
    /// page needed OCR (text pages are then rendered in their place), none
    /// when every page has a text layer.
    pub pages_ocred: u32,
    /// Whether `searchable.pdf` was written (not when no page was OCRed).
    pub searchable_pdf: bool,
    /// The most pages decoded and held for recognition at once: what the
    /// memory gate (half of `ocr.max_memory`) allowed.
    #[serde(default)]
    pub most_pages_in_flight: u32,
    /// Notes on the document that flag no page (a page tree that loops
    /// back on itself but loses no page), recorded with its outputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl OcrOutcome {
    /// Pages flagged for a human to check.
    pub fn pages_needing_review(&self) -> impl Iterator<Item = &PageResult> {
        self.pages.iter().filter(|p| p.needs_review)
    }
}

/// The result for one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageResult {
    /// Zero-based page index in the document.
    pub index: u32,
    /// Mean word confidence, 0-100 (0 when no words).
    pub mean_confidence: u32,
    /// Words recognised.
    pub word_count: u32,
    /// Clockwise degrees the page was turned to make it upright (0, 90, 180, 270).
    pub rotated_degrees: u32,
    /// The PDF page already had a text layer (it is OCRed from a rendering
    /// only to keep its place in the outputs of a mixed document).
    pub had_text_layer: bool,
    /// A human should check this page.
    pub needs_review: bool,
    /// Why the page needs review, or why it was not OCRed.
    pub reason: Option<String>,
}

/// Compares the operator's expected page count of a paper bundle with the
/// pages found; returns the mismatch message to flag on the exhibit.
pub fn reconcile(expected_pages: Option<u32>, found: usize) -> Option<String> {
    let expected = expected_pages?;
    if expected as usize == found {
        return None;
    }
    let (what, n) = if (expected as usize) > found {
        ("missing", expected as usize - found)
    } else {
        ("extra", found - expected as usize)
    };
    Some(format!("bundle page count mismatch: expected {expected} pages, found {found} ({n} {what})"))
}
