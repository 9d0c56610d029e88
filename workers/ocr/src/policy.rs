//! What an OCR run may do: languages, review threshold, limits, rotation.

use std::time::Duration;

use exhibit_core::ids::ExhibitRef;
use serde::{Deserialize, Serialize};

use crate::{OcrError, OcrErrorKind};

/// OCR settings for one document. Unknown keys are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcrPolicy {
    /// Tesseract languages, joined with `+` (default `["eng"]`; `cym` for Welsh).
    pub languages: Vec<String>,
    /// A page whose mean word confidence (0-100) is below this needs review.
    pub min_confidence: u32,
    /// Largest page, in pixels, that is decoded.
    pub max_pixels: u64,
    /// Most pages OCRed in one document.
    pub max_pages: u32,
    /// Wall-clock limit for the whole document.
    #[serde(with = "duration_secs")]
    pub timeout: Duration,
    /// Detect page orientation (OSD) and turn pages upright before recognition.
    pub rotate: bool,
    /// OCR PDF pages that already have a text layer.
    pub ocr_pages_with_text: bool,
    /// Address-space limit of the OCR child process, in bytes.
    pub max_memory: u64,
    /// Pages recognised at once; 0 means one per available core.
    pub threads: usize,
    /// OCR at all (an item manifest row's `ocr` overrides it per exhibit).
    pub enabled: bool,
    /// Media types that are OCRed.
    pub media_types: Vec<String>,
    /// OCR camera photos too (see `is_camera_photo` for the rule).
    pub photos: bool,
    /// Exhibit refs whose scans are not OCRed (compared as exhibit refs
    /// are everywhere, `JS/01` is `JS/1`, and ignoring spaces).
    pub exhibits_off: Vec<String>,
    /// A page with fewer words than this is flagged for review as nearly empty.
    pub min_words: u32,
    /// Resolution (dots per inch) at which a PDF page without an image is
    /// rendered for OCR, lowered for a page that would exceed `max_pixels`.
    pub render_dpi: u32,
    /// An image whose width and height are both below this many pixels
    /// (an icon, a thumbnail) is not a scanned page and is not OCRed.
    pub min_page_side: u32,
}

/// The default `min_page_side`: the smallest paper a desk scans, a
/// business card (85x55 mm), at the lowest common scan setting (75 dpi)
/// is 251x162 px; icons are 16 to 128 px, sometimes 192.
pub const DEFAULT_MIN_PAGE_SIDE: u32 = 200;

/// The default `render_dpi`: what scanners use for text.
pub const DEFAULT_RENDER_DPI: u32 = 300;

impl Default for OcrPolicy {
    fn default() -> Self {
        Self {
            languages: vec!["eng".to_owned()],
            min_confidence: 60,
            max_pixels: 150_000_000,
            max_pages: 2000,
            timeout: Duration::from_secs(600),
            rotate: true,
            ocr_pages_with_text: false,
            max_memory: 4 << 30,
            threads: 0,
            enabled: true,
            media_types: ["image/tiff", "image/png", "image/jpeg", "application/pdf"].map(String::from).to_vec(),
            photos: false,
            exhibits_off: Vec::new(),
            min_words: 3,
            render_dpi: DEFAULT_RENDER_DPI,
            min_page_side: DEFAULT_MIN_PAGE_SIDE,
        }
    }
}

impl OcrPolicy {
    /// Checks the values, naming the bad key.
    pub fn validate(&self) -> Result<(), OcrError> {
        let bad = |key: &str, why: &str| Err(OcrError::new(OcrErrorKind::Config, format!("ocr.{key}: {why}")));
        if self.languages.is_empty() {
            return bad("languages", "at least one language is needed");
        }
        for lang in &self.languages {
            let ok = !lang.is_empty()
                && lang.len() <= 64
                && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return bad("languages", &format!("{lang:?} is not a Tesseract language name"));
            }
        }
        if self.min_confidence > 100 {
            return bad("min_confidence", "must be 0-100");
        }
        if self.max_pixels == 0 || self.max_pages == 0 {
            return bad("max_pixels/max_pages", "must be above 0");
        }
        if self.timeout.is_zero() {
            return bad("timeout", "must be above 0");
        }
        if !(72..=1200).contains(&self.render_dpi) {
            return bad("render_dpi", "must be 72-1200");
        }
        if self.max_memory < 256 << 20 {
            return bad("max_memory", "must be at least 256 MiB");
        }
        Ok(())
    }

    /// Whether this policy OCRs nothing of `exhibit`: OCR is off, or off
    /// for it (`exhibits_off`, compared as [`ExhibitRef`]s are everywhere,
    /// `JS/01` is `js/1`, and ignoring spaces).
    pub fn off_for(&self, exhibit: &str) -> bool {
        !self.enabled || self.exhibits_off.iter().any(|e| exhibit_key(e) == exhibit_key(exhibit))
    }

    /// Why an input is not OCRed under this policy, or None to OCR it.
    /// `item` is the per-item switch from the job input; `head` the file's first bytes.
    pub fn skip_reason(&self, exhibit: &str, mime: &str, item: Option<bool>, head: &[u8]) -> Option<String> {
        match item {
            Some(false) => return Some("OCR is off for this item".into()),
            Some(true) => return None,
            None => {}
        }
        if !self.enabled {
            return Some("OCR is off ([ocr] enabled = false)".into());
        }
        if self.off_for(exhibit) {
            return Some(format!("OCR is off for exhibit {exhibit} ([ocr] exhibits_off)"));
        }
        if !self.media_types.iter().any(|m| m.eq_ignore_ascii_case(mime)) {
            return Some(format!("OCR is off for {mime} ([ocr] media_types)"));
        }
        if !self.photos && crate::is_camera_photo(head) {
            return Some("a camera photo (EXIF make and exposure), not a scan ([ocr] photos = false)".into());
        }
        self.too_small_for_a_page(head)
    }

    /// Why an image is too small to be a scanned page, if it is.
    fn too_small_for_a_page(&self, head: &[u8]) -> Option<String> {
        let (width, height) = crate::image_size::image_size(head)?;
        (width < self.min_page_side && height < self.min_page_side).then(|| {
            format!(
                "an image of {width}x{height} pixels, smaller than a scanned page (ocr.min_page_side = {})",
                self.min_page_side
            )
        })
    }

    /// The Tesseract language string, e.g. `eng+cym`.
    pub fn language_string(&self) -> String {
        self.languages.join("+")
    }
}

mod duration_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// The form `exhibits_off` compares: [`ExhibitRef::normalised`] (letter
/// case and a number's leading zeros do not count), without spaces, which
/// this key has always ignored; text that is no exhibit ref, upper-cased.
fn exhibit_key(text: &str) -> String {
    let spaced = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let normal = spaced.parse::<ExhibitRef>().map_or_else(|_| spaced.to_uppercase(), |r| r.normalised());
    normal.replace(' ', "")
}

#[cfg(test)]
mod exhibit_tests {
    use super::*;

    /// Repro 15: exhibit refs are compared as everywhere else (`JS/01` is
    /// `JS/1`), still ignoring letter case and spaces.
    #[test]
    fn exhibits_off_compares_refs_as_everywhere_else() {
        let policy = OcrPolicy { exhibits_off: vec!["JS/01".into(), "x 1".into()], ..OcrPolicy::default() };
        for exhibit in ["JS/1", "js/001", "JS/01", "X1", "x 01"] {
            assert!(policy.off_for(exhibit), "{exhibit}");
        }
        for exhibit in ["JS/10", "JS/1/A", "X10"] {
            assert!(!policy.off_for(exhibit), "{exhibit}");
        }
    }
}
