//! The derivation policy is part of derive job IDs: a changed
//! `normalisation.toml` derives new outputs beside the old ones, and an
//! unchanged one reruns nothing.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Sandbox, stderr};

const POLICY: &str = include_str!("../../../../config/normalisation.toml");

/// One CD audio track in its own folder.
fn audio_source(sb: &Sandbox) -> PathBuf {
    let src = sb.dir.path().join("audio");
    std::fs::create_dir_all(&src).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media/cdda.wav");
    std::fs::copy(fixture, src.join("track01.wav")).unwrap();
    src
}

fn ingest_with_policy(sb: &Sandbox, src: &Path, policy: &Path) {
    let out = sb
        .exhibit()
        .env("EXHIBIT__TRANSCODE__POLICY_FILE", policy)
        .args(["ingest", "--case", "POL-1", "--exhibit", "JS/1", "--operator", "Test Officer"])
        .arg(src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// (policy version, rule) of every derivative, sorted.
fn derivatives(sb: &Sandbox) -> Vec<(String, String)> {
    let shown = sb.show_json("POL-1");
    let mut found: Vec<(String, String)> = shown["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "derivative")
        .map(|a| (text(&a["derivation"]["policy_version"]), text(&a["derivation"]["rule"])))
        .collect();
    found.sort();
    found
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_changed_normalisation_policy_derives_new_outputs_and_keeps_the_old() {
    let sb = Sandbox::new();
    let src = audio_source(&sb);
    let policy = sb.dir.path().join("normalisation.toml");
    std::fs::write(&policy, POLICY).unwrap();
    ingest_with_policy(&sb, &src, &policy);
    let first = derivatives(&sb);
    assert!(!first.is_empty() && first.iter().all(|(v, _)| v == "2"), "{first:?}");

    ingest_with_policy(&sb, &src, &policy);
    assert_eq!(derivatives(&sb), first, "the same policy derives nothing new");

    // A new version and a different FLAC setting: a policy that shapes the
    // outputs differently.
    let changed = POLICY.replacen("version = \"2\"", "version = \"3-test\"", 1);
    assert_ne!(changed, POLICY);
    std::fs::write(&policy, changed).unwrap();
    ingest_with_policy(&sb, &src, &policy);
    let second = derivatives(&sb);
    let old: Vec<_> = second.iter().filter(|(v, _)| v == "2").cloned().collect();
    let new: Vec<_> = second.iter().filter(|(v, _)| v == "3-test").map(|(_, r)| r.clone()).collect();
    assert_eq!(old, first, "the old derivatives stay");
    let rules: Vec<_> = first.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(new, rules, "each rule derived again under the new policy");

    ingest_with_policy(&sb, &src, &policy);
    assert_eq!(derivatives(&sb), second, "a rerun under the changed policy derives nothing new");
    let (code, report) = sb.verify_json("POL-1");
    assert_eq!(code, 0, "{report:#}");
}
