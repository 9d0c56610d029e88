//! Shared helpers: paths, the default policy, ffprobe.

use std::path::{Path, PathBuf};
use std::process::Command;

use exhibit_transcode::{Limits, Policy, TranscodeOutcome, load_policy, transcode};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/media").join(name)
}

pub fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

pub fn policy() -> Policy {
    load_policy(&root().join("config/normalisation.toml")).expect("default policy loads")
}

/// The default policy with the optional FFV1 preservation copy turned on.
pub fn policy_with_preservation() -> Policy {
    let mut p = policy();
    for r in &mut p.rules {
        r.enabled = true;
    }
    p
}

pub fn run(input: &Path, policy: &Policy) -> (tempfile::TempDir, TranscodeOutcome) {
    let dir = tempfile::tempdir().unwrap();
    let outcome = transcode(input, policy, dir.path(), &Limits::default())
        .unwrap_or_else(|e| panic!("transcode {} failed: {e}", input.display()));
    (dir, outcome)
}

/// What ffprobe says about a file: (format, [(codec_type, codec_name)], duration seconds).
pub struct Probed {
    pub format: String,
    pub streams: Vec<(String, String)>,
    pub duration: f64,
}

pub fn ffprobe(path: &Path) -> Option<Probed> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json", "-show_format", "-show_streams"])
        .arg(path)
        .output()
        .ok()?;
    assert!(out.status.success(), "ffprobe cannot read {}", path.display());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = v["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["codec_type"].as_str().unwrap().to_owned(), s["codec_name"].as_str().unwrap().to_owned()))
        .collect();
    Some(Probed {
        format: v["format"]["format_name"].as_str().unwrap().to_owned(),
        streams,
        duration: v["format"]["duration"].as_str().unwrap().parse().unwrap(),
    })
}
