//! The second attack pass at the scanning desk (issue 13): what a person
//! sees of a run, `show`'s header and order, refs with white space around
//! them, and `ingest --json` for a scan bundle.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::{Sandbox, fixture, stderr};

const CASE: &str = "DESK-2";

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ingest(sb: &Sandbox, extra: &[&str], src: &Path) -> Output {
    let mut args = extra.to_vec();
    args.extend(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Tester", src.to_str().unwrap()]);
    sb.run(&args)
}

/// A FIFO (not a file: nothing to read) and a cut PNG that no decoder
/// reads (unconverted); both need attention.
fn troubled_sources(sb: &Sandbox) -> PathBuf {
    let src = sb.dir.path().join("troubled");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("statement.txt"), "I saw the defendant.\n").unwrap();
    let png = std::fs::read(fixture("ocr/memo.png")).unwrap();
    std::fs::write(src.join("cut.png"), &png[..3000]).unwrap();
    assert!(Command::new("mkfifo").arg(src.join("a-fifo")).status().unwrap().success());
    src
}

/// At the default verbosity each problem is said once, in the summary,
/// with what to do: no tracing WARN lines (dead-lettered jobs, retries)
/// and no running copy of the failure. `-v` shows the log lines.
#[test]
fn default_verbosity_says_each_problem_once() {
    let sb = Sandbox::new();
    let src = troubled_sources(&sb);
    let out = ingest(&sb, &[], &src);
    assert_eq!(out.status.code(), Some(3), "needs attention: {}{}", stdout(&out), stderr(&out));
    let (text, err) = (stdout(&out), stderr(&out));
    let all = format!("{text}{err}");
    assert!(!err.contains("WARN") && !err.contains("INFO"), "no log lines by default: {err}");
    assert_eq!(all.matches("a-fifo").count(), 1, "the FIFO once: {all}");
    assert_eq!(all.matches("cut.png").count(), 1, "the cut PNG once: {all}");
    assert_eq!(text.matches("what to do").count(), 2, "each attention line says what to do: {text}");

    let verbose = ingest(&sb, &["-v"], &src);
    let err = stderr(&verbose);
    assert!(err.contains("WARN") || err.contains("INFO"), "-v shows the log: {err}");
}

/// A fatal error, which no summary reports, is still printed at the
/// default verbosity and with `-q`.
#[test]
fn a_fatal_error_is_printed_at_every_verbosity() {
    let sb = Sandbox::new();
    let missing = sb.dir.path().join("no-such-folder");
    for extra in [&[][..], &["-q"][..]] {
        let out = ingest(&sb, extra, &missing);
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        assert!(stderr(&out).contains("no-such-folder"), "{extra:?}: {}", stderr(&out));
    }
}

/// `show --flag` counts the artefacts that carry the flag, not the
/// image shown above them as context.
#[test]
fn show_flag_header_counts_only_the_flagged_artefacts() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("fat");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixture("fat/fat12.img"), src.join("fat12.img")).unwrap();
    assert!(ingest(&sb, &[], &src).status.success());
    let out = sb.run(&["show", "--case", CASE, "--flag", "deleted"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().next().unwrap_or_default();
    assert!(header.contains("4 artefact(s) flagged deleted"), "{text}");
    assert!(!header.contains("5 artefact") && !header.contains("1 original"), "the image is context: {text}");
    assert!(text.contains("fat12.img"), "the image is still shown: {text}");
    let totals = text.lines().find(|l| l.trim_start().starts_with("totals:")).unwrap_or_default();
    assert!(totals.contains("4 flagged deleted"), "{text}");
}

/// Names sort as a file manager sorts them: page2 before page10.
#[test]
fn show_sorts_numbered_names_naturally() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("pages");
    std::fs::create_dir_all(&src).unwrap();
    for n in [1, 10, 2, 11, 3] {
        std::fs::write(src.join(format!("page{n}.txt")), format!("page {n}\n")).unwrap();
    }
    assert!(ingest(&sb, &[], &src).status.success());
    let text = stdout(&sb.run(&["show", "--case", CASE]));
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.contains("/page")))
        .filter_map(|path| path.rsplit('/').next())
        .collect();
    let expected: Vec<String> = [1, 2, 3, 10, 11].iter().map(|n| format!("page{n}.txt")).collect();
    assert_eq!(order, expected, "{text}");
}

/// An exhibit ref with white space around it is refused on the command
/// line and in a manifest row alike, and the message says why.
#[test]
fn a_ref_with_white_space_around_it_is_refused_everywhere() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = sb.run(&["ingest", "--case", CASE, "--exhibit", "JS/1 ", "--operator", "T", src.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("white space"), "{}", stderr(&out));
    let manifest = sb.dir.path().join("items.csv");
    std::fs::write(&manifest, "exhibit,path\n\" J/13\",src\nJ/14,src/sub\n").unwrap();
    let out = sb.run(&["ingest", "--case", CASE, "--operator", "T", "--manifest", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("line 2") && err.contains("white space"), "{err}");
    let shown = sb.show_json(CASE);
    let exhibits: Vec<&str> =
        shown["artefacts"].as_array().unwrap().iter().filter_map(|a| a["exhibit"].as_str()).collect();
    assert!(exhibits.contains(&"J/14"), "the other row goes ahead: {exhibits:?}");
    assert!(!exhibits.iter().any(|e| e.contains("13")), "no trimmed J/13: {exhibits:?}");
}

/// `ingest --json` names a scan bundle's searchable PDF/A as `show` does,
/// with its folder, not the ID of its first page's PDF.
#[test]
fn ingest_json_names_the_bundle_pdf() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixture("ocr/memo.png"), src.join("page1.png")).unwrap();
    std::fs::copy(fixture("ocr/rotated-90.png"), src.join("page2.png")).unwrap();
    let json = sb.run(&[
        "ingest",
        "--case",
        CASE,
        "--exhibit",
        "JS/1",
        "--operator",
        "Tester",
        "--json",
        src.to_str().unwrap(),
    ]);
    assert!(json.status.success(), "{}", stderr(&json));
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(&json)));
    let rows = doc["artefacts"].as_array().unwrap();
    let bundle = rows.iter().find(|r| r["path"].as_str().unwrap_or_default().starts_with("ocr-bundle-pdf"));
    let bundle = bundle.unwrap_or_else(|| panic!("no bundle row: {doc:#}"));
    assert_eq!(bundle["path"], "ocr-bundle-pdf of scans/", "{bundle:#}");
    assert_eq!(bundle["what"], "searchable PDF of scans/ (2 pages)", "{bundle:#}");
    assert!(bundle["id"].as_str().is_some_and(|id| id.len() == 32), "{bundle:#}");
    let page_1 = |r: &&Value| {
        let path = r["path"].as_str().unwrap_or_default();
        path.starts_with("ocr-searchable-pdf of ") && path.ends_with("scans/page1.png")
    };
    let page = rows.iter().find(page_1).unwrap_or_else(|| panic!("page 1's PDF: {doc:#}"));
    assert!(page["what"].as_str().is_some_and(|w| w.starts_with("searchable PDF")), "{page:#}");
}

/// A FIFO in an evidence folder (attack pass on issue 13) is listed for
/// attention, recorded once however often the folder is ingested, and
/// every run reads the same (exit 3). Before, each run failed with exit 2,
/// told the user to rerun, and recorded the failure again. `exhibit hash`
/// given the FIFO itself says it hashed nothing.
#[test]
fn a_fifo_is_recorded_once_and_every_run_reads_the_same() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("with-fifo");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("note.txt"), "hello\n").unwrap();
    assert!(Command::new("mkfifo").arg(src.join("pipe")).status().unwrap().success());
    for run in 0..3 {
        let out = ingest(&sb, &[], &src);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(3), "run {run}: {text}{}", stderr(&out));
        assert!(text.contains("not-a-file") && text.contains("pipe"), "run {run}: {text}");
        assert!(!stderr(&out).contains("rerun the same command"), "run {run}: {}", stderr(&out));
    }
    let failed = sb.ledger(CASE).into_iter().filter(|(_, e)| e["action"] == "failed").count();
    assert_eq!(failed, 1, "recorded once");
    let hashed = sb.run(&["hash", src.join("pipe").to_str().unwrap()]);
    assert_eq!(hashed.status.code(), Some(2));
    assert!(stderr(&hashed).contains("not a regular file"), "{}", stderr(&hashed));
}
