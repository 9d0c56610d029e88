//! Companion discovery end to end: the operator names `x.E01` or a `.cue`
//! alone, and ingest finds the other members beside it, records that they
//! were found rather than named, and explores the complete set. A missing
//! member fails the ingest as an input error (exit 2) naming the file
//! expected, before anything is recorded.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources").join(rel)
}

/// Copies fixture files into a fresh folder of the sandbox.
fn folder_with(sb: &Sandbox, name: &str, set: &str, files: &[&str]) -> PathBuf {
    let dir = sb.dir.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    for file in files {
        std::fs::copy(fixture(set).join(file), dir.join(file)).unwrap();
    }
    dir
}

/// Every event of one action, in ledger order.
fn events(sb: &Sandbox, case: &str, action: &str) -> Vec<Value> {
    sb.ledger(case).into_iter().map(|(_, e)| e).filter(|e| e["action"] == action).collect()
}

/// Acquired file name -> the named file it was found beside, if any.
fn acquired(sb: &Sandbox, case: &str) -> Vec<(String, Option<String>)> {
    let mut found: Vec<(String, Option<String>)> = events(sb, case, "acquired")
        .iter()
        .map(|e| {
            let path = e["params"]["facts"]["source"]["path"]["display"].as_str().unwrap_or_default();
            let name = Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
            let beside = e["params"]["found_beside"].as_str().map(|p| p.rsplit('/').next().unwrap_or(p).to_owned());
            (name, beside)
        })
        .collect();
    found.sort();
    found
}

fn no_ledger(sb: &Sandbox, case: &str) -> bool {
    !sb.case_dir(case).join("ledger").exists() || sb.ledger(case).iter().all(|(_, e)| e["action"] != "acquired")
}

#[test]
fn an_e01_named_alone_brings_its_segments_and_is_explored() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "ewf", "ewf", &["split.E01", "split.E02", "split.E03"]);
    let out = sb.ingest("E01-ALONE", &dir.join("split.E01"));
    assert!(out.status.success(), "{}", stderr(&out));
    let named = Some("split.E01".to_owned());
    assert_eq!(
        acquired(&sb, "E01-ALONE"),
        [("split.E01".into(), None), ("split.E02".into(), named.clone()), ("split.E03".into(), named)]
    );
    let verified = events(&sb, "E01-ALONE", "verified");
    assert_eq!(verified.len(), 1, "{verified:#?}");
    assert_eq!(verified[0]["params"]["segments"].as_array().map(Vec::len), Some(3));
    assert_eq!(verified[0]["params"]["md5_matches"], true);
    let (code, report) = sb.verify_json("E01-ALONE");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn an_e01_set_whose_every_present_segment_is_named_is_recorded_as_truncated() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "ewf", "ewf", &["split.E01", "split.E02"]);
    let out = sb
        .exhibit()
        .args(["ingest", "--case", "E01-LOST", "--exhibit", "JS/1", "--operator", "Test"])
        .arg(dir.join("split.E01"))
        .arg(dir.join("split.E02"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(2), "the operator named the set as they hold it: {err}");
    let said = format!("{}{err}", String::from_utf8_lossy(&out.stdout));
    assert!(said.contains("truncated"), "the lost segment is reported: {said}");
    assert_eq!(acquired(&sb, "E01-LOST").len(), 2, "both segments are acquired");
}

#[test]
fn an_e01_set_missing_a_segment_is_an_input_error_naming_it() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "ewf", "ewf", &["split.E01", "split.E02"]);
    let out = sb.ingest("E01-GAP", &dir.join("split.E01"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&dir.join("split.E03").display().to_string()) && err.contains("missing"), "{err}");
    assert!(!err.contains("retr"), "a missing file is not retried: {err}");
    assert!(no_ledger(&sb, "E01-GAP"), "nothing is acquired before the set is complete");
}

#[test]
fn a_single_segment_e01_needs_no_companions() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "ewf", "ewf", &["stream.E01"]);
    let out = sb.ingest("E01-ONE", &dir.join("stream.E01"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(acquired(&sb, "E01-ONE"), [("stream.E01".into(), None)]);
}

#[test]
fn a_cue_named_alone_brings_its_bins_and_is_explored() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "disc", "cue", &["two-files.cue", "data track.bin", "audio.bin"]);
    let out = sb.ingest("CUE-ALONE", &dir.join("two-files.cue"));
    assert!(out.status.success(), "{}", stderr(&out));
    let cue = Some("two-files.cue".to_owned());
    assert_eq!(
        acquired(&sb, "CUE-ALONE"),
        [("audio.bin".into(), cue.clone()), ("data track.bin".into(), cue), ("two-files.cue".into(), None)]
    );
    let out = sb.run(&["listing", "--case", "CUE-ALONE", "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = listing["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["path"]["display"] == "/track02.wav"), "the audio track is extracted");
    let (code, report) = sb.verify_json("CUE-ALONE");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_cue_whose_bin_is_missing_is_an_input_error_naming_it() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "disc", "cue", &["two-files.cue", "data track.bin"]);
    let out = sb.ingest("CUE-GAP", &dir.join("two-files.cue"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&dir.join("audio.bin").display().to_string()) && err.contains("missing"), "{err}");
    let sandbox = sb.dir.path().to_str().unwrap();
    assert_eq!(err.matches("/tmp/").count(), err.matches(sandbox).count(), "only the operator's paths: {err}");
    assert!(!err.contains("retr"), "a missing file is not retried: {err}");
    assert!(no_ledger(&sb, "CUE-GAP"));
}

#[test]
fn a_cue_naming_a_file_outside_its_folder_is_refused() {
    let sb = Sandbox::new();
    let dir = sb.dir.path().join("hostile");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(sb.dir.path().join("secret.bin"), [0u8; 2352]).unwrap();
    std::fs::write(dir.join("evil.cue"), "FILE \"../secret.bin\" BINARY\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n")
        .unwrap();
    let out = sb.ingest("CUE-EVIL", &dir.join("evil.cue"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a file beside it"), "{err}");
    assert!(no_ledger(&sb, "CUE-EVIL"));
}

#[test]
fn a_lost_middle_segment_is_named_although_later_segments_are_beside_it() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "ewf", "ewf", &["split.E01", "split.E03"]);
    std::fs::copy(fixture("ewf").join("split.E03"), dir.join("split.E04")).unwrap();
    let out = sb.ingest("E01-MID", &dir.join("split.E01"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&dir.join("split.E02").display().to_string()) && err.contains("missing"), "{err}");
    assert!(no_ledger(&sb, "E01-MID"), "nothing is acquired, the later segments are not left out unmentioned");
}

/// A stray cue sheet on a stick, its bin gone: the sheet is stored as a
/// file and reported as an incomplete set; the rest of the folder goes in.
#[test]
fn an_incomplete_set_in_a_folder_fails_only_itself() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "stick", "cue", &["two-files.cue", "data track.bin"]);
    std::fs::write(dir.join("letter.txt"), "Dear Sir,\n").unwrap();
    let out = sb.ingest("CUE-STICK", &dir);
    let (err, text) = (stderr(&out), String::from_utf8_lossy(&out.stdout).into_owned());
    assert_eq!(out.status.code(), Some(3), "needs attention, not failed: {text}{err}");
    assert!(text.contains("incomplete-set") && text.contains("audio.bin"), "{text}");
    let names: Vec<String> = acquired(&sb, "CUE-STICK").into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["data track.bin", "letter.txt", "two-files.cue"], "every file is stored");
    let faults: Vec<Value> = events(&sb, "CUE-STICK", "failed");
    assert_eq!(faults.len(), 1, "{faults:#?}");
    assert_eq!(faults[0]["params"]["fault"], "incomplete-set");
    // A rerun records nothing twice.
    let again = sb.ingest("CUE-STICK", &dir);
    assert_eq!(again.status.code(), Some(3), "{}", stderr(&again));
    assert_eq!(events(&sb, "CUE-STICK", "failed").len(), 1);
}

/// Later segments of an E01 set without the first (attack pass on issue
/// 13): in a folder, they are stored as files and the set is reported as
/// incomplete, naming the first segment; named alone, the ingest is an
/// input error naming it. Before, both were a clean ingest of plain files.
#[test]
fn later_segments_without_the_first_are_an_incomplete_set_naming_it() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "stick", "ewf", &["split.E02", "split.E03"]);
    std::fs::write(dir.join("split.E04"), "not a segment, though named like one").unwrap();
    let out = sb.ingest("E01-HEADLESS", &dir);
    let (err, text) = (stderr(&out), String::from_utf8_lossy(&out.stdout).into_owned());
    assert_eq!(out.status.code(), Some(3), "needs attention: {text}{err}");
    assert!(text.contains("incomplete-set") && text.contains("split.E01"), "{text}");
    let faults = events(&sb, "E01-HEADLESS", "failed");
    assert_eq!(faults.len(), 1, "one set, one fault: {faults:#?}");
    assert_eq!(acquired(&sb, "E01-HEADLESS").len(), 3, "every file is stored");

    let named = sb.ingest("E01-HEADLESS-2", &dir.join("split.E02"));
    let err = stderr(&named);
    assert_eq!(named.status.code(), Some(2), "{err}");
    assert!(err.contains(&dir.join("split.E01").display().to_string()) && err.contains("missing"), "{err}");
    assert!(no_ledger(&sb, "E01-HEADLESS-2"));
}

/// An E01 set with a changed byte in a stored chunk (attack pass on issue
/// 13): damage to the evidence, listed for a person on every run (exit 3),
/// never a failure a rerun could fix (exit 2, then 3 on the rerun, as
/// before), and flagged on the set in `show --flag damaged-media`.
#[test]
fn a_damaged_chunk_in_an_e01_set_reads_the_same_on_every_run_and_is_flagged() {
    let sb = Sandbox::new();
    let dir = folder_with(&sb, "ewf", "ewf", &["split.E01", "split.E02", "split.E03"]);
    let segment = dir.join("split.E02");
    let mut bytes = std::fs::read(&segment).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&segment, bytes).unwrap();
    for run in ["first", "rerun"] {
        let out = sb.ingest("E01-DAMAGED", &dir.join("split.E01"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(3), "{run}: {text}{}", stderr(&out));
        assert!(text.contains("damaged-media") && text.contains("fail their checksums"), "{run}: {text}");
        assert!(text.contains("image the original again") && !text.contains("access copy"), "{run}: {text}");
        assert!(!text.contains("rerun the same command"), "{run}: not a failure to retry: {text}");
    }
    for flag in ["damaged-media", "damaged"] {
        let shown = sb.run(&["show", "--case", "E01-DAMAGED", "--flag", flag]);
        let text = String::from_utf8_lossy(&shown.stdout).into_owned();
        assert!(text.contains("1 artefact(s) flagged") && text.contains("split.E01"), "--flag {flag}: {text}");
    }
}
