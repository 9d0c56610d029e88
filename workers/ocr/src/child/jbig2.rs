//! JBIG2 page images from PDFs, decoded by Debian's `jbig2dec` CLI (no
//! maintained Rust binding exists). It runs as a helper of the OCR child, in
//! the same process group, so the parent's timeout and kill cover it.

use std::process::{Command, Stdio};

use crate::{OcrError, OcrErrorKind};

/// Decodes an embedded JBIG2 stream (with its optional globals) to a PBM.
pub fn decode_to_pbm(page: &[u8], globals: &[u8], index: u32) -> Result<Vec<u8>, OcrError> {
    let name = |s: &str| format!("jbig2-{index:05}.{s}");
    let (page_file, globals_file, out_file) = (name("page"), name("globals"), name("pbm"));
    let io = |e| OcrError::io("cannot write a JBIG2 stream for jbig2dec", e);
    std::fs::write(&page_file, page).map_err(io)?;
    let mut cmd = Command::new("jbig2dec");
    cmd.args(["-q", "-e", "-t", "pbm", "-o", &out_file]);
    if !globals.is_empty() {
        std::fs::write(&globals_file, globals).map_err(io)?;
        cmd.arg(&globals_file);
    }
    cmd.arg(&page_file).stdin(Stdio::null()).stdout(Stdio::null());
    let status = cmd.status();
    let out = std::fs::read(&out_file);
    for f in [&page_file, &globals_file, &out_file] {
        let _ = std::fs::remove_file(f);
    }
    match status {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(OcrError::new(
            OcrErrorKind::Unsupported,
            "a JBIG2 page image needs jbig2dec (Debian package jbig2dec), which is not installed",
        )),
        Err(e) => Err(OcrError::io("cannot run jbig2dec", e)),
        Ok(s) if !s.success() => Err(OcrError::corrupt(format!("PDF page {}: jbig2dec failed ({s})", index + 1))),
        Ok(_) => out.map_err(|_| OcrError::corrupt(format!("PDF page {}: jbig2dec wrote no image", index + 1))),
    }
}
