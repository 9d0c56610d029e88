//! Issue 13's format identification, end to end: PRONOM PUIDs on every
//! original (in `ingest --json` and `show`), the 3GP phone video found and
//! given an access copy, bytes that only look like audio reported as
//! needing attention (exit 3, never 2), and a `.jpg` that is text flagged.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn ingest_json(sb: &Sandbox, case: &str, src: &Path) -> (Output, Value) {
    let args = ["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer", "--json"];
    let out = sb.run(&[&args[..], &[src.to_str().unwrap()]].concat());
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, doc)
}

fn folder(sb: &Sandbox, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let src = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&src).unwrap();
    for (name, bytes) in files {
        std::fs::write(src.join(name), bytes).unwrap();
    }
    src
}

fn original<'a>(doc: &'a Value, name: &str) -> &'a Value {
    let rows = doc["artefacts"].as_array().unwrap();
    rows.iter().find(|a| a["kind"] == "original" && a["path"].as_str().unwrap().ends_with(name)).unwrap()
}

#[test]
fn originals_carry_pronom_puids_in_ingest_json_and_show() {
    let sb = Sandbox::new();
    let (out, doc) = ingest_json(&sb, "ID-PUID", &sb.sources());
    assert_eq!(out.status.code(), Some(0), "{doc:#}{}", stderr(&out));
    assert_eq!(original(&doc, "photo.gif")["puid"], "fmt/4", "{doc:#}");
    // Plain text has no PRONOM signature: no PUID, never a guessed one.
    assert!(original(&doc, "statement.txt").get("puid").is_none(), "{doc:#}");
    let shown = sb.show_json("ID-PUID");
    let gif = shown["artefacts"].as_array().unwrap().iter().find(|a| a["media_type"]["mime"] == "image/gif").unwrap();
    let pronom = &gif["media_type"]["pronom"];
    assert_eq!(pronom["puid"], "fmt/4");
    assert_eq!(pronom["name"], "Graphics Interchange Format");
    assert_eq!(pronom["version"], "89a");
    assert_eq!(pronom["signatures"], format!("PRONOM v{}", exhibit_pronom::SIGNATURE_VERSION));
    let text = sb.run(&["show", "--case", "ID-PUID"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("PRONOM fmt/4 (Graphics Interchange Format 89a)"));
}

#[test]
fn a_3gp_phone_video_is_found_and_gets_an_access_copy() {
    let sb = Sandbox::new();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media/h263_aac.3gp");
    let src = folder(&sb, &[("VID_0001.3gp", std::fs::read(from).unwrap())]);
    let (out, doc) = ingest_json(&sb, "ID-3GP", &src);
    assert_eq!(out.status.code(), Some(0), "{doc:#}{}", stderr(&out));
    let video = original(&doc, "VID_0001.3gp");
    assert_eq!(video["puid"], "fmt/357", "{doc:#}");
    assert_eq!(video["media_type"], "video/3gpp", "{doc:#}");
    let copies: Vec<&Value> =
        doc["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "derivative").collect();
    assert!(copies.iter().any(|c| c["media_type"] == "video/mp4"), "{doc:#}");
    // libavformat typed it: container and codecs are in its manifest, and
    // `show` prints them.
    let shown = sb.show_json("ID-3GP");
    let original = shown["artefacts"].as_array().unwrap().iter().find(|a| a["kind"] == "original").unwrap();
    let av = &original["media_type"]["av"];
    assert_eq!(av["container"], "mov,mp4,m4a,3gp,3g2,mj2", "{original:#}");
    assert_eq!(av["brand"], "3gp4");
    assert_eq!(av["streams"][0]["codec"], "h263");
    assert_eq!(av["streams"][1]["codec"], "aac");
    assert!(original["media_type"]["detected_by"].as_str().unwrap().starts_with("libavformat "));
    let text = String::from_utf8_lossy(&sb.run(&["show", "--case", "ID-3GP"]).stdout).into_owned();
    assert!(text.contains("container mov,mp4,m4a,3gp,3g2,mj2: h263 video, aac audio"), "{text}");
}

/// Real headers with garbage after, and files cut short: each is typed or
/// unidentified, and none is a failed run (exit 2) or a crash.
#[test]
fn damaged_media_is_typed_or_unidentified_never_a_failure() {
    let sb = Sandbox::new();
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media");
    let garbage: Vec<u8> = (0u32..65_536).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let mut files = Vec::new();
    for name in ["h263_aac.3gp", "mpeg4_mp3.avi", "wmv2_wma2.wmv", "mpeg1_mp2.mpg"] {
        let real = std::fs::read(media.join(name)).unwrap();
        files.push((format!("garbage-{name}"), [&real[..2048], &garbage[..]].concat()));
        files.push((format!("cut-{name}"), real[..real.len() / 3].to_vec()));
    }
    let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let src = folder(&sb, &named);
    let (out, doc) = ingest_json(&sb, "ID-DAMAGED", &src);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{doc:#}{}", stderr(&out));
    assert_eq!(doc["counts"]["failed"], 0, "{doc:#}");
    for (name, _) in &files {
        let row = original(&doc, name);
        let mime = row["media_type"].as_str().unwrap();
        let typed = mime.starts_with("video/") || mime.starts_with("audio/");
        let unidentified = doc["attention"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "unidentified" && i["what"].as_str().unwrap().ends_with(name.as_str()));
        assert!(typed != unidentified, "{name}: {mime}, unidentified {unidentified}: {doc:#}");
    }
}

/// The case: among random files, one whose first two bytes are an
/// ADTS sync word is typed `audio/aac` by `infer`, and no decoder finds a
/// stream in it. libavformat's check in identify leaves it unidentified:
/// media a person should look at (exit 3), not a failed run (exit 2), and
/// no transcode job.
#[test]
fn random_bytes_that_look_like_aac_need_attention_not_a_rerun() {
    let sb = Sandbox::new();
    let mut bytes = vec![0xFF, 0xF1];
    bytes.extend((0u32..6000).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let src = folder(&sb, &[("f000123.bin", bytes)]);
    let (out, doc) = ingest_json(&sb, "ID-AAC", &src);
    assert_eq!(out.status.code(), Some(3), "{doc:#}{}", stderr(&out));
    assert_eq!(doc["counts"]["failed"], 0, "{doc:#}");
    let items = doc["attention"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc:#}");
    assert_eq!(items[0]["kind"], "unidentified", "{doc:#}");
    assert!(items[0]["what"].as_str().unwrap().ends_with("f000123.bin"), "{doc:#}");
    assert_eq!(original(&doc, "f000123.bin")["media_type"], "application/octet-stream", "{doc:#}");
    assert_eq!(doc["counts"]["derivatives"], 0, "{doc:#}");
}

#[test]
fn a_jpg_that_is_text_is_flagged_with_advice() {
    let sb = Sandbox::new();
    let src = folder(
        &sb,
        &[
            ("holiday.jpg", b"meet at the usual place, 9pm\n".to_vec()),
            ("real.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec()),
        ],
    );
    let (out, doc) = ingest_json(&sb, "ID-EXT", &src);
    assert_eq!(out.status.code(), Some(3), "{doc:#}{}", stderr(&out));
    let items = doc["attention"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc:#}");
    assert_eq!(items[0]["kind"], "extension-mismatch");
    assert!(items[0]["what"].as_str().unwrap().ends_with("holiday.jpg"), "{doc:#}");
    assert!(items[0]["text"].as_str().unwrap().contains("named .jpg, but the content is text/plain"), "{doc:#}");
    assert!(!items[0]["advice"].as_str().unwrap().is_empty());
    // The table a person reads says the same, and `show` marks the artefact.
    let table = sb.run(&[
        "ingest",
        "--case",
        "ID-EXT",
        "--exhibit",
        "JS/1",
        "--operator",
        "Test Officer",
        src.to_str().unwrap(),
    ]);
    assert_eq!(table.status.code(), Some(3));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.lines().any(|l| l.contains("extension-mismatch") && l.contains("holiday.jpg")), "{text}");
    let shown = String::from_utf8_lossy(&sb.run(&["show", "--case", "ID-EXT"]).stdout).into_owned();
    assert!(shown.contains("extension mismatch: named .jpg"), "{shown}");
}
