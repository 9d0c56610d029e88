//! Which settings decide whether an input is OCRed at all, so that a rerun
//! under other settings decides again, and only then.
//!
//! The OCR job's ID holds what shapes the text (`OcrStage::policy_version`):
//! a new language makes new outputs beside the old. Whether an input is
//! OCRed at all is decided by other settings (`enabled`, `exhibits_off`,
//! `media_types`, `photos`, `min_page_side`, `ocr_pages_with_text`, an item
//! manifest row's `ocr`). A skip is recorded under a *selection job* whose
//! ID adds those settings, so the skip stands while they do, and a run
//! under settings that may decide otherwise reads the input again.

use exhibit_queue::{Job, JobId};

use crate::OcrPolicy;

/// Lane name hashed into selection job IDs.
const SELECTION: &str = "ocr-selection";

impl OcrPolicy {
    /// The settings that decide whether an input of `exhibit` and `mime` is
    /// OCRed, as far as they are known before its content is read, in
    /// words (e.g. `photos=false:min-page-side=200`). Only the settings the
    /// decision reads are named: with OCR off, `min_page_side` does not
    /// count; for a PDF, only `ocr_pages_with_text` does.
    pub fn selection(&self, exhibit: &str, mime: &str, item: Option<bool>) -> String {
        let pdf = mime.eq_ignore_ascii_case("application/pdf");
        let decided = match item {
            Some(false) => return "item-ocr=off".into(),
            Some(true) if !pdf => return "item-ocr=on".into(),
            Some(true) => "item-ocr=on:",
            None => "",
        };
        if item.is_none() {
            if let Some(off) = self.off_selection(exhibit, mime) {
                return off;
            }
        }
        match pdf {
            true => format!("{decided}ocr-pages-with-text={}", self.ocr_pages_with_text),
            false => format!("photos={}:min-page-side={}", self.photos, self.min_page_side),
        }
    }

    /// The setting that turns OCR off for every input of `exhibit` and `mime`, if one does.
    fn off_selection(&self, exhibit: &str, mime: &str) -> Option<String> {
        if !self.enabled {
            return Some("enabled=false".into());
        }
        if self.off_for(exhibit) {
            return Some("exhibits-off".into());
        }
        let listed = self.media_types.iter().any(|m| m.eq_ignore_ascii_case(mime));
        (!listed).then(|| format!("media-types-without={}", mime.to_ascii_lowercase()))
    }
}

/// The ID under which `job`'s skip (or "not OCRed") is recorded when its
/// selection settings are `selection`.
pub fn selection_job(job: &Job, selection: &str) -> JobId {
    JobId::derive(SELECTION, job.job_id.0.as_bytes(), selection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_settings_the_decision_reads_are_named() {
        let policy = OcrPolicy::default();
        assert_eq!(policy.selection("JS/1", "image/png", None), "photos=false:min-page-side=200");
        assert_eq!(policy.selection("JS/1", "application/pdf", None), "ocr-pages-with-text=false");
        assert_eq!(policy.selection("JS/1", "image/png", Some(false)), "item-ocr=off");
        assert_eq!(policy.selection("JS/1", "image/png", Some(true)), "item-ocr=on");
        assert_eq!(policy.selection("JS/1", "application/pdf", Some(true)), "item-ocr=on:ocr-pages-with-text=false");
        let off = OcrPolicy { enabled: false, min_page_side: 10, ..OcrPolicy::default() };
        assert_eq!(off.selection("JS/1", "image/png", None), "enabled=false");
        let lower = OcrPolicy { min_page_side: 100, ..OcrPolicy::default() };
        assert_ne!(lower.selection("JS/1", "image/png", None), policy.selection("JS/1", "image/png", None));
        let cut = OcrPolicy { media_types: vec!["application/pdf".into()], ..OcrPolicy::default() };
        assert_eq!(cut.selection("JS/1", "image/PNG", None), "media-types-without=image/png");
    }
}
