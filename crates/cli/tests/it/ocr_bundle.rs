//! A folder of loose page images gives one searchable PDF/A-2b in page
//! order, recorded as a derivative of every page PDF; verify, reproduce,
//! reruns (one after a kill during the bundle job) and a page that is not
//! an image.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name)).unwrap()
}

/// Five pages of mixed kinds (CCITT G4 TIFF, PNG, JPEG), named so that
/// byte order (page-1, page-10, page-2...) is not page order; with the word
/// that each page's text holds.
const PAGES: [(&str, &str, &str); 5] = [
    ("page-1.tif", "statement-g4.tif", "premises"),
    ("page-2.png", "memo.png", "Memorandum"),
    ("page-3.jpg", "letter.jpg", "hearing"),
    ("page-9.png", "rotated-90.png", "notebook"),
    ("page-10.tif", "rotated-180.tif", "Witness"),
];

fn scans(sb: &Sandbox, pages: &[(&str, &str, &str)]) -> PathBuf {
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    for (name, from, _) in pages {
        std::fs::write(src.join(name), fixture(from)).unwrap();
    }
    src
}

fn ingest(sb: &Sandbox, case: &str, src: &Path) -> std::process::Output {
    sb.run(&["ingest", "--case", case, "--exhibit", "JS/5", "--operator", "T", src.to_str().unwrap()])
}

fn bundles(shown: &Value) -> Vec<Value> {
    let all = shown["artefacts"].as_array().unwrap();
    all.iter().filter(|a| a["derivation"]["rule"] == "ocr-bundle-pdf").cloned().collect()
}

fn get(sb: &Sandbox, case: &str, artefact: &Value, to: &str) -> PathBuf {
    let copy = sb.dir.path().join(to);
    let out = sb.run(&["get", "--case", case, artefact["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    copy
}

/// PDF/A-2b structure (XMP pdfaid, an sRGB output intent with its ICC
/// profile, every font embedded, no encryption) and the metadata, by pikepdf.
const PDFA_CHECK: &str = r#"
import sys, pikepdf
p = pikepdf.open(sys.argv[1])
m = p.open_metadata()
assert not p.is_encrypted
intent = p.Root.OutputIntents[0]
assert intent.S == "/GTS_PDFA1" and len(intent.DestOutputProfile.read_bytes()) > 1000
for page in p.pages:
    for name, font in page.Resources.Font.items():
        fonts = font.get("/DescendantFonts", [font])
        assert all("/FontFile2" in f.FontDescriptor or "/FontFile" in f.FontDescriptor for f in fonts), name
print(m["pdfaid:part"], m["pdfaid:conformance"], "|", m["dc:title"], "|", str(p.docinfo["/Producer"]), "|",
      str(p.docinfo["/CreationDate"]), "|", len(p.pages))
"#;

fn page_text(pdf: &Path, page: usize) -> String {
    let n = page.to_string();
    let out = std::process::Command::new("pdftotext")
        .args(["-f", &n, "-l", &n, "-layout"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_folder_of_page_images_gives_one_pdfa_in_page_order_that_verifies_and_reproduces() {
    let sb = Sandbox::new();
    let src = scans(&sb, &PAGES);
    let out = ingest(&sb, "BND-1", &src);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let shown = sb.show_json("BND-1");
    let found = bundles(&shown);
    assert_eq!(found.len(), 1, "one bundle PDF for the folder");
    let bundle = &found[0];
    let details = &bundle["derivation"]["details"];
    assert_eq!(details["label"], "searchable PDF of scans/ (5 pages)");
    let order: Vec<&str> =
        details["bundle_files"]["inputs"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
    let names: Vec<&str> = order.iter().map(|p| p.rsplit('/').next().unwrap()).collect();
    assert_eq!(names, PAGES.iter().map(|p| p.0).collect::<Vec<_>>(), "natural order of names");
    // The ledger names every page PDF as an input, in page order, with its hash.
    let ledger = sb.ledger("BND-1");
    let event = ledger.iter().map(|(_, e)| e).find(|e| e["artefact"]["id"] == bundle["id"]).unwrap();
    let inputs: Vec<&Value> = event["inputs"].as_array().unwrap().iter().collect();
    assert_eq!(inputs.len(), 5);
    for (input, recorded) in inputs.iter().zip(details["bundle_files"]["inputs"].as_array().unwrap()) {
        assert_eq!((&input["id"], &input["sha256"]), (&recorded["pdf"], &recorded["pdf_sha256"]));
    }
    let pdf = get(&sb, "BND-1", bundle, "bundle.pdf");
    let py = std::process::Command::new("/usr/bin/python3").args(["-c", PDFA_CHECK]).arg(&pdf).output().unwrap();
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let report = String::from_utf8_lossy(&py.stdout);
    let created = details["pdf_created"].as_str().unwrap();
    let date = format!("D:{}Z", created.trim_end_matches('Z').replace(['-', 'T', ':'], ""));
    assert_eq!(
        report.trim(),
        format!("2 B | Exhibit JS/5: scans/ | exhibit {} | {date} | 5", env!("CARGO_PKG_VERSION")),
    );
    for (i, (_, _, word)) in PAGES.iter().enumerate() {
        let text = page_text(&pdf, i + 1);
        assert!(text.contains(word), "page {} should read {word:?}: {text}", i + 1);
    }
    let text = String::from_utf8_lossy(&sb.run(&["show", "--case", "BND-1"]).stdout).into_owned();
    assert!(text.contains("searchable PDF of scans/ (5 pages)"), "{text}");
    let (code, verified) = sb.verify_json("BND-1");
    assert_eq!(code, 0, "{verified:#}");
    let again =
        sb.run(&["reproduce", "--case", "BND-1", "--artefact", bundle["id"].as_str().unwrap(), "--operator", "T"]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{said}{}", stderr(&again));
    assert!(said.contains("reproduced identically"), "{said}");

    // A rerun records nothing; a page added later gives a new bundle beside the old.
    let before = sb.ledger("BND-1").len();
    assert_eq!(ingest(&sb, "BND-1", &src).status.code(), Some(0));
    assert_eq!(sb.ledger("BND-1").len(), before, "a rerun records nothing");
    std::fs::write(src.join("page-11.png"), fixture("memo.png")).unwrap();
    assert_eq!(ingest(&sb, "BND-1", &src).status.code(), Some(0));
    let found = bundles(&sb.show_json("BND-1"));
    let labels: Vec<&str> = found.iter().map(|b| b["derivation"]["details"]["label"].as_str().unwrap()).collect();
    assert_eq!(found.len(), 2, "{labels:?}");
    assert!(labels.contains(&"searchable PDF of scans/ (6 pages)"), "{labels:?}");
    assert_eq!(sb.verify_json("BND-1").0, 0);
}

#[test]
fn a_page_that_is_not_an_image_is_left_out_loudly_and_the_bundle_is_flagged() {
    let sb = Sandbox::new();
    let src = scans(&sb, &[PAGES[0], PAGES[2], PAGES[3]]);
    std::fs::write(src.join("page-2.png"), b"this page is a text file, not a scan\n").unwrap();
    let out = ingest(&sb, "BND-2", &src);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "needs attention: {table}{}", stderr(&out));
    assert!(table.contains("page-count-mismatch"), "{table}");
    assert!(table.contains("3 of 4 page files") && table.contains("page-2.png"), "{table}");
    let found = bundles(&sb.show_json("BND-2"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["derivation"]["details"]["label"], "searchable PDF of scans/ (3 pages)");
    assert!(found[0]["flags"].as_array().unwrap().iter().any(|f| f == "incomplete-bundle"), "{}", found[0]);
    let missing = &found[0]["derivation"]["details"]["bundle_files"]["missing"];
    assert!(missing[0]["why"].as_str().unwrap().contains("not a page image"), "{missing}");
    let flagged = sb.run(&["show", "--case", "BND-2", "--flag", "incomplete-bundle"]);
    assert!(String::from_utf8_lossy(&flagged.stdout).contains("searchable PDF of scans/ (3 pages)"));
}

/// Runs the ingest of `src` into `case` until its bundle job has made the
/// bundle PDF, then SIGKILLs it before the PDF is recorded. False if the
/// ingest ended first.
fn ingest_killed_in_the_bundle_job(sb: &Sandbox, case: &str, src: &Path) -> bool {
    let mut child = sb
        .exhibit()
        .env("EXHIBIT_LOG", "warn,exhibit_ocr=info")
        .args(["ingest", "--case", case, "--exhibit", "JS/5", "--operator", "T"])
        .arg(src)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let reached = lines.any(|line| line.is_ok_and(|l| l.contains("bundle PDF made")));
    child.kill().unwrap();
    child.wait().unwrap();
    reached
}

/// The bundle job killed after it made the PDF and before it was recorded:
/// the pages' OCR is recorded, so the rerun queues no OCR job, yet it
/// still makes the bundle, once; a further rerun records nothing.
#[test]
fn a_rerun_after_a_kill_in_the_bundle_job_makes_the_bundle_once() {
    let sb = Sandbox::new();
    let src = scans(&sb, &PAGES[..3]);
    assert!(ingest_killed_in_the_bundle_job(&sb, "BND-3", &src), "the ingest reached its bundle job");
    let shown = sb.show_json("BND-3");
    let page_pdfs = shown["artefacts"].as_array().unwrap().iter();
    let page_pdfs = page_pdfs.filter(|a| a["derivation"]["rule"] == "ocr-searchable-pdf").count();
    assert_eq!(page_pdfs, 3, "every page was OCRed before the kill");
    assert!(bundles(&sb.show_json("BND-3")).is_empty(), "the kill came before the bundle was recorded");
    let out = ingest(&sb, "BND-3", &src);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let found = bundles(&sb.show_json("BND-3"));
    assert_eq!(found.len(), 1, "one bundle PDF after the rerun");
    assert_eq!(found[0]["derivation"]["details"]["label"], "searchable PDF of scans/ (3 pages)");
    let recorded = |sb: &Sandbox| {
        let ledger = sb.ledger("BND-3");
        ledger.iter().filter(|(_, e)| e["action"] == "ocr" && e["artefact"]["id"] == found[0]["id"]).count()
    };
    assert_eq!(recorded(&sb), 1, "the bundle is recorded once");
    let before = sb.ledger("BND-3").len();
    assert_eq!(ingest(&sb, "BND-3", &src).status.code(), Some(0));
    assert_eq!(sb.ledger("BND-3").len(), before, "a further rerun records nothing");
    assert_eq!((bundles(&sb.show_json("BND-3")).len(), recorded(&sb)), (1, 1));
    let (code, report) = sb.verify_json("BND-3");
    assert_eq!(code, 0, "{report:#}");
}
