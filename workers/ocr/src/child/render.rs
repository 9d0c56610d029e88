//! PDF pages that hold no image (text turned to outlines, forms, drawings,
//! or nothing at all) rendered to a greyscale raster by poppler's
//! `pdftoppm`, so they are OCRed like scans. It runs as a helper of the OCR
//! child, in the same process group and under the same limits, so the
//! parent's timeout and kill cover it, as for `jbig2dec`.

use std::process::{Command, Stdio};

use super::input::{DecodedPage, decode_single};
use crate::{OcrError, OcrErrorKind, OcrPolicy};

/// The document written once for `pdftoppm`, in the child's work folder.
const RENDER_INPUT: &str = "render-input.pdf";
/// Lowest resolution a page is rendered at to fit `max_pixels`; below it
/// text is too small to read and the page is over the limit.
const MIN_DPI: u32 = 72;

/// Renders pages of one PDF, writing the document for `pdftoppm` on first use.
pub struct PageRenderer<'a> {
    data: &'a [u8],
    written: bool,
}

impl<'a> PageRenderer<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, written: false }
    }

    /// Renders page `index` (zero-based) whose box is `width_pt` x
    /// `height_pt` points, at `render_dpi` or lower to stay within
    /// `max_pixels`.
    pub fn render(
        &mut self,
        index: u32,
        (width_pt, height_pt): (f32, f32),
        policy: &OcrPolicy,
    ) -> Result<DecodedPage, OcrError> {
        let dpi = fitting_dpi((width_pt, height_pt), policy.render_dpi, policy.max_pixels).ok_or_else(|| {
            OcrError::limit(format!(
                "PDF page {} ({width_pt:.0}x{height_pt:.0} pt) is over the OCR pixel limit ocr.max_pixels = {} even at {MIN_DPI} dpi",
                index + 1,
                policy.max_pixels
            ))
        })?;
        if !self.written {
            std::fs::write(RENDER_INPUT, self.data)
                .map_err(|e| OcrError::io("cannot write the PDF for pdftoppm", e))?;
            self.written = true;
        }
        let pgm = run_pdftoppm(index, dpi)?;
        let mut page = decode_single(pgm, policy, index)?;
        page.ppi = dpi as i32;
        tracing::info!(page = index + 1, dpi, "PDF page without an image rendered for OCR");
        Ok(page)
    }
}

impl Drop for PageRenderer<'_> {
    fn drop(&mut self) {
        if self.written {
            let _ = std::fs::remove_file(RENDER_INPUT);
        }
    }
}

/// The resolution to render a page at: `wanted`, or lower so the raster
/// stays within `max_pixels`; None when even `MIN_DPI` is over.
pub fn fitting_dpi((width_pt, height_pt): (f32, f32), wanted: u32, max_pixels: u64) -> Option<u32> {
    let (w_in, h_in) = (f64::from(width_pt.abs()) / 72.0, f64::from(height_pt.abs()) / 72.0);
    let pixels_at = |dpi: u32| (w_in * f64::from(dpi)).ceil() * (h_in * f64::from(dpi)).ceil();
    if pixels_at(wanted) <= max_pixels as f64 {
        return Some(wanted);
    }
    let fit = ((max_pixels as f64 / (w_in * h_in).max(1e-9)).sqrt().floor() as u32).min(wanted);
    (fit >= MIN_DPI && pixels_at(fit) <= max_pixels as f64).then_some(fit)
}

/// One page as a PGM on `pdftoppm`'s stdout.
fn run_pdftoppm(index: u32, dpi: u32) -> Result<Vec<u8>, OcrError> {
    let page = (index + 1).to_string();
    let out = Command::new("pdftoppm")
        .args(["-q", "-f", &page, "-l", &page, "-r", &dpi.to_string(), "-gray", "-singlefile", RENDER_INPUT])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(OcrError::new(
            OcrErrorKind::Unsupported,
            "a PDF page without an image needs pdftoppm (Debian package poppler-utils) to be rendered, which is not installed",
        )),
        Err(e) => Err(OcrError::io("cannot run pdftoppm", e)),
        Ok(o) if !o.status.success() || o.stdout.is_empty() => Err(OcrError::corrupt(format!(
            "PDF page {page} has no image and pdftoppm could not render it ({})",
            o.status
        ))),
        Ok(o) => Ok(o.stdout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolution_drops_to_fit_the_pixel_limit() {
        assert_eq!(fitting_dpi((612.0, 792.0), 300, 150_000_000), Some(300));
        // 100 inches square: 122 dpi fits 150 Mpixels.
        let big = fitting_dpi((7_200.0, 7_200.0), 300, 150_000_000).unwrap();
        assert!((72..300).contains(&big), "{big}");
        assert!((100.0 * f64::from(big)).powi(2) <= 150e6);
        // 200 inches square would need 61 dpi: too small to read.
        assert_eq!(fitting_dpi((14_400.0, 14_400.0), 300, 150_000_000), None);
        assert_eq!(fitting_dpi((0.0, 0.0), 300, 1), Some(300));
        assert_eq!(fitting_dpi((f32::MAX, f32::MAX), 300, 150_000_000), None);
    }
}
