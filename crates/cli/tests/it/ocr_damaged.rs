//! Issue 13 (tester's repro-5): one page whose image data is damaged no
//! longer loses the whole document. The PDF's page 2 image is cut short and
//! the TIFF's page 3 strip is spoiled; every other page is read, the
//! damaged one is kept in its place and flagged for review, and the run
//! ends "needs attention" (exit 3).

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, stderr};
use crate::ocr::{derivatives, scans_folder};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (python3-pil, pikepdf, img2pdf, poppler-utils)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The tester's inputs, by `scripts/fixtures/damaged-pages.py`.
fn damaged_inputs(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/damaged-pages.py");
    run(Command::new("/usr/bin/python3").arg(script).arg(dir));
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    (read("statement-damaged.pdf"), read("multi-damaged.tif"))
}

#[test]
fn a_damaged_page_image_is_flagged_and_the_other_pages_are_read() {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let (pdf, tiff) = damaged_inputs(work.path());
    let src = scans_folder(&sb, &[("statement-damaged.pdf", pdf), ("multi-damaged.tif", tiff)]);
    let args = ["ingest", "--case", "OCR-D", "--exhibit", "A/1", "--operator", "T", src.to_str().unwrap()];
    let out = sb.run(&args);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "needs attention: {table}{}", stderr(&out));
    assert!(!table.contains("unconverted"), "{table}");
    for line in ["statement-damaged.pdf page 2: needs review", "multi-damaged.tif page 3: needs review"] {
        assert!(table.contains(line), "{line} not in {table}");
    }
    let flagged = sb.run(&["show", "--case", "OCR-D", "--flag", "needs-review"]);
    let flagged = String::from_utf8_lossy(&flagged.stdout);
    assert!(flagged.contains("statement-damaged.pdf") && flagged.contains("multi-damaged.tif"), "{flagged}");
    let shown = sb.show_json("OCR-D");
    let derived = derivatives(&shown);
    let label = |name: &str| format!("searchable PDF/A of {name} (3 pages)");
    for (name, bad) in [("statement-damaged.pdf", 2), ("multi-damaged.tif", 3)] {
        let made = derived.iter().find(|d| d["derivation"]["details"]["label"] == label(name));
        let made = made.unwrap_or_else(|| panic!("no {}: {derived:#?}", label(name)));
        let copy = sb.dir.path().join(format!("{name}.pdf"));
        let got = sb.run(&["get", "--case", "OCR-D", made["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()]);
        assert!(got.status.success(), "{}", stderr(&got));
        let info = run(Command::new("pdfinfo").arg(&copy));
        assert!(info.lines().any(|l| l.starts_with("Pages:") && l.ends_with(" 3")), "{info}");
        for page in (1..=3).filter(|p| *p != bad) {
            let n = page.to_string();
            let text = run(Command::new("pdftotext").args(["-f", &n, "-l", &n]).arg(&copy).arg("-"));
            assert!(text.contains(&format!("Page {page} of the statement")), "{name} page {page}: {text}");
        }
    }
    let (code, report) = sb.verify_json("OCR-D");
    assert_eq!(code, 0, "{report:#}");
    let notes = report["notes"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["kind"] == "needs-review" && n["text"].as_str().unwrap().contains("page 2")));
    for d in &derived {
        let out = sb.run(&["reproduce", "--case", "OCR-D", "--artefact", d["id"].as_str().unwrap(), "--operator", "T"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{said}{}", stderr(&out));
        assert!(said.contains("reproduced identically"), "{said}");
    }
}
