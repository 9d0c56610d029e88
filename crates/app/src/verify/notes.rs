//! Notes of a verify run: things a person should look at that are not
//! damage (OCR pages flagged for review, a bundle whose page count differs
//! from the operator's, images that hold less than they declare). A rerun
//! cannot change them, so they never fail a check.

use exhibit_core::event::{CustodyEvent, Outcome};
use serde_json::{Value, json};

/// Pages flagged for review and bundle page-count mismatches (only where
/// the exhibit's latest page count check failed: a corrected `--pages`
/// stands over an earlier mismatch).
pub fn review_notes(events: &[CustodyEvent]) -> Vec<Value> {
    let mut out = Vec::new();
    let latest_check = latest_bundle_checks(events);
    for (at, e) in events.iter().enumerate() {
        let artefact = e.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.to_string());
        let ocr_text = e.ocr_params().filter(|p| p.rule.as_deref() == Some("ocr-text"));
        if let Some(ocr) = ocr_text {
            if let Some(pages) = &ocr.needs_review {
                let list: Vec<String> =
                    pages.iter().filter_map(|p| p["page"].as_u64()).map(|p| (p + 1).to_string()).collect();
                // Ledgers since the bundle PDF/A work name the scanned file in each page entry.
                let file = pages.iter().find_map(|p| p["file"].as_str()).map(|f| format!("{f}, "));
                let text = format!(
                    "artefact {}: needs-review ({}page {})",
                    artefact.clone().unwrap_or_default(),
                    file.unwrap_or_default(),
                    list.join(", ")
                );
                out.push(json!({"kind": "needs-review", "artefact": artefact, "pages": pages, "text": text}));
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

/// The position in `events` of each exhibit's latest page count check.
fn latest_bundle_checks(events: &[CustodyEvent]) -> std::collections::HashMap<&str, usize> {
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
