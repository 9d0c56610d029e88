//! One test per kind of damage: each makes `exhibit verify` exit 1 and name
//! the exact artefact or entry.

use serde_json::Value;

use crate::common::{Sandbox, overwrite, problems, stderr};

const CASE: &str = "T20247001";

/// A sandbox with a verified-clean ingest, and the first regular artefact.
fn ingested() -> (Sandbox, Value) {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = sb.ingest(CASE, &src);
    assert!(out.status.success(), "ingest: {}", stderr(&out));
    let listing = sb.show_json(CASE);
    let artefact = listing["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"]["name"]["display"] == "statement.txt")
        .cloned()
        .unwrap();
    (sb, artefact)
}

fn object_path(sb: &Sandbox, artefact: &Value) -> std::path::PathBuf {
    sb.case_dir(CASE).join("objects/sha256").join(artefact["digests"]["sha256"].as_str().unwrap())
}

/// The ledger's entry files in order (a batch entry holds many events).
fn entry_files(sb: &Sandbox) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = sb.ledger(CASE).into_iter().map(|(p, _)| p).collect();
    files.dedup();
    assert!(files.len() >= 4, "the case needs four entries: {files:?}");
    files
}

fn expect_failure(sb: &Sandbox, kind: &str) -> Vec<Value> {
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "verify should fail with {kind}: {report:#}");
    let found: Vec<Value> = problems(&report, kind).into_iter().cloned().collect();
    assert!(!found.is_empty(), "no {kind} problem in {report:#}");
    found
}

#[test]
fn clean_case_verifies() {
    let (sb, _) = ingested();
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
    assert!(report["problems"].as_array().unwrap().is_empty());
    let trusted = sb.trusted_keys();
    let text = sb.run(&["verify", "--case", CASE, "--trusted-keys", trusted.to_str().unwrap()]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("OK: "));
}

#[test]
fn flipped_byte_in_object_names_the_artefact() {
    let (sb, artefact) = ingested();
    let path = object_path(&sb, &artefact);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[3] ^= 0x01;
    overwrite(&path, &bytes);
    let found = expect_failure(&sb, "object-altered");
    assert_eq!(found[0]["sha256"], artefact["digests"]["sha256"]);
    assert!(found[0]["artefacts"].as_array().unwrap().contains(&artefact["id"]), "{found:?}");
}

#[test]
fn deleted_object_names_the_artefact() {
    let (sb, artefact) = ingested();
    std::fs::remove_file(object_path(&sb, &artefact)).unwrap();
    let found = expect_failure(&sb, "object-missing");
    assert_eq!(found[0]["sha256"], artefact["digests"]["sha256"]);
    assert!(found[0]["artefacts"].as_array().unwrap().contains(&artefact["id"]));
}

#[test]
fn unrecorded_object_is_reported() {
    let (sb, _) = ingested();
    let content = b"planted after the fact";
    let hex = exhibit_core::Sha256Digest::of(content).to_hex();
    std::fs::write(sb.case_dir(CASE).join("objects/sha256").join(&hex), content).unwrap();
    let found = expect_failure(&sb, "object-not-in-ledger");
    assert!(found[0]["key"].as_str().unwrap().ends_with(&hex));
}

#[test]
fn edited_manifest_names_the_artefact() {
    let (sb, artefact) = ingested();
    let id = artefact["id"].as_str().unwrap();
    let path = sb.case_dir(CASE).join("artefacts").join(format!("{id}.json"));
    let text = std::fs::read_to_string(&path).unwrap().replace("Test Officer", "Someone Else");
    overwrite(&path, text.as_bytes());
    let found = expect_failure(&sb, "manifest-altered");
    assert_eq!(found[0]["artefact"], artefact["id"]);
}

#[test]
fn edited_entry_is_named() {
    let (sb, _) = ingested();
    // ledger() lists events; which entry holds the third depends on how
    // group commit batched them, so the entry is named by its own seq.
    let (path, event) = &sb.ledger(CASE)[2];
    let seq = event["seq"].as_u64().unwrap();
    let text = std::fs::read_to_string(path).unwrap().replace("Test Officer", "Test Offic3r");
    overwrite(path, text.as_bytes());
    let found = expect_failure(&sb, "entry-altered");
    assert_eq!(found[0]["seq"], seq);
}

#[test]
fn deleted_entry_is_named() {
    let (sb, _) = ingested();
    let (path, event) = &sb.ledger(CASE)[2];
    let seq = event["seq"].as_u64().unwrap();
    std::fs::remove_file(path).unwrap();
    let found = expect_failure(&sb, "entry-missing");
    assert_eq!(found[0]["seq"], seq);
}

#[test]
fn swapped_entries_are_named() {
    let (sb, _) = ingested();
    let files = entry_files(&sb);
    let (a, b) = (&files[2], &files[3]);
    let (bytes_a, bytes_b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    overwrite(a, &bytes_b);
    overwrite(b, &bytes_a);
    let found = expect_failure(&sb, "entries-reordered");
    let seqs: Vec<_> = found.iter().map(|p| p["seq"].as_u64().unwrap()).collect();
    assert!(seqs.contains(&3) && seqs.contains(&4), "{found:?}");
}

#[test]
fn replaced_signature_is_named() {
    let (sb, _) = ingested();
    let files = entry_files(&sb);
    let read = |p: &std::path::PathBuf| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let (path, mut entry) = (files[2].clone(), read(&files[2]));
    entry["sig"] = read(&files[3])["sig"].clone();
    overwrite(&path, &exhibit_core::canonical::to_canonical_vec(&entry).unwrap());
    let found = expect_failure(&sb, "bad-signature");
    assert_eq!(found[0]["seq"], 3);
    let (_, report) = sb.verify_json(CASE);
    assert!(
        problems(&report, "entry-altered").is_empty(),
        "a replaced signature alone is not an altered entry: {report:#}"
    );
}
