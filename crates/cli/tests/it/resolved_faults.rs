//! A limit refusal resolved by a later run (the key raised) stops needing
//! attention in the summary and in `show`, and an evidence fault is
//! recorded once: a rerun under the same settings appends nothing.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, fixture, stderr};
use crate::scan_desk::white_png;

fn ingest(sb: &Sandbox, case: &str, src: &Path, env: &[(&str, &str)]) -> (Output, Value) {
    let mut cmd = sb.exhibit();
    cmd.args(["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer", "--json"]).arg(src);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().expect("run exhibit");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out, doc)
}

fn kinds(doc: &Value) -> Vec<String> {
    doc["attention"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap().to_owned()).collect()
}

fn failed_events(sb: &Sandbox, case: &str) -> usize {
    sb.ledger(case).iter().filter(|(_, e)| e["action"] == "failed").count()
}

/// What `show` says about the case: its text, and `--flag limit`'s.
fn shown(sb: &Sandbox, case: &str) -> (String, String, Value) {
    let text = sb.run(&["show", "--case", case]);
    let flagged = sb.run(&["show", "--case", case, "--flag", "limit"]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    (text, String::from_utf8_lossy(&flagged.stdout).into_owned(), sb.show_json(case))
}

fn folder(sb: &Sandbox, name: &str, file: &str, bytes: &[u8]) -> PathBuf {
    let src = sb.dir.path().join(name);
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(file), bytes).unwrap();
    src
}

/// A scan over `ocr.max_pixels`, OCRed once the key is raised, is no
/// longer a `limit` anywhere: the OCR job's success is one batch entry
/// whose job ID is on its last event only.
#[test]
fn a_scan_refused_by_max_pixels_then_ocred_is_resolved_in_the_summary_and_show() {
    let sb = Sandbox::new();
    let src = folder(&sb, "scans", "big scan.png", &white_png(800, 600));
    let (out, doc) = ingest(&sb, "RES-OCR", &src, &[("EXHIBIT__OCR__MAX_PIXELS", "100000")]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    assert!(kinds(&doc).contains(&"limit".to_owned()), "{doc:#}");
    let (_, doc) = ingest(&sb, "RES-OCR", &src, &[]);
    assert!(!kinds(&doc).contains(&"limit".to_owned()), "resolved: {doc:#}");
    let ocr = sb.ledger("RES-OCR").into_iter().filter(|(_, e)| e["action"] == "ocr").count();
    assert!(ocr >= 3, "OCRed once the key is raised");
    let (_, doc) = ingest(&sb, "RES-OCR", &src, &[]);
    assert!(!kinds(&doc).contains(&"limit".to_owned()), "resolved on a later run too: {doc:#}");
    let (text, flagged, json) = shown(&sb, "RES-OCR");
    assert!(!text.contains("[limit]") && !text.contains("failed:"), "{text}");
    assert!(!flagged.contains("big scan.png"), "{flagged}");
    assert_eq!(json["failures"].as_array().unwrap().len(), 0, "{json:#}");
}

/// A recording over `transcode.max_duration`, converted once the key is
/// raised: `show` and `show --flag limit` agree with the clean summary.
#[test]
fn a_recording_refused_by_max_duration_then_converted_is_resolved_in_show() {
    let sb = Sandbox::new();
    let src = folder(&sb, "media", "voicemail_u8.wav", &std::fs::read(fixture("media/voicemail_u8.wav")).unwrap());
    let (out, doc) = ingest(&sb, "RES-AV", &src, &[("EXHIBIT__TRANSCODE__MAX_DURATION", "1")]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    let (out, doc) = ingest(&sb, "RES-AV", &src, &[]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    let (text, flagged, json) = shown(&sb, "RES-AV");
    assert!(!text.contains("[limit]") && !text.contains("failed:"), "{text}");
    assert!(!flagged.contains("voicemail_u8.wav"), "{flagged}");
    assert_eq!(json["failures"].as_array().unwrap().len(), 0, "{json:#}");
}

/// Limit refusals of OCR and transcode are recorded once, as a `not-a-file`
/// fault is: a rerun under the same settings appends nothing and still
/// lists them; raising the key lets the jobs run again.
#[test]
fn a_limit_refusal_is_recorded_once_and_runs_again_when_the_key_changes() {
    let sb = Sandbox::new();
    let src = folder(&sb, "mixed", "big scan.png", &white_png(800, 600));
    std::fs::copy(fixture("media/voicemail_u8.wav"), src.join("voicemail_u8.wav")).unwrap();
    let low = [("EXHIBIT__OCR__MAX_PIXELS", "100000"), ("EXHIBIT__TRANSCODE__MAX_DURATION", "1")];
    let (out, doc) = ingest(&sb, "RES-ONCE", &src, &low);
    assert_eq!(out.status.code(), Some(3), "{doc:#}");
    assert_eq!(failed_events(&sb, "RES-ONCE"), 2);
    let entries = sb.ledger("RES-ONCE").len();
    for _ in 0..2 {
        let (out, doc) = ingest(&sb, "RES-ONCE", &src, &low);
        assert_eq!(out.status.code(), Some(3), "{doc:#}");
        assert_eq!(kinds(&doc).iter().filter(|k| *k == "limit").count(), 2, "still listed: {doc:#}");
        assert_eq!(sb.ledger("RES-ONCE").len(), entries, "a rerun under the same limits records nothing");
    }
    let (_, doc) = ingest(&sb, "RES-ONCE", &src, &[("EXHIBIT__OCR__MAX_PIXELS", "200000")]);
    assert_eq!(failed_events(&sb, "RES-ONCE"), 3, "another limit is tried again: {doc:#}");
    let (_, doc) = ingest(&sb, "RES-ONCE", &src, &[]);
    assert!(!kinds(&doc).contains(&"limit".to_owned()), "{doc:#}");
    assert_eq!(failed_events(&sb, "RES-ONCE"), 3);
}

/// A born-digital PDF first left as already text, then OCRed once
/// `ocr_pages_with_text` is on: the stale "not OCRed" note goes from the
/// summary, `--json` and `show`.
#[test]
fn a_pdf_ocred_after_an_already_text_note_loses_the_note() {
    let sb = Sandbox::new();
    let born = crate::ocr::text_pdf("BT /F1 24 Tf 72 700 Td (Born digital text page) Tj ET");
    let src = crate::ocr::scans_folder(&sb, &[("born.pdf", born)]);
    let (_, doc) = ingest(&sb, "RES-NOTE", &src, &[]);
    assert!(doc.to_string().contains("already text"), "{doc:#}");
    let (_, doc) = ingest(&sb, "RES-NOTE", &src, &[("EXHIBIT__OCR__OCR_PAGES_WITH_TEXT", "true")]);
    assert!(!crate::ocr::derivatives(&sb.show_json("RES-NOTE")).is_empty(), "OCRed");
    assert!(!doc.to_string().contains("already text"), "{doc:#}");
    let (text, _, json) = shown(&sb, "RES-NOTE");
    assert!(!text.contains("already text"), "{text}");
    assert!(!json["notes"].to_string().contains("already text"), "{json:#}");
}
