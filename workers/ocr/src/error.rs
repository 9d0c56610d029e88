//! Typed OCR errors: callers branch on the kind, never on the message.

use serde::{Deserialize, Serialize};

/// Longest message kept: a reason for people, not a dump.
const MAX_MESSAGE: usize = 400;

/// What went wrong with one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrErrorKind {
    /// The child ran past the policy's timeout and was killed.
    Timeout,
    /// The child died (signal, abort, unexpected exit): a crash in Leptonica or Tesseract.
    Crashed,
    /// The input is damaged or not what its media type says.
    Corrupt,
    /// The input is valid but not something OCR applies to (e.g. a PDF page with no image).
    Unsupported,
    /// A page count, pixel count, memory or CPU limit was reached.
    Limit,
    /// The policy is invalid or a language's traineddata is missing.
    Config,
    /// Reading or writing files failed, or the child binary could not be started.
    Io,
}

/// An OCR failure of one document, with a kind and a reason for the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct OcrError {
    /// The kind, for retry and reporting decisions.
    pub kind: OcrErrorKind,
    /// A human-readable reason.
    pub message: String,
}

impl OcrError {
    /// An error of `kind` with `message`.
    pub fn new(kind: OcrErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: one_line(&message.into(), MAX_MESSAGE) }
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Self {
        Self::new(OcrErrorKind::Corrupt, message)
    }

    pub(crate) fn limit(message: impl Into<String>) -> Self {
        Self::new(OcrErrorKind::Limit, message)
    }

    pub(crate) fn io(context: &str, e: std::io::Error) -> Self {
        Self::new(OcrErrorKind::Io, format!("{context}: {e}"))
    }
}

/// One line: control characters (newlines included) escaped or dropped,
/// runs of spaces collapsed, and the length bounded.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 4));
    for c in text.chars() {
        if out.chars().count() >= max {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' | ' ' => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.trim_end().to_owned()
}
