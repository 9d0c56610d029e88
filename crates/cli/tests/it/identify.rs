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
}

/// The case: among random files, one whose first two bytes are an
/// ADTS sync word is typed `audio/aac` by `infer`, and no decoder finds a
/// stream in it. It is unconverted media a person should look at (exit 3),
/// not a failed run (exit 2).
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
    assert!(
        items.iter().any(|i| ["unconverted", "unidentified"].contains(&i["kind"].as_str().unwrap())
            && i["what"].as_str().unwrap().ends_with("f000123.bin")),
        "{doc:#}"
    );
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
