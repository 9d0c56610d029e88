//! Recognition with orientation correction. A page is recognised as it is
//! first; only when that does not read as upright text (few words, low
//! confidence, or lines Tesseract laid out turned) does orientation detection
//! (OSD) run, and a page it finds turned is turned upright and recognised
//! again. Most scanned pages are upright, so most pay nothing for OSD.

use super::ffi::{Api, Pix};
use crate::OcrError;

/// OSD confidence below which a page is left as it is.
const MIN_OSD_CONFIDENCE: f32 = 2.0;
/// Pages at this resolution or more get orientation detection on a half-size copy.
const MIN_PPI_TO_HALVE_FOR_OSD: i32 = 240;
/// A recognition with at least this many words...
const MIN_WORDS_UPRIGHT: u32 = 20;
/// ...at this mean confidence or more, in upright lines, is upright text.
/// Upside-down or sideways Latin text reads at about 20 to 40.
const MIN_CONFIDENCE_UPRIGHT: u32 = 70;

/// An orientation-detection engine, loaded the first time a page needs it:
/// most documents have no turned page, and each engine holds about 30 MiB.
#[derive(Default)]
pub struct Osd {
    api: Option<Api>,
}

impl Osd {
    fn api(&mut self) -> Result<&mut Api, OcrError> {
        let api = match self.api.take() {
            Some(api) => api,
            None => Api::new("osd", true)?,
        };
        Ok(self.api.insert(api))
    }
}

/// Recognises `pix` with `api`, turning it upright first if `osd` (when
/// enabled) finds it turned; returns the page recognised and the clockwise degrees turned.
pub fn recognize_upright(api: &mut Api, osd: Option<&mut Osd>, pix: Pix, ppi: i32) -> Result<(Pix, u32), OcrError> {
    let _span = tracing::debug_span!("recognize").entered();
    api.set_page(&pix, ppi);
    api.recognize()?;
    let Some(osd) = osd else { return Ok((pix, 0)) };
    if reads_upright(api) {
        return Ok((pix, 0));
    }
    let (pix, degrees) = upright(osd, pix, ppi)?;
    if degrees != 0 {
        let _span = tracing::debug_span!("recognize_turned", degrees).entered();
        api.set_page(&pix, ppi);
        api.recognize()?;
    }
    Ok((pix, degrees))
}

/// True when the last recognition reads as upright text.
fn reads_upright(api: &mut Api) -> bool {
    let (words, confidence) = api.word_stats();
    words >= MIN_WORDS_UPRIGHT && confidence >= MIN_CONFIDENCE_UPRIGHT && api.lines_upright()
}

/// Turns the page upright if OSD is confident it is not; returns the clockwise degrees turned.
fn upright(osd: &mut Osd, pix: Pix, ppi: i32) -> Result<(Pix, u32), OcrError> {
    let _span = tracing::debug_span!("osd").entered();
    let osd = osd.api()?;
    if ppi >= MIN_PPI_TO_HALVE_FOR_OSD {
        // A quarter of the pixels makes OSD's page layout analysis 4x cheaper.
        osd.set_page(&pix.half_size()?, ppi / 2);
    } else {
        osd.set_page(&pix, ppi);
    }
    let Some(o) = osd.detect_orientation() else { return Ok((pix, 0)) };
    if o.degrees == 0 || o.confidence < MIN_OSD_CONFIDENCE {
        return Ok((pix, 0));
    }
    // OSD reports how far the page is turned counter-clockwise; turning it
    // clockwise by the rest of a full turn makes it upright.
    let quads = (4 - (o.degrees.rem_euclid(360) / 90)) % 4;
    let turned = pix.rotate_orth(quads)?;
    Ok((turned, quads as u32 * 90))
}
