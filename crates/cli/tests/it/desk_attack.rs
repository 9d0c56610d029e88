//! The attacker's findings on item manifests, `show` and `ingest`
//! (issue 13): each reproduced here and held fixed.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

const CASE: &str = "DESK-1";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ingest_manifest(sb: &Sandbox, manifest: &Path) -> Output {
    sb.run(&["ingest", "--case", CASE, "--operator", "Test Officer", "--manifest", manifest.to_str().unwrap()])
}

/// A desk folder with one file in a sub-folder.
fn desk(sb: &Sandbox) -> PathBuf {
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("m1/d1")).unwrap();
    std::fs::write(desk.join("m1/d1/f"), "a letter\n").unwrap();
    desk
}

fn described(sb: &Sandbox) -> Vec<Value> {
    sb.ledger(CASE).into_iter().map(|(_, e)| e).filter(|e| e["action"] == "described").collect()
}

#[test]
fn show_refuses_an_unknown_case_or_exhibit() {
    let sb = Sandbox::new();
    assert!(sb.ingest(CASE, &sb.sources()).status.success());
    let out = sb.run(&["show", "--case", "NOPE"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("case NOPE is not in the store"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let out = sb.run(&["show", "--case", CASE, "--exhibit", "K/9"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("has no exhibit K/9"), "{}", stderr(&out));
    let out = sb.run(&["show", "--case", CASE, "--exhibit", "js/01"]);
    assert!(out.status.success(), "another spelling of JS/1: {}", stderr(&out));
    assert!(stdout(&out).contains("statement.txt"));
    let out = sb.run(&["listing", "--case", "NOPE", "--exhibit", "JS/1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = sb.run(&["audit", "--case", "NOPE"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(!sb.data().join("cases/NOPE").exists(), "audit must not create the case it names");
    let bag = sb.dir.path().join("bag");
    let out = sb.run(&["export", "--case", "NOPE", "--exhibit", "JS/1", "--bagit", bag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let out = sb.run(&["export", "--case", CASE, "--exhibit", "K/9", "--bagit", bag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("records no exhibit K/9"), "{}", stderr(&out));
    assert!(!bag.join("bagit.txt").exists(), "no empty bag");
    assert!(!sb.data().join("cases/NOPE").exists());
}

#[test]
fn show_refuses_unknown_flags_and_shows_where_flagged_items_came_from() {
    let sb = Sandbox::new();
    assert!(sb.ingest(CASE, &sb.sources()).status.success());
    let out = sb.run(&["show", "--case", CASE, "--flag", "bogus"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--flag bogus: no such flag") && err.contains("needs-review") && err.contains("symlink"),
        "{err}"
    );
    let out = sb.run(&["show", "--case", CASE, "--flag", "SYMLINK"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("link") && text.contains("[symlink]"), "{text}");
    assert!(!text.contains("statement.txt"), "only the flagged artefact and its sources: {text}");
    let out = sb.run(&["show", "--case", CASE, "--flag", "symlink", "--json"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["artefacts"].as_array().unwrap().len(), 1, "{doc:#}");
}

#[test]
fn show_escapes_names_that_are_not_utf8_as_listing_does() {
    use std::os::unix::ffi::OsStrExt;
    let sb = Sandbox::new();
    let src = sb.dir.path().join("esc");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(std::ffi::OsStr::from_bytes(b"bad\xff\xfe.txt")), "x").unwrap();
    assert!(sb.ingest(CASE, &src).status.success());
    let text = stdout(&sb.run(&["show", "--case", CASE]));
    assert!(text.contains("bad\\xff\\xfe.txt"), "{text}");
    assert!(!text.contains('\u{FFFD}'), "{text}");
}

#[test]
fn the_store_cannot_be_ingested_into_itself() {
    let sb = Sandbox::new();
    let outer = sb.dir.path().join("selfi");
    std::fs::create_dir_all(&outer).unwrap();
    std::fs::write(outer.join("a.txt"), "evidence").unwrap();
    let store = outer.join("store");
    let run = |args: &[&str]| sb.exhibit().env("EXHIBIT_DATA", &store).args(args).output().unwrap();
    let out = run(&["ingest", "--case", "S1", "--exhibit", "S/1", "--operator", "T", outer.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("holds the store"), "{}", stderr(&out));
    std::fs::write(sb.dir.path().join("b.txt"), "other").unwrap();
    let other = sb.dir.path().join("b.txt");
    let out = run(&["ingest", "--case", "S1", "--exhibit", "S/2", "--operator", "T", other.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let inside = store.join("cases");
    let out = run(&["ingest", "--case", "S2", "--exhibit", "S/1", "--operator", "T", inside.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("is inside the store"), "{}", stderr(&out));
    std::fs::write(outer.join("m.csv"), "exhibit,path\nS/3,.\nS/4,a.txt\n").unwrap();
    let out = run(&["ingest", "--case", "S1", "--operator", "T", "--manifest", outer.join("m.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("1 clean") && text.contains("line 2 exhibit S/3: failed") && text.contains("holds the store"),
        "{text}"
    );
}

#[test]
fn an_empty_cell_keeps_the_previous_value_and_clear_removes_it() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let m = desk.join("m.csv");
    std::fs::write(&m, "exhibit,path,seal,seized_by,device_make\nJS/1,m1,SEAL-1,PC 1,SanDisk\n").unwrap();
    assert!(ingest_manifest(&sb, &m).status.success());
    std::fs::write(&m, "exhibit,path,seal,seized_by,device_make\njs/01,m1,,,\n").unwrap();
    let out = ingest_manifest(&sb, &m);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(described(&sb).len(), 1, "an empty row changes nothing, so nothing new is recorded");
    std::fs::write(&m, "exhibit,path,seal,seized_by,device_make\nJS/1,m1,SEAL-2,(clear),\n").unwrap();
    assert!(ingest_manifest(&sb, &m).status.success());
    let rows = described(&sb);
    assert_eq!(rows.len(), 2);
    let item = &rows[1]["params"]["item"];
    assert_eq!(item["seal"], "SEAL-2");
    assert_eq!(item["device_make"], "SanDisk", "kept: {item}");
    assert!(item.get("seized_by").is_none(), "cleared: {item}");
}

#[test]
fn crlf_manifests_report_the_right_line() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let m = desk.join("m.csv");
    std::fs::write(&m, "exhibit,path\r\nJS/1,m1\r\nJS/2,missing\r\nJS/3,m1/d1/f\r\n../x,m1\r\n").unwrap();
    let text = stdout(&ingest_manifest(&sb, &m));
    assert!(text.contains("line 3 exhibit JS/2: refused"), "{text}");
    assert!(text.contains("line 5: refused"), "{text}");
}

#[test]
fn a_json_row_that_gives_a_key_twice_is_refused() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let m = desk.join("m.json");
    std::fs::write(&m, r#"[{"exhibit":"J/7","path":"m1","exhibit":"J/8"},{"exhibit":"J/9","path":"m1"}]"#).unwrap();
    let out = ingest_manifest(&sb, &m);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("item 1: refused: the key \"exhibit\" is given twice"), "{text}");
    assert!(text.contains("1 clean"), "{text}");
}

#[test]
fn manifest_paths_are_recorded_in_one_normal_form() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let m = desk.join("m.csv");
    std::fs::write(&m, "exhibit,path\nA/1,m1/./d1/f\nA/2,m1/d1//f\nA/3,./m1/d1/f\n").unwrap();
    let out = ingest_manifest(&sb, &m);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = sb.show_json(CASE);
    let paths: std::collections::BTreeSet<&str> = shown["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "original")
        .map(|a| a["source"]["path"]["display"].as_str().unwrap())
        .collect();
    let expected = format!("{}/m1/d1/f", desk.display());
    assert_eq!(paths.into_iter().collect::<Vec<_>>(), vec![expected.as_str()]);
}

#[test]
fn a_new_case_may_not_take_a_windows_device_name_or_a_trailing_dot() {
    let sb = Sandbox::new();
    let src = sb.sources();
    for case in ["CON", "nul.txt", "A."] {
        let out = sb.ingest(case, &src);
        assert_eq!(out.status.code(), Some(2), "{case}: {}", stdout(&out));
        assert!(stderr(&out).contains(&format!("case ID {case} cannot start a new case")), "{}", stderr(&out));
    }
    assert!(!sb.data().join("cases").join("A.").exists());
    assert!(sb.ingest("CONTROL.1", &src).status.success());
}

/// Every flag a stage sets is known to `show --flag` before any artefact
/// of the case carries it: asking for one that has not happened finds
/// nothing (exit 0), it is not refused as unknown (issue 13).
#[test]
fn show_knows_every_flag_a_stage_sets_before_the_case_has_one() {
    let sb = Sandbox::new();
    assert!(sb.ingest(CASE, &sb.sources()).status.success());
    for flag in ["incomplete-bundle", "needs-review", "damaged", "truncated"] {
        let out = sb.run(&["show", "--case", CASE, "--flag", flag, "--json"]);
        assert_eq!(out.status.code(), Some(0), "--flag {flag}: {}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc["artefacts"].as_array().unwrap().is_empty(), "{flag}: {doc:#}");
    }
    let err = stderr(&sb.run(&["show", "--case", CASE, "--flag", "bogus"]));
    assert!(err.contains("incomplete-bundle"), "the list names it: {err}");
}

/// The summary's words for a condition select it in `show --flag` too: a
/// `.jpg` that holds text is an `extension-mismatch` in the table and in
/// `show`; `damaged-media` (the summary's word) is the `damaged` flag.
#[test]
fn show_flag_takes_the_summarys_words_for_the_same_conditions() {
    let sb = Sandbox::new();
    let src = sb.sources();
    std::fs::write(src.join("holiday.jpg"), "this is a text file, not a photo\n").unwrap();
    let out = sb.ingest(CASE, &src);
    let table = stdout(&out);
    assert!(table.contains("extension-mismatch"), "{table}");
    let out = sb.run(&["show", "--case", CASE, "--flag", "extension-mismatch", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> =
        doc["artefacts"].as_array().unwrap().iter().map(|a| a["source"]["path"]["display"].as_str().unwrap()).collect();
    assert!(paths.len() == 1 && paths[0].ends_with("holiday.jpg"), "{paths:?}");
    for word in ["unidentified", "damaged-media"] {
        let out = sb.run(&["show", "--case", CASE, "--flag", word]);
        assert_eq!(out.status.code(), Some(0), "--flag {word}: {}", stderr(&out));
    }
    let err = stderr(&sb.run(&["show", "--case", CASE, "--flag", "bogus"]));
    assert!(err.contains("extension-mismatch") && err.contains("unidentified"), "{err}");
}
