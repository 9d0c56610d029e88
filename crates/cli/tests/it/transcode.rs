//! Audio and video end to end: ingest makes access (and preservation)
//! copies as derivatives, and `exhibit reproduce` re-derives them to the
//! same hash.

use std::path::Path;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn media(sb: &Sandbox, names: &[&str]) -> std::path::PathBuf {
    let src = sb.dir.path().join("media");
    std::fs::create_dir_all(&src).unwrap();
    for name in names {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media").join(name);
        std::fs::copy(from, src.join(name)).unwrap();
    }
    src
}

fn derivatives(shown: &Value) -> Vec<Value> {
    shown["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "derivative").cloned().collect()
}

#[test]
fn video_and_audio_get_access_copies_that_reproduce() {
    let sb = Sandbox::new();
    let src = media(&sb, &["mpeg4_mp3.avi", "cdda.wav", "truncated_mpeg4_mp3.avi"]);
    let out = sb.ingest("AV-1", &src);
    // The damaged source's copy needs a person's attention: exit 3.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("damaged-media: the access copy of") && table.contains("truncated_mpeg4_mp3.avi"),
        "{table}"
    );
    let shown = sb.show_json("AV-1");
    let derived = derivatives(&shown);
    let mimes: Vec<&str> = derived.iter().map(|d| d["media_type"]["mime"].as_str().unwrap()).collect();
    assert!(mimes.contains(&"video/mp4") && mimes.contains(&"audio/flac"), "{mimes:?}");
    assert!(derived.iter().all(|d| d["parent"]["id"].is_string() && d["derivation"]["policy_version"] == "2"));
    assert!(
        derived.iter().any(|d| d["flags"].as_array().is_some_and(|f| f.contains(&"damaged".into()))),
        "the truncated source is flagged"
    );
    let (code, report) = sb.verify_json("AV-1");
    assert_eq!(code, 0, "{report:#}");
    let access = derived.iter().find(|d| d["derivation"]["rule"] == "video-access").unwrap();
    let out = sb.run(&["reproduce", "--case", "AV-1", "--artefact", access["id"].as_str().unwrap()]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("reproduced identically"));
    let last = sb.ledger("AV-1").pop().unwrap().1;
    assert_eq!(last["action"], "verified");
    assert_eq!(last["params"]["reproduced"], true);
}

/// A recording longer than `[transcode] max_duration` is reported as that
/// limit, naming the key that raises it, and not as content no decoder
/// accepts; raising the key in the configuration converts it. Before,
/// transcode's caps were fixed in code and a refusal read `unconverted`.
#[test]
fn a_recording_over_the_configured_duration_is_a_limit_naming_its_key() {
    let sb = Sandbox::new();
    let src = media(&sb, &["voicemail_u8.wav"]);
    let mut cmd = sb.exhibit();
    cmd.args(["ingest", "--case", "AV-LIMIT", "--exhibit", "JS/1", "--operator", "Test Officer", "--json"]).arg(&src);
    let out = cmd.env("EXHIBIT__TRANSCODE__MAX_DURATION", "1").output().expect("run exhibit");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = doc["attention"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc:#}");
    assert_eq!(items[0]["kind"], "limit", "{doc:#}");
    let text = items[0]["text"].as_str().unwrap();
    assert!(text.contains("transcode.max_duration (1 s)"), "{text}");
    assert!(derivatives(&sb.show_json("AV-LIMIT")).is_empty());

    let rerun = sb
        .exhibit()
        .args(["ingest", "--case", "AV-LIMIT", "--exhibit", "JS/1", "--operator", "Test Officer"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(rerun.status.success(), "{}", stderr(&rerun));
    assert!(!derivatives(&sb.show_json("AV-LIMIT")).is_empty(), "converted once the key is raised");
}

/// A cap of 0 is refused when the configuration is read, naming its key.
#[test]
fn a_transcode_cap_of_zero_is_refused_naming_its_key() {
    let sb = Sandbox::new();
    let out = sb.exhibit().args(["cases"]).env("EXHIBIT__TRANSCODE__MAX_CHANNELS", "0").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("[transcode] max_channels is 0"), "{}", stderr(&out));
}
