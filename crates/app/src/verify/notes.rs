//! Notes of a verify run: things a person should look at that are not
//! damage (OCR pages flagged for review, a bundle whose page count differs
//! from the operator's, images that hold less than they declare). A rerun
//! cannot change them, so they never fail a check.

use std::collections::HashMap;

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::manifest::RecordedPath;
use exhibit_core::params::EventParams;
use serde_json::{Value, json};

/// Pages flagged for review and bundle page-count mismatches (only where
/// the exhibit's latest page count check failed: a corrected `--pages`
/// stands over an earlier mismatch).
/// A needs-review note carries `file_path`, the scanned file's recorded
/// path (exact bytes when they are not UTF-8), so a terminal can show the
/// name exactly ([`review_text`] with the name escaped) where `text` has
/// it lossily.
pub fn review_notes(events: &[CustodyEvent]) -> Vec<Value> {
    let mut out = Vec::new();
    let latest_check = latest_bundle_checks(events);
    let paths = recorded_paths(events);
    for (at, e) in events.iter().enumerate() {
        let artefact = e.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.to_string());
        let ocr_text = e.ocr_params().filter(|p| p.rule.as_deref() == Some("ocr-text"));
        if let Some(ocr) = ocr_text {
            if let Some(pages) = &ocr.needs_review {
                // Ledgers since the bundle PDF/A work name the scanned file in each page entry.
                let file = pages.iter().find_map(|p| p["file"].as_str());
                let text = review_text(artefact.as_deref().unwrap_or_default(), file, pages);
                let file_path = e.inputs.first().and_then(|i| paths.get(i.id.as_str()));
                out.push(json!({"kind": "needs-review", "artefact": artefact, "pages": pages, "text": text, "file_path": file_path}));
            }
        }
        if let Outcome::Failed { reason } = &e.outcome {
            let latest = e.exhibit.as_ref().and_then(|x| latest_check.get(x.as_str())) == Some(&at);
            if latest && e.verified_params().is_some_and(|v| v.bundle.is_some()) {
                out.push(json!({"kind": "page-count-mismatch", "exhibit": e.exhibit, "text": reason}));
            }
        }
    }
    out
}

/// A needs-review note's text: `artefact A: needs-review (FILE, page 1, 3)`.
pub fn review_text(artefact: &str, file: Option<&str>, pages: &[Value]) -> String {
    let list: Vec<String> = pages.iter().filter_map(|p| p["page"].as_u64()).map(|p| (p + 1).to_string()).collect();
    let file = file.map(|f| format!("{f}, ")).unwrap_or_default();
    format!("artefact {artefact}: needs-review ({file}page {})", list.join(", "))
}

/// The recorded path of each acquired or extracted artefact, by ID.
fn recorded_paths(events: &[CustodyEvent]) -> HashMap<&str, RecordedPath> {
    events
        .iter()
        .filter(|e| matches!(e.action, Action::Acquired | Action::Extracted))
        .filter_map(|e| {
            let id = e.artefact.as_ref()?.id.as_ref()?.as_str();
            let facts = match e.typed_params().ok()? {
                EventParams::Acquired(p) => p.facts?,
                EventParams::Extracted(p) => p.facts?,
                _ => return None,
            };
            Some((id, serde_json::from_value(facts.pointer("/source/path")?.clone()).ok()?))
        })
        .collect()
}

/// The position in `events` of each exhibit's latest page count check.
fn latest_bundle_checks(events: &[CustodyEvent]) -> HashMap<&str, usize> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.verified_params().is_some_and(|v| v.bundle.is_some()))
        .filter_map(|(at, e)| Some((e.exhibit.as_ref()?.as_str(), at)))
        .collect()
}

/// One note per explored image that was truncated.
pub fn truncation_notes(events: &[CustodyEvent]) -> Vec<Value> {
    events
        .iter()
        .filter_map(|e| {
            let fact = &e.explored_params()?.truncated?;
            let image = fact["image"].as_str().unwrap_or_default();
            let strings = |key: &str| -> Vec<String> {
                fact[key].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
            };
            let (media, files) = (strings("media"), strings("files"));
            let cut = match files.len() {
                0 => "no file is cut short".to_owned(),
                n => format!("{n} file(s) cut short, kept with their missing ranges: {}", files.join(", ")),
            };
            let text = format!("image {image} is truncated ({}); {cut}", media.join("; "));
            let id = e.inputs.first().map(|i| i.id.to_string());
            Some(json!({"kind": "truncated", "exhibit": e.exhibit, "image": image, "artefact": id, "files": files, "text": text}))
        })
        .collect()
}
