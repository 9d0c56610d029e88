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

/// `max_memory` for people: "512 MiB", "4 GiB".
pub fn human(bytes: u64) -> String {
    const MIB: u64 = 1 << 20;
    if bytes % (1 << 30) == 0 { format!("{} GiB", bytes >> 30) } else { format!("{} MiB", bytes / MIB) }
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
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(4 << 30), "4 GiB");
        assert_eq!(human(512 << 20), "512 MiB");
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
