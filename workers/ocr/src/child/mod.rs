//! The child side: runs in `exhibit-ocr-child`, under the limits its parent
//! set, and writes its outcome (or typed error) as JSON for the parent.
//!
//! Design: one producer thread reads the document and decodes pages in order
//! into a bounded channel (so at most `threads + 1` decoded pages are in
//! memory); one worker thread per core, each with its own Tesseract engine,
//! runs recognition, with orientation detection for pages that do not read
//! as upright (see `orient`). Tesseract's renderers (PDF, hOCR, text) keep
//! per-document state, so the worker that finished page `n` waits for page
//! `n - 1` to be rendered and then adds its page; the outputs are in page
//! order with no PDF merging.

mod engine;
mod ffi;
mod input;
mod jbig2;
mod jpeg;
mod orient;
mod page_tree;
mod pdf_error;
mod pdf_input;
mod png;
mod png_file;
mod render;
mod repair;
mod reproducible;
mod samples;
mod text_pages;
mod tiff;
mod tiff_errors;
mod tiff_strips;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{OcrError, OcrErrorKind, OcrOutcome, OcrPolicy};

/// The child binary's file name.
pub const CHILD_BIN: &str = "exhibit-ocr-child";
/// The folder inside out_dir where the child works (its cwd); removed afterwards.
pub const WORK_DIR: &str = ".ocr-work";
/// The child's report, inside the work folder.
pub const REPORT_FILE: &str = "report.json";
/// The child's stderr, inside the work folder.
pub const STDERR_FILE: &str = "stderr.log";

/// What the child reports.
#[derive(Debug, Serialize, Deserialize)]
pub enum ChildReport {
    Ok(OcrOutcome),
    /// The page count, in count-only mode ([`COUNT_ONLY`]).
    Counted(u32),
    Err(OcrError),
}

/// The first argument that asks the child to count pages and OCR nothing.
pub const COUNT_ONLY: &str = "--count-pages";

/// Entry point of `exhibit-ocr-child [--count-pages] <input> <media-type> <out-dir> <policy-json>`;
/// returns the exit code.
pub fn main() -> i32 {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let count_only = args.first().is_some_and(|a| a == COUNT_ONLY);
    if count_only {
        args.remove(0);
    }
    let report = match parse_args(&args) {
        Ok((input, media_type, _, policy)) if count_only => {
            match input::count_pages(Path::new(&input), &media_type, &policy) {
                Ok(pages) => ChildReport::Counted(pages),
                Err(e) => ChildReport::Err(e),
            }
        }
        Ok((input, media_type, out_dir, policy)) => {
            match engine::run(Path::new(&input), &media_type, &policy, Path::new(&out_dir)) {
                Ok(outcome) => ChildReport::Ok(outcome),
                Err(e) => ChildReport::Err(crate::memory_cap::classify_in_child(e, policy.max_memory)),
            }
        }
        Err(e) => ChildReport::Err(e),
    };
    let ok = !matches!(report, ChildReport::Err(_));
    let json = serde_json::to_vec(&report).unwrap_or_default();
    if std::fs::write(REPORT_FILE, json).is_err() {
        eprintln!("{CHILD_BIN}: cannot write {REPORT_FILE}");
        return 3;
    }
    if ok { 0 } else { 2 }
}

fn parse_args(args: &[std::ffi::OsString]) -> Result<(String, String, String, OcrPolicy), OcrError> {
    let usage = || OcrError::new(OcrErrorKind::Config, "usage: exhibit-ocr-child INPUT MEDIA_TYPE OUT_DIR POLICY_JSON");
    let [input, media_type, out_dir, policy] = args else {
        return Err(usage());
    };
    let s = |o: &std::ffi::OsString| o.to_str().map(str::to_owned).ok_or_else(usage);
    let policy: OcrPolicy =
        serde_json::from_str(&s(policy)?).map_err(|e| OcrError::new(OcrErrorKind::Config, format!("policy: {e}")))?;
    policy.validate()?;
    Ok((s(input)?, s(media_type)?, s(out_dir)?, policy))
}
