//! Issue 13's honest summaries: the table ingest ends with, what needs a
//! person's attention (each line with what to do), the exit codes 0 / 3 /
//! 2, `--pages` recorded once, and `ingest --json`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(dir).join(name)
}

/// A source folder holding copies of `files` ((fixture folder, name, name in the folder)).
fn evidence(sb: &Sandbox, files: &[(&str, &str, &str)]) -> PathBuf {
    let src = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&src).unwrap();
    for (dir, name, to) in files {
        std::fs::copy(fixture(dir, name), src.join(to)).unwrap();
    }
    src
}

fn ingest(sb: &Sandbox, case: &str, extra: &[&str], src: &Path) -> Output {
    let mut args = vec!["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer"];
    args.extend_from_slice(extra);
    args.push(src.to_str().unwrap());
    sb.run(&args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The attention lines of the table (those under "needs attention").
fn attention(out: &Output) -> Vec<String> {
    let text = stdout(out);
    text.lines().skip_while(|l| !l.starts_with("needs attention")).skip(1).map(str::to_owned).collect()
}

#[test]
fn a_clean_run_exits_0_with_a_table_and_nothing_to_attend_to() {
    let sb = Sandbox::new();
    let out = sb.ingest("SUM-CLEAN", &sb.sources());
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    for row in ["items", "originals", "found inside images", "derivatives", "duplicates"] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(row)), "{row} missing: {text}");
    }
    assert!(text.contains("needs attention: nothing"), "{text}");
    assert!(text.lines().any(|l| l.trim_start().starts_with("originals") && l.trim_end().ends_with(" 4")), "{text}");
}

#[test]
fn a_truncated_image_exits_3_with_a_line_naming_it() {
    let sb = Sandbox::new();
    let src = evidence(&sb, &[("damaged", "fat16-cut.img", "fat16-cut.img")]);
    let out = ingest(&sb, "SUM-CUT", &[], &src);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let lines = attention(&out);
    let line = lines.iter().find(|l| l.contains("truncated")).unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(line.contains("fat16-cut.img") && line.contains("/big.bin"), "{line}");
    assert!(lines.iter().any(|l| l.contains("what to do:")), "{lines:#?}");
    // Rerun: nothing new, and the exhibit still needs the same attention.
    let again = ingest(&sb, "SUM-CUT", &[], &src);
    assert_eq!(again.status.code(), Some(3), "{}", stdout(&again));
    assert!(attention(&again).iter().any(|l| l.contains("fat16-cut.img")), "{}", stdout(&again));
}

#[test]
fn a_damaged_record_in_an_image_exits_3_and_is_not_sent_to_a_rerun() {
    let sb = Sandbox::new();
    let src = evidence(&sb, &[("damaged", "iso-bad-extent.iso", "iso-bad-extent.iso")]);
    let out = ingest(&sb, "SUM-DAMAGED", &[], &src);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("rerun"), "a rerun cannot mend evidence: {all}");
    let lines = attention(&out);
    let line = lines.iter().find(|l| l.contains("/BAD.TXT")).unwrap_or_else(|| panic!("{all}"));
    assert!(line.contains("damaged") && line.contains("iso-bad-extent.iso"), "{line}");
    let json = ingest(&sb, "SUM-DAMAGED", &["--json"], &src);
    assert_eq!(json.status.code(), Some(3), "a rerun still reports it");
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["attention"][0]["kind"], "damaged-record", "{doc:#}");
    assert!(doc["attention"][0]["what"].as_str().unwrap().ends_with("iso-bad-extent.iso > /BAD.TXT"), "{doc:#}");
    // The ledger still records the record as failed, with its fault named.
    let failed: Vec<Value> =
        sb.ledger("SUM-DAMAGED").into_iter().map(|(_, e)| e).filter(|e| e["action"] == "failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["params"]["fault"], "damaged-record");
}

#[test]
fn a_bundle_page_mismatch_exits_3_and_is_recorded_once_per_expected_count() {
    let sb = Sandbox::new();
    let src = evidence(&sb, &[("ocr", "memo.png", "memo.png")]);
    let bundle_checks = |sb: &Sandbox| -> Vec<Value> {
        sb.ledger("SUM-PAGES").into_iter().map(|(_, e)| e).filter(|e| e["params"].get("bundle").is_some()).collect()
    };
    let out = ingest(&sb, "SUM-PAGES", &["--pages", "3"], &src);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let lines = attention(&out);
    assert!(lines.iter().any(|l| l.contains("expected 3 pages, found 1")), "{lines:#?}");
    let again = ingest(&sb, "SUM-PAGES", &["--pages", "3"], &src);
    assert_eq!(again.status.code(), Some(3), "{}", stdout(&again));
    assert_eq!(bundle_checks(&sb).len(), 1, "the same check is recorded once");
    // A corrected count is a new check, and the run is clean again.
    let fixed = ingest(&sb, "SUM-PAGES", &["--pages", "1"], &src);
    assert_eq!(fixed.status.code(), Some(0), "{}{}", stdout(&fixed), stderr(&fixed));
    assert_eq!(bundle_checks(&sb).len(), 2);
    let fixed_again = ingest(&sb, "SUM-PAGES", &["--pages", "1"], &src);
    assert_eq!(fixed_again.status.code(), Some(0), "{}", stdout(&fixed_again));
    assert_eq!(bundle_checks(&sb).len(), 2);
    // The latest check stands everywhere: show and verify agree with the run.
    let flagged = sb.run(&["show", "--case", "SUM-PAGES", "--flag", "page-count-mismatch"]);
    assert!(stdout(&flagged).contains("0 artefact(s) flagged page-count-mismatch"), "{}", stdout(&flagged));
    assert!(!stdout(&flagged).contains("[page-count-mismatch"), "{}", stdout(&flagged));
    let verified = sb.run(&["verify", "--case", "SUM-PAGES"]);
    assert!(!stdout(&verified).contains("expected 3 pages"), "{}", stdout(&verified));
    assert!(!stderr(&verified).contains("expected 3 pages"), "{}", stderr(&verified));
}

#[test]
fn a_file_already_in_the_case_is_a_duplicate_of_its_artefact_and_still_recorded() {
    let sb = Sandbox::new();
    let src = evidence(&sb, &[("ocr", "memo.png", "memo.png"), ("ocr", "memo.png", "memo-copy.png")]);
    let out = ingest(&sb, "SUM-DUP", &["--json"], &src);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["counts"]["originals"], 2);
    assert_eq!(doc["counts"]["duplicates"], 1);
    let originals: Vec<&Value> =
        doc["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "original").collect();
    assert_eq!(originals.len(), 2, "both are recorded");
    let dup = originals.iter().find(|a| a["duplicate_of"].is_string()).expect("one is a duplicate");
    let first = originals.iter().find(|a| a["duplicate_of"].is_null()).unwrap();
    assert_eq!(dup["duplicate_of"], first["id"]);
}

/// The originals of a run and which of them are duplicates, by path.
fn originals_by_path(doc: &Value, src: &Path) -> Vec<(String, Option<String>)> {
    let artefacts = doc["artefacts"].as_array().unwrap();
    let path_of =
        |id: &Value| artefacts.iter().find(|a| a["id"] == *id).map(|a| a["path"].as_str().unwrap().to_owned());
    let relative = |p: String| p.strip_prefix(&format!("{}/", src.display())).map(str::to_owned).unwrap_or(p);
    let mut rows: Vec<(String, Option<String>)> = artefacts
        .iter()
        .filter(|a| a["kind"] == "original")
        .map(|a| (relative(a["path"].as_str().unwrap().to_owned()), path_of(&a["duplicate_of"]).map(relative)))
        .collect();
    rows.sort();
    rows
}

/// Which copy of content held twice in one run is the original does not
/// depend on which job finished first: the lexicographically first source
/// path wins, in every run, on a rerun too (`JS/1/` before `js/1/`).
#[test]
fn the_first_path_of_content_held_twice_is_the_original_in_every_run() {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let sb = Sandbox::new();
        let src = sb.dir.path().join("evidence");
        for dir in ["js/1", "JS/1", "m", "z"] {
            std::fs::create_dir_all(src.join(dir)).unwrap();
        }
        // Bigger files first in path order, so later paths tend to finish first.
        for (i, name) in ["m/a.bin", "m/b.bin", "m/c.bin", "m/d.bin"].iter().enumerate() {
            std::fs::write(src.join(name), vec![i as u8; (4 - i) << 20]).unwrap();
        }
        for name in ["JS/1/page.txt", "js/1/page.txt", "z/page.txt", "m/page.txt"] {
            std::fs::write(src.join(name), "the same page\n").unwrap();
        }
        let out = ingest(&sb, "SUM-ORDER", &["--json", "--workers", "8"], &src);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let first = originals_by_path(&serde_json::from_slice(&out.stdout).unwrap(), &src);
        let again = ingest(&sb, "SUM-ORDER", &["--json"], &src);
        let rerun = originals_by_path(&serde_json::from_slice(&again.stdout).unwrap(), &src);
        assert_eq!(first, rerun, "a rerun names the same original");
        seen.push(first);
    }
    let original = Some("JS/1/page.txt".to_owned());
    for (path, dup_of) in &seen[0] {
        let expected = if path.ends_with("page.txt") && path != "JS/1/page.txt" { original.clone() } else { None };
        assert_eq!(dup_of, &expected, "{path}: {:?}", seen[0]);
    }
    assert!(seen.iter().all(|s| *s == seen[0]), "{seen:#?}");
}

#[test]
fn ingest_json_is_one_document_whose_ids_resolve_with_get() {
    let sb = Sandbox::new();
    let src = evidence(&sb, &[("iso", "iso.iso", "disc.iso"), ("ocr", "memo.png", "memo.png")]);
    let out = ingest(&sb, "SUM-JSON", &["--json"], &src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document and nothing else");
    assert_eq!(doc["exit"], 0);
    assert_eq!(doc["case"], "SUM-JSON");
    assert!(doc["attention"].as_array().unwrap().is_empty());
    let artefacts = doc["artefacts"].as_array().unwrap();
    let kinds = |k: &str| artefacts.iter().filter(|a| a["kind"] == k).count();
    assert_eq!(kinds("original"), 2);
    assert!(kinds("extracted") > 0 && kinds("derivative") > 0, "{doc:#}");
    assert_eq!(doc["counts"]["found_inside_images"], kinds("extracted") as u64);
    assert_eq!(doc["counts"]["derivatives"], kinds("derivative") as u64);
    assert!(
        artefacts.iter().any(|a| a["path"] == "evidence/memo.png" || a["path"].as_str().unwrap().ends_with("memo.png"))
    );
    for a in artefacts {
        let id = a["id"].as_str().unwrap();
        assert!(!a["path"].as_str().unwrap().is_empty(), "{a}");
        let file = sb.dir.path().join(format!("got-{id}"));
        let got = sb.run(&["get", "--case", "SUM-JSON", id, "-o", file.to_str().unwrap()]);
        assert!(got.status.success(), "{id}: {}", stderr(&got));
    }
}

/// A source the operator may not read is an input error a rerun (after
/// fixing the permission) cures: exit 2, not 3. As root the run is made as
/// `nobody`.
#[test]
fn an_unreadable_source_is_an_input_error_exit_2() {
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let src = sb.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(src.join("readable.txt"), "ok").unwrap();
    std::fs::write(src.join("secret.txt"), "no").unwrap();
    std::fs::set_permissions(src.join("secret.txt"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_exhibit")]);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_exhibit"))
    };
    let out = cmd
        .env("EXHIBIT_DATA", sb.data())
        .env("EXHIBIT__SIGNING__KEY_FILE", sb.key_file())
        .args(["ingest", "--case", "SUM-FAIL", "--exhibit", "JS/1", "--operator", "PC Smith"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("secret.txt: cannot be read"), "{}", stderr(&out));
}

/// Random bytes behind an ID3 tag claim to be audio, and no demuxer or
/// decoder accepts them: unidentified media that needs a look (exit 3),
/// not a failed run, and never sent to transcode.
#[test]
fn media_no_decoder_accepts_is_unidentified_exit_3_not_a_failure() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("phone");
    std::fs::create_dir(&src).unwrap();
    let code = "import random,sys; sys.stdout.buffer.write(b'ID3\\x03' + bytes(6) + random.Random(5).randbytes(4000))";
    let bytes = std::process::Command::new("python3").args(["-c", code]).output().expect("python3").stdout;
    std::fs::write(src.join("voice.mp3"), bytes).unwrap();
    let out = ingest(&sb, "SUM-UNCONV", &["--json"], &src);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    assert!(!stderr(&out).contains("failed: "), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["exit"], 3);
    assert_eq!(doc["counts"]["failed"], 0);
    let items = doc["attention"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{doc:#}");
    assert_eq!(items[0]["kind"], "unidentified");
    assert!(items[0]["what"].as_str().unwrap().ends_with("voice.mp3"), "{doc:#}");
    assert!(items[0]["text"].as_str().unwrap().contains("its signature says audio/mpeg"), "{doc:#}");
    assert!(!items[0]["advice"].as_str().unwrap().is_empty());
    let original = doc["artefacts"].as_array().unwrap().iter().find(|a| a["kind"] == "original").cloned();
    assert!(original.is_some_and(|a| a["media_type"] == "application/octet-stream"), "{doc:#}");
    // Nothing was sent to transcode, so nothing failed there either.
    let shown = sb.show_json("SUM-UNCONV");
    assert!(shown["failures"].as_array().is_none_or(|f| f.is_empty()), "{shown:#}");
    let manifest = &shown["artefacts"][0]["media_type"];
    assert!(manifest["unidentified"].as_str().unwrap().contains("no demuxer or decoder accepts it"), "{shown:#}");
}

/// A blank scan: OCR finds no words and marks the page for review; the
/// table names the file and the page.
#[test]
fn a_page_for_review_is_named_by_file_and_page_exit_3() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir(&src).unwrap();
    // A white 800x600 greyscale PNG, written with zlib alone.
    let code = "import struct,sys,zlib\n\
        def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n\
        raw = b''.join(b'\\x00' + b'\\xff' * 800 for _ in range(600))\n\
        sys.stdout.buffer.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 800, 600, 8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))";
    let png = std::process::Command::new("python3").args(["-c", code]).output().expect("python3");
    assert!(png.status.success(), "{}", String::from_utf8_lossy(&png.stderr));
    std::fs::write(src.join("blank page.png"), png.stdout).unwrap();
    let out = ingest(&sb, "SUM-REVIEW", &[], &src);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    let lines = attention(&out);
    assert!(lines.iter().any(|l| l.contains("needs-review") && l.contains("blank page.png page 1")), "{lines:#?}");
}

/// An evidence name holding an escape sequence reaches the table escaped,
/// and the JSON keeps it exactly (JSON escapes it itself).
#[test]
fn hostile_names_are_escaped_in_the_table_and_exact_in_json() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a.txt"), "same content\n").unwrap();
    std::fs::write(src.join("b\u{1b}[2Jclear.txt"), "same content\n").unwrap();
    let out = ingest(&sb, "SUM-HOSTILE", &[], &src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\u{1b}'), "raw escape on the terminal: {text:?}");
    assert!(text.contains("is a duplicate of") && text.contains("\\x1b[2Jclear.txt"), "{text}");
    let json = ingest(&sb, "SUM-HOSTILE", &["--json"], &src);
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let paths: Vec<&str> = doc["artefacts"].as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
    assert!(paths.iter().any(|p| p.ends_with("b\u{1b}[2Jclear.txt")), "{paths:?}");
    assert_eq!(doc["counts"]["duplicates"], 1);
}
