//! The desk's leftovers (issue 13, branch `deskcli`): a path over
//! `PATH_MAX` fails alone, names that are not UTF-8 are shown exactly,
//! and `show` says why a scan was not OCRed.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

/// Every event of one action, in ledger order.
fn events(sb: &Sandbox, case: &str, action: &str) -> Vec<Value> {
    sb.ledger(case).into_iter().map(|(_, e)| e).filter(|e| e["action"] == action).collect()
}

/// Folders named 200 `d`s nested 25 deep in `top` (over 5,000 bytes of
/// path), made by Python changing folder step by step (a shell's `cd` joins the whole path), with `bottom.txt` at the
/// bottom. Returns the first folder whose path is over 4,096 bytes.
pub(crate) fn deep_tree(top: &Path) -> PathBuf {
    let script = "import os\nfor _ in range(25):\n    os.mkdir('d' * 200)\n    os.chdir('d' * 200)\nopen('bottom.txt', 'w').write('deep')\n";
    let status = Command::new("python3").current_dir(top).args(["-c", script]).status().unwrap();
    assert!(status.success());
    let mut path = top.to_owned();
    while path.as_os_str().len() < 4096 {
        path.push("d".repeat(200));
    }
    path
}

/// Repro 2 of the desk's attack pass: the ingest stopped with exit 2 and
/// recorded nothing. Now the top file is stored, the deep folder is a
/// recorded failure saying why and what to do, and the case verifies.
#[test]
fn a_path_longer_than_path_max_fails_only_its_entry() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("stick");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("top.txt"), "on top\n").unwrap();
    let too_long = deep_tree(&src);
    let out = sb.ingest("DEEP-1", &src);
    let (err, text) = (stderr(&out), String::from_utf8_lossy(&out.stdout).into_owned());
    assert_eq!(out.status.code(), Some(2), "a run with a failure: {text}{err}");
    assert!(err.contains("the path is too long for this system to open"), "{err}");
    assert!(err.contains("copy it to a shorter folder or image the medium"), "{err}");
    let acquired: Vec<String> = events(&sb, "DEEP-1", "acquired")
        .iter()
        .map(|e| e["params"]["facts"]["source"]["path"]["display"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(acquired.len(), 1, "{acquired:?}");
    assert!(acquired[0].ends_with("/stick/top.txt"), "{acquired:?}");
    let failed = events(&sb, "DEEP-1", "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let recorded = serde_json::to_string(&failed[0]).unwrap();
    assert!(recorded.contains("the path is too long for this system to open"), "{recorded}");
    assert_eq!(failed[0]["params"]["input"]["path"], too_long.to_str().unwrap());
    let verify = sb.run(&["verify", "--case", "DEEP-1"]);
    assert!(matches!(verify.status.code(), Some(0 | 3)), "verify: {}", stderr(&verify));
    // A rerun fails the same entry again and records nothing twice.
    let again = sb.ingest("DEEP-1", &src);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert_eq!(events(&sb, "DEEP-1", "failed").len(), 1);
    assert_eq!(events(&sb, "DEEP-1", "acquired").len(), 1);
}

/// Three blank scans (each a page for review) whose names are not plain
/// text: two differ only in a byte that is not UTF-8, one holds a tab.
fn oddly_named_blank_scans(sb: &Sandbox) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    let page = crate::scan_desk::white_png(800, 600);
    for name in [&b"bad\xfe.png"[..], b"bad\xff.png", b"tab\there.png"] {
        std::fs::write(src.join(std::ffi::OsStr::from_bytes(name)), &page).unwrap();
    }
    src
}

/// The recheck's leftover: the summary showed `bad\xfe.png` and
/// `bad\xff.png` both as `bad\u{FFFD}.png`, so its attention list (which
/// drops repeated lines) listed two flagged files as one, and printed a
/// tab in a name raw. Now each name is shown from its recorded bytes,
/// escaped as `show` escapes it, in the summary and in `verify`'s notes.
#[test]
fn names_that_are_not_utf8_or_hold_a_tab_are_shown_exactly_and_apart() {
    let sb = Sandbox::new();
    let src = oddly_named_blank_scans(&sb);
    let out = sb.ingest("ODD-1", &src);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(3), "pages for review: {table}{}", stderr(&out));
    let review: Vec<&str> = table.lines().filter(|l| l.contains("needs-review:")).collect();
    assert_eq!(review.len(), 3, "one line per file: {table}");
    for shown in ["bad\\xfe.png page 1", "bad\\xff.png page 1", "tab\\there.png page 1"] {
        assert!(review.iter().any(|l| l.contains(shown)), "{shown} not in {review:#?}");
    }
    assert!(!table.contains('\u{fffd}') && !table.contains('\t'), "{table:?}");

    let verified = sb.run(&["verify", "--case", "ODD-1"]);
    let text = String::from_utf8_lossy(&verified.stdout).into_owned();
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("note: ") && l.contains("needs-review")).collect();
    assert_eq!(notes.len(), 3, "{text}");
    for shown in ["bad\\xfe.png, page 1", "bad\\xff.png, page 1", "tab\\there.png, page 1"] {
        assert!(notes.iter().any(|l| l.contains(shown)), "{shown} not in {notes:#?}");
    }
    assert!(!text.contains('\u{fffd}') && !text.contains('\t'), "{text:?}");
}

/// `show` said nothing of a scan OCR left out (the ledger did): it now
/// names, under the artefact, that OCR was skipped and the recorded reason.
#[test]
fn show_says_why_a_scan_was_not_ocred() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("desk");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(crate::common::fixture("ocr/memo.png"), src.join("memo.png")).unwrap();
    std::fs::write(src.join("icon.png"), crate::scan_desk::white_png(16, 16)).unwrap();
    let out = sb.ingest("SKIP-1", &src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = sb.run(&["show", "--case", "SKIP-1"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let icon = lines.iter().position(|l| l.contains("icon.png")).unwrap_or_else(|| panic!("{text}"));
    let below = lines.get(icon + 1).copied().unwrap_or_default();
    assert!(below.contains("OCR skipped:") && below.contains("16x16"), "under the icon: {text}");
    let skips = text.lines().filter(|l| l.contains("OCR skipped:")).count();
    assert_eq!(skips, 1, "the memo was OCRed: {text}");
    let json = sb.show_json("SKIP-1");
    let listed = json["ocr_skipped"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 1, "{json:#}");
    assert!(listed[0]["reason"].as_str().unwrap_or_default().contains("ocr.min_page_side"), "{json:#}");

    // With OCR off, the memo's line says so, naming the setting.
    let sb = Sandbox::new();
    let off = sb
        .exhibit()
        .env("EXHIBIT__OCR__ENABLED", "false")
        .args(["ingest", "--case", "SKIP-2", "--exhibit", "JS/1", "--operator", "T"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(off.status.code(), Some(0), "{}", stderr(&off));
    let text = String::from_utf8_lossy(&sb.run(&["show", "--case", "SKIP-2"]).stdout).into_owned();
    let memo = text.lines().position(|l| l.contains("memo.png")).unwrap_or_else(|| panic!("{text}"));
    let below = text.lines().nth(memo + 1).unwrap_or_default();
    assert!(below.contains("OCR skipped: OCR is off ([ocr] enabled = false)"), "{text}");
}

/// A sub-folder without read permission fails alone, as the deep path
/// does; the rest of the folder is stored. Root reads any folder, so as
/// root the ingest runs as `nobody` via setpriv (as `bad_input` does).
#[test]
fn a_sub_folder_without_read_permission_fails_only_itself() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let src = sb.dir.path().join("stick");
    std::fs::create_dir_all(src.join("locked")).unwrap();
    std::fs::write(src.join("letter.txt"), "Dear Sir,\n").unwrap();
    std::fs::write(src.join("locked/hidden.txt"), "unseen\n").unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(src.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = ingest_unprivileged(&sb, "LOCKED-1", &src);
    let err = stderr(&out);
    std::fs::set_permissions(src.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2), "a run with a failure: {err}");
    assert!(err.contains("locked: cannot be read") && err.contains("fix its permissions"), "{err}");
    let acquired = events(&sb, "LOCKED-1", "acquired");
    assert_eq!(acquired.len(), 1, "letter.txt is stored: {acquired:#?}");
    let failed = events(&sb, "LOCKED-1", "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["params"]["input"]["path"], src.join("locked").to_str().unwrap());
}

/// Attack pass of stop 27 (repro 2): one file without read permission in a
/// walked folder aborted the whole ingest (exit 2, nothing stored), while
/// an unreadable sub-folder failed alone. Now the file fails alone too.
#[test]
fn a_file_without_read_permission_in_a_folder_fails_only_itself() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let src = sb.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(src.join("readable.txt"), "ok").unwrap();
    let secret = src.join("secret.txt");
    std::fs::write(&secret, "no").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = ingest_unprivileged(&sb, "SECRET-1", &src);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "a run with a failure: {err}");
    assert!(err.contains("secret.txt: cannot be read") && err.contains("fix its permissions"), "{err}");
    let acquired = events(&sb, "SECRET-1", "acquired");
    assert_eq!(acquired.len(), 1, "readable.txt is stored: {acquired:#?}");
    let failed = events(&sb, "SECRET-1", "failed");
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["params"]["input"]["path"], secret.to_str().unwrap());
}

/// Ingests `src` into `case` as exhibit JS/1, as `nobody` when run as root
/// (root reads everything, so permissions would not count).
pub(crate) fn ingest_unprivileged(sb: &Sandbox, case: &str, src: &Path) -> std::process::Output {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let is_root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if is_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_exhibit")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_exhibit"))
    };
    cmd.env("EXHIBIT_DATA", sb.data())
        .env("EXHIBIT__SIGNING__KEY_FILE", sb.key_file())
        .env_remove("EXHIBIT_CONFIG")
        .args(["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "PC Smith"])
        .arg(src)
        .output()
        .unwrap()
}
