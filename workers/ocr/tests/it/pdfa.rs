//! The searchable PDF is a PDF/A-2b with real metadata, checked
//! structurally with pikepdf: XMP pdfaid part 2 conformance B, an output
//! intent with an ICC profile, every font embedded, no encryption.

use exhibit_ocr::{DocumentInfo, PDF_FILE, ocr_to_pdfa};

use crate::common::{fixture, policy};

pub const CHECK: &str = r#"
import sys, pikepdf
pdf = pikepdf.open(sys.argv[1])
assert not pdf.is_encrypted
meta = pdf.open_metadata()
print("part", meta["pdfaid:part"], "conformance", meta["pdfaid:conformance"])
print("title", meta["dc:title"])
print("producer", str(pdf.docinfo["/Producer"]), "created", str(pdf.docinfo["/CreationDate"]))
intents = pdf.Root.OutputIntents
print("intents", len(intents), "icc", len(intents[0].DestOutputProfile.read_bytes()) > 1000)
fonts, embedded = 0, 0
for page in pdf.pages:
    for _, font in page.Resources.get("/Font", {}).items():
        for f in [font] + list(font.get("/DescendantFonts", [])):
            d = f.get("/FontDescriptor")
            if d is None:
                continue
            fonts += 1
            embedded += any(k in d for k in ("/FontFile", "/FontFile2", "/FontFile3"))
print("fonts", fonts, "embedded", embedded, "pages", len(pdf.pages))
print("id", len(pdf.trailer.ID) == 2)
"#;

#[test]
fn searchable_pdf_is_pdfa_2b_with_real_metadata_and_reproducible() {
    let info = DocumentInfo {
        title: "Exhibit JS/2: scans/bundle.tif".into(),
        created: time::macros::datetime!(2026-12-06 04:05:06 UTC),
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let outcome = ocr_to_pdfa(&fixture("bundle-multi.tif"), "image/tiff", &policy(), a.path(), &info).unwrap();
    ocr_to_pdfa(&fixture("bundle-multi.tif"), "image/tiff", &policy(), b.path(), &info).unwrap();
    assert_eq!(outcome.pages.len(), 3);
    let pdf = a.path().join(PDF_FILE);
    let bytes = std::fs::read(&pdf).unwrap();
    assert_eq!(bytes, std::fs::read(b.path().join(PDF_FILE)).unwrap(), "same inputs, same bytes");
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("exhibit-ocr") && !text.contains("D:1970"), "no placeholder title or 1970 date");
    let out = std::process::Command::new("/usr/bin/python3").arg("-c").arg(CHECK).arg(&pdf).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("part 2 conformance B"), "{report}");
    assert!(report.contains("title Exhibit JS/2: scans/bundle.tif"), "{report}");
    assert!(report.contains(&format!("producer exhibit {}", env!("CARGO_PKG_VERSION"))), "{report}");
    assert!(report.contains("created D:20261206040506Z"), "{report}");
    assert!(report.contains("intents 1 icc True"), "{report}");
    assert!(report.contains("fonts 1 embedded 1 pages 3") || report.contains("embedded 3 pages 3"), "{report}");
    assert!(report.contains("id True"), "{report}");
    // pdftotext still reads the text layer in page order.
    if let Some(t) = crate::common::tool("pdftotext", &[pdf.as_os_str(), "-".as_ref()]) {
        assert!(t.find("Exhibits list").unwrap() < t.find("Memorandum").unwrap(), "{t}");
    }
}
