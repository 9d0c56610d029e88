//! Telling a run that hit the OCR child's memory cap (`ocr.max_memory`,
//! an address-space rlimit) from a damaged file (tester's repro-10). When
//! an allocation fails, Leptonica returns no image ("could not decode"),
//! Rust aborts and Tesseract may crash: none of that says "memory". The
//! child checks its peak address space when a run fails; the parent reads
//! allocation failures in the child's log when it died without a report.

use crate::{OcrError, OcrErrorKind};

/// Peak address space at or over this share of the cap means the cap was hit.
const NEAR_CAP: f64 = 0.85;

/// What allocators and libraries print when an allocation fails.
const ALLOC_FAILURES: [&str; 6] =
    ["memory allocation of", "malloc fail", "calloc fail", "bad_alloc", "Cannot allocate memory", "out of memory"];

/// Peak bytes the OCR child adds per pixel of a page it recognises, by
/// the decoded image's depth (measured with `/usr/bin/time -v` on the child,
/// one thread, less its 53 MB at rest; see ARCHITECTURE "Page counts and
/// documents that keep their good pages"): colour (32 bpp) peaked at 16.6
/// (a blank RGBA PNG, 144 Mpx) and 13.0 (blank RGB), grey at 4.7 (blank,
/// 144 Mpx) and 3.9 (text, 88 Mpx), bitonal at 1.1 (G4 text, 88 Mpx).
/// Blank pages cost more than text ones. Rounded up by a margin.
pub const COLOUR_BYTES_PER_PIXEL: u64 = 18;
/// See [`COLOUR_BYTES_PER_PIXEL`]: 8-bit grey pages.
pub const GREY_BYTES_PER_PIXEL: u64 = 6;
/// See [`COLOUR_BYTES_PER_PIXEL`]: 1-bit pages.
pub const BITONAL_BYTES_PER_PIXEL: u64 = 2;

/// The memory recognising a `width` x `height` page of `depth` bits per
/// pixel (Leptonica's, after `plain`) takes at its peak, by the estimate.
/// `None` (a header not yet decoded) is taken as colour, the most.
pub fn page_memory(width: u32, height: u32, depth: Option<u32>) -> u64 {
    let per_pixel = match depth {
        Some(1) => BITONAL_BYTES_PER_PIXEL,
        Some(2..=8) => GREY_BYTES_PER_PIXEL,
        _ => COLOUR_BYTES_PER_PIXEL,
    };
    (u64::from(width) * u64::from(height)).saturating_mul(per_pixel)
}

/// A size for people: "512 MiB", "4 GiB", "3.2 GiB".
pub fn human(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if bytes % GIB == 0 {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= GIB {
        format!("{:.1} GiB", bytes as f64 / GIB as f64)
    } else {
        format!("{} MiB", bytes / MIB)
    }
}

/// The limit error for a run that ran out of memory under the cap.
pub fn limit_error(max_memory: u64, what: &str) -> OcrError {
    OcrError::limit(format!(
        "OCR ran out of memory: its pages need more than ocr.max_memory = {} ({}) allows; raise ocr.max_memory or lower ocr.threads (the failure: {what})",
        human(max_memory),
        max_memory
    ))
}

/// In the child: `e` as a limit error when this process came near its memory cap.
pub fn classify_in_child(e: OcrError, max_memory: u64) -> OcrError {
    if !matches!(e.kind, OcrErrorKind::Corrupt | OcrErrorKind::Crashed) {
        return e;
    }
    match peak_address_space() {
        Some(peak) if peak as f64 >= max_memory as f64 * NEAR_CAP => {
            tracing::warn!(peak, max_memory, error = %e, "OCR failed near its memory cap");
            limit_error(max_memory, &e.message)
        }
        _ => e,
    }
}

/// In the parent: whether the child's log shows an allocation that failed.
pub fn log_shows_alloc_failure(log: &str) -> bool {
    ALLOC_FAILURES.iter().any(|m| log.contains(m))
}

/// This process's peak virtual memory (`VmPeak`), in bytes.
fn peak_address_space() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmPeak:"))?;
    let kb: u64 = line["VmPeak:".len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_of_unknown_depth_is_estimated_as_colour() {
        assert_eq!(page_memory(12000, 12000, None), 144_000_000 * COLOUR_BYTES_PER_PIXEL);
        assert_eq!(page_memory(12000, 12000, Some(32)), page_memory(12000, 12000, None));
        assert!(page_memory(100, 100, Some(1)) < page_memory(100, 100, Some(8)));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(4 << 30), "4 GiB");
        assert_eq!(human(512 << 20), "512 MiB");
        assert_eq!(human(3_456_000_000), "3.2 GiB");
    }

    #[test]
    fn a_failed_allocation_is_recognised_in_the_log() {
        assert!(log_shows_alloc_failure("Error in pixCreateNoInit: pix_malloc fail for data"));
        assert!(log_shows_alloc_failure("memory allocation of 576000000 bytes failed"));
        assert!(!log_shows_alloc_failure("Error in pixReadMemTiff: tif not opened"));
    }

    #[test]
    fn this_process_peak_is_read() {
        assert!(peak_address_space().is_some_and(|p| p > 0));
    }
}
