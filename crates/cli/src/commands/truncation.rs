//! Truncated evidence, as the ledger records it: images that hold less
//! than their volumes (or E01 sets) declare, and the files they cut short.
//! Not a failure (a rerun cannot change it), so `show` and `verify` name
//! it as a note and ingest as a line that needs attention (exit 3).

use exhibit_core::event::CustodyEvent;
use serde_json::{Value, json};

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
