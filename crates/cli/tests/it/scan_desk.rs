//! The scanning desk's attack findings on OCR and media typing (issue 13):
//! a page over the pixel limit is a limit, not an unconverted file; icons
//! too small to be a scanned page are not OCRed; a file no decoder can
//! decode a frame of is not typed as audio.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A white `width` x `height` greyscale PNG, written with zlib alone.
pub fn white_png(width: u32, height: u32) -> Vec<u8> {
    let code = format!(
        "import struct,sys,zlib\n\
         def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n\
         raw = b''.join(b'\\x00' + b'\\xff' * {width} for _ in range({height}))\n\
         sys.stdout.buffer.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', {width}, {height}, 8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))"
    );
    let png = std::process::Command::new("python3").args(["-c", &code]).output().expect("python3");
    assert!(png.status.success(), "{}", String::from_utf8_lossy(&png.stderr));
    png.stdout
}

fn folder(sb: &Sandbox, name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let src = sb.dir.path().join(name);
    std::fs::create_dir_all(&src).unwrap();
    for (file, bytes) in files {
        std::fs::write(src.join(file), bytes).unwrap();
    }
    src
}

fn ingest_json(sb: &Sandbox, case: &str, src: &Path, env: &[(&str, &str)]) -> (Output, Value) {
    let mut cmd = sb.exhibit();
    cmd.args(["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer", "--json"]).arg(src);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().expect("run exhibit");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out, doc)
}

/// A page over `ocr.max_pixels` is reported as that limit, with the key
/// that raises it and the page's size, in a line of its own: not as
/// content no decoder accepts.
#[test]
fn a_page_over_the_pixel_limit_is_a_limit_naming_its_key_and_size() {
    let sb = Sandbox::new();
    let src = folder(&sb, "scans", &[("big scan.png", white_png(800, 600))]);
    let (out, doc) = ingest_json(&sb, "DESK-LIMIT", &src, &[("EXHIBIT__OCR__MAX_PIXELS", "100000")]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}{}", stderr(&out));
    assert_eq!(doc["counts"]["failed"], 0, "{doc:#}");
    let items = doc["attention"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc:#}");
    let item = &items[0];
    assert_eq!(item["kind"], "limit", "{doc:#}");
    assert!(item["what"].as_str().unwrap().ends_with("big scan.png"), "{doc:#}");
    let text = item["text"].as_str().unwrap();
    for part in ["800x600", "480000 pixels", "ocr.max_pixels", "100000"] {
        assert!(text.contains(part), "{part} not in {text}");
    }
    let advice = item["advice"].as_str().unwrap();
    assert!(!advice.contains("decoder") && advice.contains("named above"), "{advice}");
    let shown = sb.run(&["show", "--case", "DESK-LIMIT", "--flag", "limit"]);
    assert!(stdout(&shown).contains("big scan.png"), "{}{}", stdout(&shown), stderr(&shown));
}

/// The OCR events of the case, by the path of the original they read.
fn ocr_events(sb: &Sandbox, case: &str) -> Vec<Value> {
    sb.ledger(case).into_iter().map(|(_, e)| e).filter(|e| e["action"] == "ocr").collect()
}

/// Icons on a USB stick (16 to 128 px) are identified images, not pages:
/// they are not OCRed, so nothing about them needs review; a real scan in
/// the same folder is OCRed.
#[test]
fn icons_too_small_to_be_a_page_are_not_ocred_and_a_scan_still_is() {
    let sb = Sandbox::new();
    let memo = std::fs::read(crate::common::fixture("ocr/memo.png")).unwrap();
    let files = [
        ("favicon.png", white_png(16, 16)),
        ("app48.png", white_png(48, 48)),
        ("folder-icon.png", white_png(128, 128)),
        ("wide-banner.png", white_png(199, 40)),
        ("memo.png", memo),
    ];
    let src = folder(&sb, "usb", &files);
    let (out, doc) = ingest_json(&sb, "DESK-ICONS", &src, &[]);
    assert_eq!(out.status.code(), Some(0), "{doc:#}{}", stderr(&out));
    assert_eq!(doc["attention"].as_array().map_or(0, Vec::len), 0, "{doc:#}");
    let events = ocr_events(&sb, "DESK-ICONS");
    let skipped: Vec<&str> = events.iter().filter_map(|e| e["params"]["skipped"].as_str()).collect();
    assert_eq!(skipped.len(), 4, "every icon skipped: {events:#?}");
    assert!(skipped.iter().all(|s| s.contains("ocr.min_page_side")), "{skipped:?}");
    assert!(skipped.iter().any(|s| s.contains("16x16")), "{skipped:?}");
    let texts = events.iter().filter(|e| e["params"]["rule"] == "ocr-text").count();
    assert_eq!(texts, 1, "the memo is OCRed: {events:#?}");
    let shown = sb.show_json("DESK-ICONS");
    let icons = shown["artefacts"].as_array().unwrap().iter().filter(|a| a["media_type"]["mime"] == "image/png");
    assert_eq!(icons.count(), 5, "recorded as identified images: {shown:#}");
}

/// A 4-byte ADTS header (0xFFF1 sync) then random bytes, as a tester made
/// them (one in 40 had libavformat read a header declaring over 32
/// channels: typed audio/aac undecoded, then refused by transcode as
/// `unconverted`). Probe and transcode now agree: no frame decodes, so
/// none is typed audio; each is unidentified, and none reaches transcode.
#[test]
fn adts_sync_before_random_bytes_is_never_typed_as_audio() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("card");
    std::fs::create_dir(&src).unwrap();
    let code = format!(
        "import random\n\
         for i in range(40):\n\
         \x20   r = random.Random(100 + i)\n\
         \x20   head = [b'\\xff\\xf1\\x50\\x80', b'\\xff\\xf1\\x4c\\x80', b'\\xff\\xf1', b'\\xff\\xf9\\x50\\x80'][i % 4]\n\
         \x20   open('{}/f%02d.aac' % i, 'wb').write(head + r.randbytes(r.choice([64, 500, 4000, 30000])))",
        src.display()
    );
    let made = std::process::Command::new("python3").args(["-c", &code]).output().expect("python3");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (out, doc) = ingest_json(&sb, "DESK-ADTS", &src, &[]);
    assert_eq!(out.status.code(), Some(3), "{doc:#}{}", stderr(&out));
    assert_eq!(doc["counts"]["failed"], 0, "{doc:#}");
    let originals = doc["artefacts"].as_array().unwrap();
    let audio: Vec<&Value> = originals.iter().filter(|a| a["media_type"] != "application/octet-stream").collect();
    assert!(audio.is_empty(), "typed as media: {audio:#?}");
    let kinds: Vec<&str> = doc["attention"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 40, "{doc:#}");
    assert!(kinds.iter().all(|k| *k == "unidentified"), "{kinds:?}");
    let f12 = doc["attention"].as_array().unwrap().iter().find(|a| a["what"].as_str().unwrap().ends_with("f12.aac"));
    let text = f12.and_then(|a| a["text"].as_str()).unwrap_or_default();
    assert!(text.contains("channels"), "the declared limit is named: {text}");
}
