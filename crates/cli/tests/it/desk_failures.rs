//! Exact failure lines and the words `show` uses (issue 13, branch
//! `deskcli2`): `failed:` lines name paths from their recorded bytes,
//! `show` calls evidence faults what the summary calls them, a broken
//! `/Pages` node reads as damage, the failure footer offers a rerun only
//! where one can help, and `verify` says whose artefact was tampered with.

use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Sandbox, overwrite, stderr};
use crate::desk_leftovers::{deep_tree, ingest_unprivileged};
use crate::scan_desk::white_png;

/// `src` holding `readable.txt` and, without read permission, a file for
/// each name: the operator sees them as failures of the walk.
fn folder_with_unreadable(sb: &Sandbox, names: &[&[u8]]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let src = sb.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(src.join("readable.txt"), "ok").unwrap();
    for name in names {
        let path = src.join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(&path, "no").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    src
}

fn failed_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("failed: ")).collect()
}

/// Attack pass of stop 27: a failure's reason embeds its path as display
/// text, so `a<ESC>b` and a file literally named `a\x1bb` printed alike,
/// a tab went out raw and a byte that is not UTF-8 became U+FFFD. Now the
/// summary's and `show`'s `failed:` lines show each path from its
/// recorded bytes, escaped as `show`'s tree escapes names.
#[test]
fn failed_lines_show_each_path_from_its_recorded_bytes() {
    let sb = Sandbox::new();
    let names: [&[u8]; 4] = [b"a\x1bb.txt", b"a\\x1bb.txt", b"bad\xfe.txt", b"tab\there.txt"];
    let src = folder_with_unreadable(&sb, &names);
    let out = ingest_unprivileged(&sb, "ESC-1", &src);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "a run with failures: {err}");
    let shown = ["/src/a\\x1bb.txt: ", "/src/a\\\\x1bb.txt: ", "/src/bad\\xfe.txt: ", "/src/tab\\there.txt: "];
    let check = |lines: Vec<&str>, whole: &str| {
        assert_eq!(lines.len(), 4, "one line per file: {whole}");
        for name in shown {
            let hits = lines.iter().filter(|l| l.contains(name)).count();
            assert_eq!(hits, 1, "{name} once in {lines:#?}");
        }
        assert!(lines.iter().all(|l| !l.contains('\u{fffd}') && !l.contains('\t') && !l.contains('\x1b')), "{lines:?}");
    };
    check(failed_lines(&err), &err);
    let show = sb.run(&["show", "--case", "ESC-1"]);
    let text = String::from_utf8_lossy(&show.stdout).into_owned();
    check(failed_lines(&text), &text);
}

/// Attack pass of stop 27: the footer under the failures said "rerun the
/// same command" also for a path too long to open, which a rerun fails
/// again. Its advice now follows the kinds of the failures listed.
#[test]
fn the_failure_footer_offers_a_rerun_only_where_one_can_help() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("stick");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("top.txt"), "on top\n").unwrap();
    deep_tree(&src);
    let out = sb.ingest("FOOT-1", &src);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("the path is too long for this system to open"), "{err}");
    assert!(!err.contains("rerun the same command"), "a rerun fails it again: {err}");
    assert!(err.contains("fails them again until their cause is fixed: do what each line says first"), "{err}");
    let json = sb
        .exhibit()
        .args(["ingest", "--case", "FOOT-1", "--exhibit", "JS/1", "--operator", "T", "--json"])
        .arg(&src)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&json)));
    assert_eq!(doc["failures"][0]["rerun_may_help"], false, "{doc:#}");
}

/// Attack pass of stop 27: `show` printed `failed:` for a `limit` and an
/// `unconverted` fault, which the ingest summary lists as needing
/// attention. It now uses the summary's words, and `--json` names the kind.
#[test]
fn show_calls_limit_and_unconverted_faults_what_the_summary_calls_them() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("big scan.png"), white_png(800, 600)).unwrap();
    let mut broken = b"\x89PNG\r\n\x1a\n".to_vec();
    broken.extend(std::iter::repeat_n(0x5a, 4000));
    std::fs::write(src.join("broken.png"), broken).unwrap();
    let out = sb
        .exhibit()
        .env("EXHIBIT__OCR__MAX_PIXELS", "100000")
        .args(["ingest", "--case", "WORDS-1", "--exhibit", "JS/1", "--operator", "T"])
        .arg(&src)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(3), "needs attention, no failure: {table}{}", stderr(&out));
    assert!(table.contains("- limit: ") && table.contains("- unconverted: "), "{table}");
    let shown = sb.run(&["show", "--case", "WORDS-1"]);
    let text = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(failed_lines(&text).is_empty(), "no failure: {text}");
    let limit = text.lines().find(|l| l.starts_with("needs attention: limit: ")).unwrap_or_else(|| panic!("{text}"));
    assert!(limit.contains("big scan.png") && limit.contains("ocr.max_pixels"), "{limit}");
    let unconverted = text.lines().find(|l| l.starts_with("needs attention: unconverted: "));
    assert!(unconverted.is_some_and(|l| l.contains("broken.png")), "{text}");
    let doc = sb.show_json("WORDS-1");
    let mut kinds: Vec<&str> =
        doc["failures"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["limit", "unconverted"], "{doc:#}");
}

/// Attack pass of stop 27: a PDF whose intermediate `/Pages` node is
/// broken (its pages missing from the outputs) got "OCR was unsure of
/// this page" in the summary, because the note sits on a page whose own
/// text read fine. The page-tree note now reads as damage.
#[test]
fn a_broken_pages_node_gets_the_damaged_page_advice() {
    let sb = Sandbox::new();
    let made = sb.dir.path().join("made");
    std::fs::create_dir(&made).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/page-tree.py");
    let py = std::process::Command::new("/usr/bin/python3").arg(script).arg(&made).output().unwrap();
    assert!(py.status.success(), "PIL, pikepdf and img2pdf are needed: {}", stderr(&py));
    let src = sb.dir.path().join("desk");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(made.join("node-missing.pdf"), src.join("node-missing.pdf")).unwrap();
    let out = sb.ingest("TREE-1", &src);
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(3), "{table}{}", stderr(&out));
    let lines: Vec<&str> = table.lines().collect();
    let at = lines.iter().position(|l| l.contains("needs-review: ") && l.contains("node-missing.pdf page 3"));
    let advice = at.and_then(|at| lines.get(at + 1)).unwrap_or_else(|| panic!("{table}"));
    assert!(advice.contains("page tree is damaged") && !advice.contains("OCR was unsure"), "{table}");
}

/// Attack pass of stop 27: `verify` named a tampered artefact by ID only.
/// It now names the exhibit and the source path too, keeping the ID.
#[test]
fn verify_names_the_exhibit_and_path_of_a_tampered_artefact() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join(std::ffi::OsStr::from_bytes(b"state\tment\xfe.txt")), "I saw him.\n").unwrap();
    let out = sb.ingest("TAMPER-NAME", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = sb.show_json("TAMPER-NAME");
    let artefact = &doc["artefacts"].as_array().unwrap()[0];
    let id = artefact["id"].as_str().unwrap();
    let object =
        sb.case_dir("TAMPER-NAME").join("objects/sha256").join(artefact["digests"]["sha256"].as_str().unwrap());
    overwrite(&object, b"I saw nobody.\n");
    let verified = sb.run(&["verify", "--case", "TAMPER-NAME"]);
    let text = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert_eq!(verified.status.code(), Some(1), "{text}");
    let line = text.lines().find(|l| l.starts_with("tampered: ")).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(id) && line.contains("exhibit JS/1"), "{line}");
    assert!(line.contains("/src/state\\tment\\xfe.txt"), "{line}");
}

/// The ingest summary's needs-attention lines name a fault's file from its
/// recorded bytes, as `show` does: a real TAB and a literal `\t` print
/// apart, and no raw control byte reaches the terminal (tester's try28
/// f2: the summary printed the lossy display text).
#[test]
fn the_summarys_attention_lines_name_files_from_their_recorded_bytes() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("fifos");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("note.txt"), "evidence\n").unwrap();
    for name in ["a\tb", "a\\tb"] {
        assert!(std::process::Command::new("mkfifo").arg(src.join(name)).status().unwrap().success());
    }
    let out = sb.ingest("C1", &src);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  - not-a-file: ")).collect();
    assert_eq!(lines.len(), 2, "{stdout}\n{}", stderr(&out));
    assert!(lines.iter().all(|l| !l.contains('\t')), "a raw TAB: {lines:?}");
    assert!(lines.iter().any(|l| l.contains("a\\tb") && !l.contains("a\\\\tb")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("a\\\\tb")), "{lines:?}");
}
