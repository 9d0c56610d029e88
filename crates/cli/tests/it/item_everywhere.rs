//! An item manifest's metadata (description, seizure, seal, device,
//! notes) is shown everywhere a person or a system reads an exhibit: the
//! ingest table and `ingest --json`, `show` and `show --json`, the DFXML
//! listing and the HTML report; and an escape sequence in it reaches no
//! terminal raw.

use std::path::PathBuf;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

const HEADER: &str = "exhibit,path,description,seized_by,seized_at,seized_place,seal,device_make,device_model,device_serial,pages,ocr,notes\n";
const CASE: &str = "ITEM-1";

/// A desk with one item. The manifest refuses C0 controls but in notes
/// (newline, tab), so the hostile text is a bidi override in the serial,
/// a newline in the notes and markup in the description.
fn desk(sb: &Sandbox) -> PathBuf {
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("usb")).unwrap();
    std::fs::write(desk.join("usb/letter.txt"), "Dear Sir,\n").unwrap();
    let csv = format!(
        "{HEADER}JS/1,usb,\"USB stick, blue <b>&\",PC 123 Smith,2024-03-01T14:30:00Z,\"12 High St, Leeds\",SEAL-0042,SanDisk,Cruzer,SN\u{202e}123,,off,\"bag torn\nresealed\"\n"
    );
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    desk
}

fn ingest(sb: &Sandbox, desk: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let manifest = desk.join("items.csv");
    let mut args =
        vec!["ingest", "--case", CASE, "--operator", "Test Officer", "--manifest", manifest.to_str().unwrap()];
    args.extend_from_slice(extra);
    sb.run(&args)
}

fn assert_item_json(item: &Value, context: &str) {
    assert_eq!(item["description"], "USB stick, blue <b>&", "{context}");
    assert_eq!(item["seized_by"], "PC 123 Smith", "{context}");
    assert_eq!(item["seized_at"], "2024-03-01T14:30:00Z", "{context}");
    assert_eq!(item["seized_place"], "12 High St, Leeds", "{context}");
    assert_eq!(item["seal"], "SEAL-0042", "{context}");
    assert_eq!(item["device_make"], "SanDisk", "{context}");
    assert_eq!(item["device_model"], "Cruzer", "{context}");
    assert_eq!(item["device_serial"], "SN\u{202e}123", "{context}");
    assert_eq!(item["ocr"], false, "{context}");
    assert_eq!(item["notes"], "bag torn\nresealed", "{context}");
}

#[test]
fn ingest_json_and_the_table_carry_the_item() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    let out = ingest(&sb, &desk, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // One document: each row's result holds its ingest summary, which has the item.
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap_or_else(|| panic!("{doc:#}"));
    let row = rows.iter().find(|r| r["ingest"]["exhibit"] == "JS/1").unwrap_or_else(|| panic!("{doc:#}"));
    assert_item_json(&row["ingest"]["item"], "ingest --json");

    // The table a person reads, rerun (nothing new is recorded): the
    // item's lines, escaped, under the exhibit's heading.
    let out = ingest(&sb, &desk, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in [
        "  description: USB stick, blue <b>&",
        "  seized by PC 123 Smith, at 2024-03-01T14:30:00Z, in 12 High St, Leeds",
        "  seal or bag SEAL-0042",
        "  device SanDisk Cruzer serial SN\\u{202e}123",
        "  notes: bag torn\\nresealed",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    assert!(!text.contains('\u{202e}'), "a bidi override reached the terminal raw: {text:?}");
}

#[test]
fn show_and_show_json_carry_the_item() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    assert_eq!(ingest(&sb, &desk, &[]).status.code(), Some(0));
    let text = String::from_utf8_lossy(&sb.run(&["show", "--case", CASE]).stdout).into_owned();
    for line in [
        "exhibit JS/1: USB stick, blue <b>&",
        "  seized by PC 123 Smith, at 2024-03-01T14:30:00Z, in 12 High St, Leeds",
        "  seal or bag SEAL-0042",
        "  device SanDisk Cruzer serial SN\\u{202e}123",
        "  OCR off",
        "  notes: bag torn\\nresealed",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    assert!(!text.contains('\u{202e}'), "{text:?}");
    let shown = sb.show_json(CASE);
    assert_eq!(shown["items"][0]["exhibit"], "JS/1");
    assert_item_json(&shown["items"][0]["item"], "show --json");
}

#[test]
fn the_dfxml_listing_carries_the_item_in_its_metadata() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    assert_eq!(ingest(&sb, &desk, &[]).status.code(), Some(0));
    let out = sb.run(&["listing", "--case", CASE, "--exhibit", "JS/1", "--format", "dfxml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = String::from_utf8(out.stdout).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let ns = "urn:x-exhibit:dfxml:1";
    let metadata = doc.descendants().find(|n| n.has_tag_name("metadata")).expect("<metadata>");
    let item = metadata.children().find(|n| n.has_tag_name((ns, "item"))).unwrap_or_else(|| panic!("{xml}"));
    assert_eq!(item.attribute("exhibit"), Some("JS/1"));
    let field =
        |name: &str| item.children().find(|n| n.has_tag_name((ns, name))).and_then(|n| n.text()).map(str::to_owned);
    assert_eq!(field("description").as_deref(), Some("USB stick, blue <b>&"), "{xml}");
    assert_eq!(field("seized_by").as_deref(), Some("PC 123 Smith"));
    assert_eq!(field("seized_at").as_deref(), Some("2024-03-01T14:30:00Z"));
    assert_eq!(field("seized_place").as_deref(), Some("12 High St, Leeds"));
    assert_eq!(field("seal").as_deref(), Some("SEAL-0042"));
    assert_eq!(field("device_make").as_deref(), Some("SanDisk"));
    assert_eq!(field("device_model").as_deref(), Some("Cruzer"));
    // Text DFXML cannot carry as is is escaped reversibly, as names are.
    let serial = field("device_serial").unwrap();
    let back = exhibit_intake::explore::name_text::unescape(&serial).unwrap();
    assert_eq!(back, "SN\u{202e}123".as_bytes(), "{serial}");
    assert_eq!(field("ocr").as_deref(), Some("false"));
    let notes = field("notes").unwrap();
    assert_eq!(exhibit_intake::explore::name_text::unescape(&notes).unwrap(), b"bag torn\nresealed", "{notes}");
    // The file entries are still there after it.
    assert!(doc.descendants().any(|n| n.has_tag_name("fileobject")), "{xml}");
}

#[test]
fn the_html_report_and_verify_json_carry_the_item() {
    let sb = Sandbox::new();
    let desk = desk(&sb);
    assert_eq!(ingest(&sb, &desk, &[]).status.code(), Some(0));
    let html = sb.dir.path().join("report.html");
    let (code, report) = sb.verify_json_with(CASE, &["--report", html.to_str().unwrap()]);
    assert!(code == 0 || code == 3, "{report:#}");
    let js1 = report["exhibits"].as_array().unwrap().iter().find(|e| e["exhibit"] == "JS/1").unwrap();
    assert_item_json(&js1["item"], "verify --json");
    let page = std::fs::read_to_string(&html).unwrap();
    let section = page.split("<h4>Item</h4>").nth(1).unwrap_or_else(|| panic!("no Item section:\n{page}"));
    let section = section.split("</dl>").next().unwrap();
    for (term, value) in [
        ("Description", "USB stick, blue &lt;b&gt;&amp;"),
        ("Seized by", "PC 123 Smith"),
        ("Seized at", "2024-03-01T14:30:00Z"),
        ("Seized where", "12 High St, Leeds"),
        ("Seal or bag", "SEAL-0042"),
        ("Device make", "SanDisk"),
        ("Device model", "Cruzer"),
        ("OCR", "off"),
    ] {
        assert!(section.contains(&format!("<dt>{term}</dt><dd>{value}</dd>")), "{term}: {section}");
    }
    assert!(section.contains("<dt>Device serial</dt><dd>SN"), "{section}");
    assert!(section.contains("<dt>Notes</dt><dd>bag torn"), "{section}");
    assert!(!page.contains("<b>&"), "evidence text is escaped in the page");
}
