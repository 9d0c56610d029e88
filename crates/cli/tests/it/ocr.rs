//! Scans end to end: text, hOCR and a searchable PDF per scan, linked to
//! it, and the bundle's page count reconciled.

use std::path::Path;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

#[test]
fn scans_get_text_hocr_and_searchable_pdf_and_the_bundle_is_reconciled() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir(&src).unwrap();
    for name in ["statement-g4.tif", "memo.png"] {
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name), src.join(name))
            .unwrap();
    }
    let out = sb.run(&[
        "ingest",
        "--case",
        "OCR-1",
        "--exhibit",
        "JS/2",
        "--operator",
        "Test",
        "--pages",
        "5",
        src.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "a page count mismatch needs attention: {}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("page-count-mismatch"), "2 pages scanned, 5 expected: {table}");
    let shown = sb.show_json("OCR-1");
    let (bundle, derived): (Vec<&Value>, Vec<&Value>) = shown["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "derivative")
        .partition(|a| a["derivation"]["rule"] == "ocr-bundle-pdf");
    let mimes: Vec<&str> = derived.iter().map(|d| d["media_type"]["mime"].as_str().unwrap()).collect();
    for mime in ["text/plain", "text/vnd.hocr+html", "application/pdf"] {
        assert_eq!(mimes.iter().filter(|m| **m == mime).count(), 2, "{mime} per scan: {mimes:?}");
    }
    assert_eq!(bundle.len(), 1, "and one PDF of the whole folder");
    assert_eq!(bundle[0]["derivation"]["details"]["label"], "searchable PDF of scans/ (2 pages)");
    let text = derived.iter().find(|d| d["media_type"]["mime"] == "text/plain").unwrap();
    let pages = &text["derivation"]["details"]["pages"];
    assert!(pages[0]["word_count"].as_u64().unwrap() > 10, "{pages}");
    let copy = sb.dir.path().join("text.txt");
    assert!(
        sb.run(&["get", "--case", "OCR-1", text["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()])
            .status
            .success()
    );
    assert!(!std::fs::read_to_string(&copy).unwrap().trim().is_empty());
    let (code, report) = sb.verify_json("OCR-1");
    assert_eq!(code, 0, "{report:#}");
    assert!(report["notes"].as_array().unwrap().iter().any(|n| n["kind"] == "page-count-mismatch"));
}

pub fn scans_folder(sb: &Sandbox, files: &[(&str, Vec<u8>)]) -> std::path::PathBuf {
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    for (name, bytes) in files {
        std::fs::write(src.join(name), bytes).unwrap();
    }
    src
}

pub fn ocr_fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name)).unwrap()
}

pub fn derivatives(shown: &Value) -> Vec<&Value> {
    shown["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "derivative").collect()
}

/// An img2pdf scan PDF gives one searchable PDF/A-2b with the exhibit's
/// title, the ingest's date and exhibit's producer, and `reproduce` re-runs
/// the OCR of each output to the same bytes.
#[test]
fn a_scan_pdf_gives_one_pdfa_and_every_ocr_output_reproduces() {
    let sb = Sandbox::new();
    let src = scans_folder(&sb, &[("scans.pdf", ocr_fixture("scans.pdf"))]);
    let args = ["ingest", "--case", "OCR-A", "--exhibit", "JS/3", "--operator", "T", src.to_str().unwrap()];
    let out = sb.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = sb.show_json("OCR-A");
    let derived = derivatives(&shown);
    let pdfs: Vec<&&Value> = derived.iter().filter(|d| d["media_type"]["mime"] == "application/pdf").collect();
    assert_eq!(pdfs.len(), 1, "one PDF for the 3-page document");
    let details = &pdfs[0]["derivation"]["details"];
    assert_eq!(details["label"], "searchable PDF/A of scans.pdf (3 pages)", "{details}");
    let copy = sb.dir.path().join("out.pdf");
    let got = sb.run(&["get", "--case", "OCR-A", pdfs[0]["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()]);
    assert!(got.status.success(), "{}", stderr(&got));
    let check = "import sys, pikepdf\np = pikepdf.open(sys.argv[1])\nm = p.open_metadata()\n\
                 print(m['pdfaid:part'], m['pdfaid:conformance'], m['dc:title'], str(p.docinfo['/Producer']), \
                 str(p.docinfo['/CreationDate'])[:6], len(p.Root.OutputIntents), len(p.pages))";
    let py = std::process::Command::new("/usr/bin/python3").args(["-c", check]).arg(&copy).output().unwrap();
    let report = String::from_utf8_lossy(&py.stdout);
    assert!(py.status.success(), "{}", String::from_utf8_lossy(&py.stderr));
    let year = &details["pdf_created"].as_str().unwrap()[..4];
    assert_eq!(
        report.trim(),
        format!("2 B Exhibit JS/3: scans.pdf exhibit {} D:{year} 1 3", env!("CARGO_PKG_VERSION")),
        "{details}"
    );
    assert_ne!(year, "1970");
    for d in &derived {
        let out = sb.run(&["reproduce", "--case", "OCR-A", "--artefact", d["id"].as_str().unwrap(), "--operator", "T"]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{said}{}", stderr(&out));
        assert!(said.contains("reproduced identically"), "{said}");
    }
}

/// OCR can be switched off, and a camera photo (EXIF make and exposure) is
/// not OCRed by default while a scan JPEG is; each skip is recorded once.
#[test]
fn ocr_is_off_for_photos_by_default_and_off_entirely_by_config() {
    let scan = ocr_fixture("letter.jpg");
    // The same page with a camera's EXIF: Make in IFD0, ExposureTime in the Exif IFD.
    let mut tiff = b"II*\0\x08\0\0\0\x02\0".to_vec();
    tiff.extend_from_slice(&[0x0F, 0x01, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[0x69, 0x87, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[1, 0, 0x9A, 0x82, 4, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE1];
    photo.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    photo.extend_from_slice(b"Exif\0\0");
    photo.extend_from_slice(&tiff);
    photo.extend_from_slice(&scan[2..]);
    let sb = Sandbox::new();
    let src = scans_folder(&sb, &[("scan.jpg", scan.clone()), ("photo.jpg", photo)]);
    let out = sb.run(&["ingest", "--case", "OCR-P", "--exhibit", "JS/4", "--operator", "T", src.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = sb.show_json("OCR-P");
    let texts: Vec<&Value> =
        derivatives(&shown).into_iter().filter(|d| d["media_type"]["mime"] == "text/plain").collect();
    assert_eq!(texts.len(), 1, "only the scan is OCRed");
    assert_eq!(texts[0]["derivation"]["details"]["label"], "OCR text of scan.jpg (1 page)");
    let skipped: Vec<String> =
        sb.ledger("OCR-P").iter().filter_map(|(_, e)| e["params"]["skipped"].as_str().map(str::to_owned)).collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(skipped[0].contains("camera photo"), "{skipped:?}");

    let sb = Sandbox::new();
    let src = scans_folder(&sb, &[("scan.jpg", scan)]);
    let out = sb
        .exhibit()
        .env("EXHIBIT__OCR__ENABLED", "false")
        .args(["ingest", "--case", "OCR-OFF", "--exhibit", "JS/5", "--operator", "T", src.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(derivatives(&sb.show_json("OCR-OFF")).is_empty());
}

/// An item manifest's `ocr` column switches OCR off for its exhibit only.
#[test]
fn an_item_manifest_row_switches_ocr_off_for_its_exhibit() {
    let scan = ocr_fixture("letter.jpg");
    let sb = Sandbox::new();
    let desk = sb.dir.path().join("desk");
    for dir in ["off", "on"] {
        std::fs::create_dir_all(desk.join(dir)).unwrap();
        std::fs::write(desk.join(dir).join("scan.jpg"), &scan).unwrap();
    }
    let csv = "exhibit,path,ocr\nJS/OFF,off,off\nJS/ON,on,\n";
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let manifest = desk.join("items.csv");
    let out = sb.run(&["ingest", "--case", "OCR-M", "--operator", "T", "--manifest", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let shown = sb.show_json("OCR-M");
    let texts: Vec<&str> = derivatives(&shown)
        .into_iter()
        .filter(|d| d["media_type"]["mime"] == "text/plain")
        .map(|d| d["exhibit"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["JS/ON"], "only the exhibit whose row leaves OCR on is OCRed");
    let skipped: Vec<(String, String)> = sb
        .ledger("OCR-M")
        .iter()
        .filter_map(|(_, e)| Some((e["exhibit"].as_str()?.to_owned(), e["params"]["skipped"].as_str()?.to_owned())))
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].0, "JS/OFF", "{skipped:?}");
}

/// A one-page PDF drawing `content` in Helvetica, with a correct xref.
pub fn text_pdf(content: &str) -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    out
}

/// Issue 13: a born-digital PDF is reported as already text (no empty OCR
/// outputs, the reason in the ledger and the summary), and a damaged PDF's
/// reason is one line for people, without the parser's source paths.
#[test]
fn a_born_digital_pdf_is_already_text_and_a_damaged_one_is_one_clear_line() {
    let sb = Sandbox::new();
    let born = text_pdf("BT /F1 24 Tf 72 700 Td (Born digital text page) Tj ET");
    let damaged = born[..born.len() / 2].to_vec();
    let src = scans_folder(&sb, &[("born.pdf", born)]);
    let args = ["ingest", "--case", "OCR-T", "--exhibit", "T/1", "--operator", "T", src.to_str().unwrap()];
    let out = sb.run(&args);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}{}", stderr(&out));
    assert!(table.contains("born.pdf: already text: every page (1) has a text layer"), "{table}");
    assert!(table.contains("needs attention: nothing"), "{table}");
    assert!(derivatives(&sb.show_json("OCR-T")).is_empty(), "no empty OCR outputs");
    let ledger = sb.ledger("OCR-T");
    let ocr = ledger.iter().map(|(_, e)| e).find(|e| e["action"] == "ocr").expect("an OCR event");
    assert_eq!(ocr["params"]["pages_with_text_layer"], 1, "{ocr}");
    let shown = sb.run(&["show", "--case", "OCR-T"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.lines().any(|l| l.starts_with("note: ") && l.contains("born.pdf: already text")), "{shown}");

    let src = scans_folder(&sb, &[("trunc.pdf", damaged)]);
    std::fs::remove_file(src.join("born.pdf")).unwrap();
    let args = ["ingest", "--case", "OCR-T", "--exhibit", "T/2", "--operator", "T", src.to_str().unwrap()];
    let out = sb.run(&args);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{table}{}", stderr(&out));
    let line = table.lines().find(|l| l.contains("unconverted:")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("trunc.pdf") && line.contains("PDF page 1"), "{line}");
    for leak in ["\\n", ".rs:", ".cargo", "Try at", "caused by"] {
        assert!(!line.contains(leak), "{leak} in {line}");
    }
}
