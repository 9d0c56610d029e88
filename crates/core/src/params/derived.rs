//! Params of derivation outputs: `transcoded` and `ocr`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `transcoded`: one normalised output of an audio/video artefact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TranscodedParams {
    /// The rule in `normalisation.toml` that made it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// That policy's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// Flags raised while converting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<String>>,
    /// The job, on its last output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
}

/// `ocr`: a text output, a summary of a scan with a text layer, or a skip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OcrParams {
    /// The output's rule (`ocr-text`, `ocr-pdf`...), for outputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The OCR policy's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<String>,
    /// Pages read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u64>,
    /// Pages that already had a text layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages_with_text_layer: Option<u64>,
    /// Why nothing was OCRed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_ocred: Option<String>,
    /// Pages a person should read: `{file, page, reason, mean_confidence}`.
    #[serde(rename = "needs-review", skip_serializing_if = "Option::is_none")]
    pub needs_review: Option<Vec<Value>>,
    /// Why OCR was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Notes on the document that flag no page (a PDF page tree that
    /// loops back on itself but loses no page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<String>>,
    /// On a skip or a "not OCRed": the selection settings it was decided
    /// under (`photos=false:min-page-side=200`...). A later run under other
    /// settings decides again; events without it (older ledgers) are
    /// decided again once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
    /// The job, on its last output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// A bundle PDF's pages: each page file and its searchable PDF, in
    /// order, and the files left out with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_files: Option<Value>,
}
