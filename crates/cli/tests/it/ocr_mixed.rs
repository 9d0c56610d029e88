//! Issue 13: a PDF with a scan page and a born-digital page gives one
//! searchable PDF/A with both pages, as its label says, and it reproduces.

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, stderr};
use crate::ocr::{derivatives, ocr_fixture, scans_folder};

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (img2pdf, ghostscript, poppler-utils needed)"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Page 1 the memo scan by img2pdf, page 2 a Ghostscript text page, joined by pdfunite.
fn mixed_pdf(dir: &Path) -> Vec<u8> {
    let (scan, text, ps, mixed) = (dir.join("s.pdf"), dir.join("t.pdf"), dir.join("t.ps"), dir.join("m.pdf"));
    std::fs::write(dir.join("memo.png"), ocr_fixture("memo.png")).unwrap();
    run(Command::new("img2pdf").arg(dir.join("memo.png")).arg("-o").arg(&scan));
    std::fs::write(
        &ps,
        "%!PS\n/Helvetica findfont 30 scalefont setfont 72 650 moveto (Born digital page two) show showpage\n",
    )
    .unwrap();
    let to = format!("-sOutputFile={}", text.display());
    run(Command::new("gs").args(["-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", &to]).arg(&ps));
    run(Command::new("pdfunite").arg(&scan).arg(&text).arg(&mixed));
    std::fs::read(mixed).unwrap()
}

#[test]
fn a_mixed_pdf_gives_a_pdfa_with_every_page_that_reproduces() {
    let sb = Sandbox::new();
    let work = tempfile::tempdir().unwrap();
    let src = scans_folder(&sb, &[("mixed.pdf", mixed_pdf(work.path()))]);
    let args = ["ingest", "--case", "OCR-M", "--exhibit", "JS/5", "--operator", "T", src.to_str().unwrap()];
    let out = sb.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = sb.show_json("OCR-M");
    let derived = derivatives(&shown);
    let pdf = derived.iter().find(|d| d["media_type"]["mime"] == "application/pdf").expect("a searchable PDF");
    assert_eq!(pdf["derivation"]["details"]["label"], "searchable PDF/A of mixed.pdf (2 pages)");
    let copy = sb.dir.path().join("out.pdf");
    let got = sb.run(&["get", "--case", "OCR-M", pdf["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()]);
    assert!(got.status.success(), "{}", stderr(&got));
    let info = String::from_utf8(run(Command::new("pdfinfo").arg(&copy))).unwrap();
    assert!(info.lines().any(|l| l.starts_with("Pages:") && l.ends_with(" 2")), "{info}");
    for (page, words) in [("1", "Memorandum"), ("2", "Born digital page two")] {
        let text = run(Command::new("pdftotext").args(["-f", page, "-l", page]).arg(&copy).arg("-"));
        assert!(String::from_utf8_lossy(&text).contains(words), "page {page}");
    }
    for d in &derived {
        let out = sb.run(&["reproduce", "--case", "OCR-M", "--artefact", d["id"].as_str().unwrap(), "--operator", "T"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{said}{}", stderr(&out));
        assert!(said.contains("reproduced identically"), "{said}");
    }
}
