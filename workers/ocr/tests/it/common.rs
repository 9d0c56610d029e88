//! Shared helpers: fixture paths, running OCR into a temp folder, tool calls.

use std::path::{Path, PathBuf};
use std::process::Command;

use exhibit_ocr::{OcrError, OcrOutcome, OcrPolicy, TEXT_FILE, ocr_document};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name)
}

pub fn known_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("known text fixture")
}

/// The corpus folder, or None (with a message) when it is absent.
pub fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

pub struct Run {
    pub dir: tempfile::TempDir,
    pub outcome: OcrOutcome,
    pub text: String,
}

impl Run {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn policy() -> OcrPolicy {
    OcrPolicy { threads: 2, ..OcrPolicy::default() }
}

pub fn try_ocr(
    input: &Path,
    media_type: &str,
    policy: &OcrPolicy,
) -> (tempfile::TempDir, Result<OcrOutcome, OcrError>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = ocr_document(input, media_type, policy, dir.path());
    (dir, r)
}

pub fn ocr(input: &Path, media_type: &str) -> Run {
    ocr_with(input, media_type, &policy())
}

pub fn ocr_with(input: &Path, media_type: &str, policy: &OcrPolicy) -> Run {
    let (dir, r) = try_ocr(input, media_type, policy);
    let outcome = r.unwrap_or_else(|e| panic!("OCR of {} failed: {e}", input.display()));
    let text = std::fs::read_to_string(dir.path().join(TEXT_FILE)).expect("text output");
    Run { dir, outcome, text }
}

/// Runs a command and returns its stdout, or None if the tool is missing.
pub fn tool(cmd: &str, args: &[&std::ffi::OsStr]) -> Option<String> {
    match Command::new(cmd).args(args).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => panic!("{cmd} failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => {
            eprintln!("SKIPPED: {cmd} is not installed");
            None
        }
    }
}
