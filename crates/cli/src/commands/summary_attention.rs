//! The ledger facts of an exhibit that need a person: damaged or truncated
//! evidence, media nothing could convert, pages OCR was unsure of, a
//! bundle whose page count does not match, and a file whose name's
//! extension does not fit its content. Each comes with what to do.

use std::collections::{HashMap, HashSet};

use exhibit_app::page_review::review_advice;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::ArtefactId;
use exhibit_core::params::FailedParams;
use exhibit_pipeline::{FAULT_DAMAGED, FAULT_INCOMPLETE_SET, FAULT_LIMIT, FAULT_NOT_A_FILE, FAULT_UNCONVERTED};

use super::summary::Attention;

const TRUNCATED: &str = "the image holds less than it declares; what it holds is stored. Look for a fuller copy of the media (a missing segment, a better read) and ingest it as well; tell the examiner which files are cut short";
const DAMAGED_RECORD: &str = "the record is damaged on the evidence itself and cannot be read from this copy; the rest of the image is stored. Note it for the examiner, or ingest a better copy of the media if one exists";
const DAMAGED_IMAGE: &str = "the image set no longer holds what was acquired: a chunk fails its checksum, or the media hash differs from the one the imaging tool stored. A file over a damaged chunk is listed as a damaged record; the others were read. Get a fresh copy of the set (or image the original again) if there is one, and note the damage for the examiner";
const DAMAGED_MEDIA: &str = "the source is damaged; the access copy holds what could be decoded. Compare it with the original before relying on it";
const UNCONVERTED: &str = "no decoder accepts it, so it has no access copy or text; the original is stored intact. Open it with a tool that knows its format";
const UNIDENTIFIED: &str = "its signature claims audio or video, but libavformat opens no stream of it that decodes: it is typed application/octet-stream and gets no access copy; the original is stored intact. It may be damaged, or not media at all; open it with a tool that knows the claimed format";
const LIMIT: &str = "a configured limit refused it (the limit and its key are named above), and a rerun with the same configuration refuses it again. If the evidence is genuine, raise that key in the configuration (see config/exhibit.toml) and ingest again";
const NOT_A_FILE: &str = "a FIFO, socket or device node holds no content to store: its name is in the ledger and nothing was read. Nothing to do unless the exhibit needs what a program wrote to it; a rerun reads it the same way";
const INCOMPLETE_SET: &str = "a set in the folder lacks a member (named above): its head is stored as a file, but the medium it describes cannot be read from what is here. Find the missing file, put it beside the head and ingest the folder again";
const EXTENSION: &str = "the file name says one format and the content is another: it may be renamed to hide it, or damaged. Open it as what the content is (see its PUID in `exhibit show`), and note the name for the examiner";
const BUNDLE_MISSING: &str = "a page file of the bundle's folder is not in its searchable PDF (reason above). Rescan or replace that page and ingest the folder again: a new bundle PDF is made beside this one";
const PAGES: &str =
    "count the paper bundle; scan any page that is missing and ingest it, or rerun with the right --pages";

/// Every attention item the exhibit's events hold, without repeats.
pub fn from_events(events: &[CustodyEvent], labels: &HashMap<String, String>) -> Vec<Attention> {
    let label = |id: Option<&ArtefactId>| {
        id.map(|id| labels.get(&id.to_string()).cloned().unwrap_or_else(|| id.to_string())).unwrap_or_default()
    };
    let mut out: Vec<Attention> = Vec::new();
    let mut push = |kind, what: String, text: String, advice: &str| {
        if !out.iter().any(|a| a.kind == kind && a.text == text) {
            out.push(Attention { kind, what, text, advice: advice.to_owned(), shown: None });
        }
    };
    for note in super::truncation::truncation_notes(events) {
        let text = note["text"].as_str().unwrap_or_default().to_owned();
        push("truncated", note["image"].as_str().unwrap_or_default().to_owned(), text, TRUNCATED);
    }
    let resolved = failures_done_since(events);
    let mut shown: Vec<(&str, String, String)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let input = subject(e, &label);
        match (&e.action, &e.outcome) {
            (Action::Failed, Outcome::Failed { .. }) if resolved.contains(&i) => {}
            (Action::Failed, Outcome::Failed { reason }) => {
                let fault = e.failed_params().and_then(|p| p.fault);
                if let Some((kind, advice)) = fault_attention(fault.as_deref()) {
                    push(kind, input, reason.clone(), advice);
                    // Shown from the path's recorded bytes, as `show` shows it.
                    let name = e.failed_params().and_then(|p| p.input_path_bytes()).unwrap_or_default();
                    shown.push((kind, reason.clone(), crate::failure_text::failure_text(&name, reason)));
                }
            }
            // An E01 set whose media no longer matches the hash it stores.
            (Action::Verified, Outcome::Failed { reason })
                if e.verified_params().is_some_and(|v| v.segments.is_some()) =>
            {
                push("damaged-media", input, reason.clone(), DAMAGED_IMAGE);
            }
            (Action::Transcoded, Outcome::Ok) if flagged(e, "damaged") => {
                let text = format!("the access copy of {input} is flagged damaged");
                push("damaged-media", input, text, DAMAGED_MEDIA);
            }
            (Action::Identified, Outcome::Ok) => {
                let what = label(e.artefact.as_ref().and_then(|a| a.id.as_ref()));
                let params = e.identified_params().unwrap_or_default();
                if let Some(text) = params.extension_mismatch {
                    push("extension-mismatch", what.clone(), format!("{what}: {text}"), EXTENSION);
                }
                if let Some(text) = params.unidentified {
                    push("unidentified", what.clone(), format!("{what}: {text}"), UNIDENTIFIED);
                }
            }
            (Action::Ocr, Outcome::Ok) => {
                for (page, reason) in review_pages(e) {
                    let advice = review_advice(reason.as_deref());
                    push("needs-review", input.clone(), format!("{input} page {page}: needs review"), advice);
                }
            }
            _ => {}
        }
    }
    for (folder, text) in incomplete_bundles(events) {
        push("page-count-mismatch", folder, text, BUNDLE_MISSING);
    }
    if let Some(check) = events.iter().rev().find(|e| e.verified_params().is_some_and(|v| v.bundle.is_some())) {
        if let Outcome::Failed { reason } = &check.outcome {
            let what = check.exhibit.as_ref().map(|x| format!("exhibit {x}")).unwrap_or_default();
            push("page-count-mismatch", what, reason.clone(), PAGES);
        }
    }
    for (kind, text, line) in shown {
        if let Some(item) = out.iter_mut().find(|a| a.kind == kind && a.text == text) {
            item.shown = Some(line);
        }
    }
    out
}

/// The attention kind (the summary's word) and advice of a recorded
/// evidence fault; `None` for a plain failure.
fn fault_attention(fault: Option<&str>) -> Option<(&'static str, &'static str)> {
    Some(match fault? {
        FAULT_DAMAGED => ("damaged-record", DAMAGED_RECORD),
        FAULT_UNCONVERTED => ("unconverted", UNCONVERTED),
        FAULT_LIMIT => ("limit", LIMIT),
        FAULT_INCOMPLETE_SET => ("incomplete-set", INCOMPLETE_SET),
        FAULT_NOT_A_FILE => ("not-a-file", NOT_A_FILE),
        _ => return None,
    })
}

/// The summary's word for a recorded evidence fault (`limit`,
/// `unconverted`, ...), which `show` uses too; `None` for a plain failure.
pub fn fault_word(fault: Option<&str>) -> Option<&'static str> {
    fault_attention(fault).map(|(kind, _)| kind)
}

/// The positions in `events` of failures whose job completed after them
/// (the rule the API and dashboard share, on the read model).
pub use exhibit_app::readmodel::failures_done_since;

/// What an event is about: the artefact it read (with the path inside it
/// for a failed record), else the job input it names (a failed derive
/// job), by path where the exhibit knows it.
fn subject(e: &CustodyEvent, label: &impl Fn(Option<&ArtefactId>) -> String) -> String {
    let failed = e.failed_params();
    let input = failed.as_ref().and_then(|f| f.input.as_ref());
    let path = failed.as_ref().and_then(FailedParams::input_path);
    if let Some(first) = e.inputs.first() {
        // A record inside an image: the image, then the path inside it.
        let image = label(Some(&first.id));
        return path.filter(|_| e.action == Action::Failed).map_or(image.clone(), |p| format!("{image} > {p}"));
    }
    let artefact = input.and_then(|i| i.get("artefact")).and_then(|a| a.as_str());
    let from_id = artefact.and_then(|a| serde_json::from_value::<ArtefactId>(a.into()).ok());
    match (from_id, path) {
        (Some(id), _) => label(Some(&id)),
        (None, Some(path)) => path.to_owned(),
        (None, None) => String::new(),
    }
}

fn flagged(e: &CustodyEvent, flag: &str) -> bool {
    e.transcoded_params().and_then(|p| p.flags).is_some_and(|f| f.iter().any(|x| x == flag))
}

/// Pages (from 1) an `ocr-text` event marks for review.
fn review_pages(e: &CustodyEvent) -> Vec<(u64, Option<String>)> {
    let Some(ocr) = e.ocr_params().filter(|p| p.rule.as_deref() == Some("ocr-text")) else {
        return Vec::new();
    };
    let page = |v: &serde_json::Value| Some((v["page"].as_u64()? + 1, v["reason"].as_str().map(str::to_owned)));
    ocr.needs_review.as_ref().map(|p| p.iter().filter_map(page).collect()).unwrap_or_default()
}

/// Facts a person should know that need no action, e.g. a PDF that is
/// already text and so was not OCRed (`[ocr] ocr_pages_with_text`). A
/// "not OCRed" note of a file in `ocred` (it has OCR text since) is
/// superseded and left out.
pub fn notes_from_events(
    events: &[CustodyEvent],
    labels: &HashMap<String, String>,
    ocred: &HashSet<String>,
) -> Vec<String> {
    let label = |id: Option<&ArtefactId>| {
        id.map(|id| labels.get(&id.to_string()).cloned().unwrap_or_else(|| id.to_string())).unwrap_or_default()
    };
    let mut out: Vec<String> = Vec::new();
    for e in events.iter().filter(|e| e.action == Action::Ocr && matches!(e.outcome, Outcome::Ok)) {
        if e.inputs.first().is_some_and(|i| ocred.contains(i.id.as_str())) {
            continue;
        }
        if let Some(reason) = e.ocr_params().and_then(|p| p.not_ocred) {
            let note = format!("{}: {reason}", subject(e, &label));
            if !out.contains(&note) {
                out.push(note);
            }
        }
    }
    out
}

/// The files among `events` that have an OCR text output.
pub fn ocred_inputs(events: &[CustodyEvent]) -> HashSet<String> {
    let text = |e: &&CustodyEvent| e.ocr_params().is_some_and(|p| p.rule.as_deref() == Some("ocr-text"));
    events.iter().filter(text).filter_map(|e| e.inputs.first()).map(|i| i.id.to_string()).collect()
}

/// The latest bundle PDF of each folder that lacks page files, as
/// (folder, "bundle scans/: 4 of 5 page files ...; missing: ...").
fn incomplete_bundles(events: &[CustodyEvent]) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    let bundle_files = |e: &CustodyEvent| {
        let params = e.ocr_params().filter(|p| p.rule.as_deref() == Some(exhibit_ocr::BUNDLE_RULE))?;
        params.bundle_files
    };
    let bundles = events.iter().rev().filter(|e| e.action == Action::Ocr);
    for bundle in bundles.filter_map(bundle_files) {
        let folder = bundle["folder"].as_str().unwrap_or_default().to_owned();
        let missing = bundle["missing"].as_array().cloned().unwrap_or_default();
        if !seen.insert(folder.clone()) || missing.is_empty() {
            continue;
        }
        let files = bundle["page_files"].as_u64().unwrap_or_default();
        let named: Vec<String> = missing
            .iter()
            .map(|m| format!("{} ({})", m["path"].as_str().unwrap_or_default(), m["why"].as_str().unwrap_or_default()))
            .collect();
        let text = format!(
            "bundle {folder}: page count mismatch: {} of {files} page files are in its searchable PDF; missing: {}",
            files.saturating_sub(missing.len() as u64),
            named.join("; ")
        );
        out.push((format!("bundle {folder}"), text));
    }
    out
}
