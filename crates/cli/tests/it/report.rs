//! The integrity report of a demo case (hostile names, a scan, a voicemail
//! with its reproduced access copy, an E01): `verify --report` writes HTML
//! that loads in headless Chromium with no axe-core violations at WCAG 2.2
//! AA, and `--json` carries the same data.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, fixture, stderr};

const CASE: &str = "DEMO-1";
const HOSTILE: [&str; 4] =
    ["<img src=x onerror=alert(1)>.txt", "bad\u{fffe}name.txt", "rtl\u{202e}txt.exe", "esc\u{1b}[31m.txt"];

fn demo_case(sb: &Sandbox) {
    let src = sb.dir.path().join("desk");
    std::fs::create_dir_all(&src).unwrap();
    for (n, name) in HOSTILE.iter().enumerate() {
        std::fs::write(src.join(name), format!("hostile {n}\n")).unwrap();
    }
    std::fs::copy(fixture("ocr/memo.png"), src.join("memo.png")).unwrap();
    std::fs::copy(fixture("media/voicemail_u8.wav"), src.join("voicemail.wav")).unwrap();
    let out = sb.ingest(CASE, &src);
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 3), "ingest: {}", stderr(&out));
    let e01 = fixture("damaged/ntfs-best.E01");
    let out =
        sb.run(&["ingest", "--case", CASE, "--exhibit", "JS/2", "--operator", "Test Officer", e01.to_str().unwrap()]);
    assert!(out.status.code().is_some_and(|c| c == 0 || c == 3), "ingest E01: {}", stderr(&out));
}

fn exhibit<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["exhibits"].as_array().unwrap().iter().find(|e| e["exhibit"] == name).unwrap()
}

#[test]
fn demo_case_report_holds_every_part_and_passes_chromium_and_axe() {
    let sb = Sandbox::new();
    demo_case(&sb);
    let shown = sb.show_json(CASE);
    let access = shown["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "derivative" && a["media_type"]["mime"] == "audio/flac")
        .cloned()
        .unwrap();
    let out = sb.run(&["reproduce", "--case", CASE, "--artefact", access["id"].as_str().unwrap()]);
    assert!(out.status.success(), "reproduce: {}", stderr(&out));
    let html = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-cli").join("report.html");
    std::fs::create_dir_all(html.parent().unwrap()).unwrap();
    let (code, report) = sb.verify_json_with(
        CASE,
        &["--trusted-keys", sb.trusted_keys().to_str().unwrap(), "--report", html.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "trusted");
    assert!(report["problems"].as_array().unwrap().is_empty());
    let js1 = exhibit(&report, "JS/1");
    assert_eq!(js1["acquisitions"][0]["operator"], "Test Officer");
    let names: Vec<&str> = js1["artefacts"].as_array().unwrap().iter().filter_map(|a| a["name"].as_str()).collect();
    for name in HOSTILE {
        assert!(names.iter().any(|n| n.ends_with(name)), "{name:?} not among {names:?}");
    }
    let derivative = js1["derivatives"].as_array().unwrap().iter().find(|d| d["artefact"] == access["id"]).unwrap();
    assert_eq!(derivative["reproduced"]["matched"], true, "{derivative:#}");
    let js2 = exhibit(&report, "JS/2");
    assert!(!js2["image_checks"].as_array().unwrap().is_empty(), "the E01 check is in the report: {js2:#}");
    assert!(js2["counts"]["extracted"].as_u64().unwrap() > 0);
    let found_inside = js2["artefacts"].as_array().unwrap().iter().find(|a| a["kind"] == "extracted").unwrap();
    assert_eq!(found_inside["lineage"].as_array().unwrap().len(), 1, "lineage names the image: {found_inside:#}");
    // The HTML: self-contained, escaped, and accessible.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains("<img") && !page.contains("<script") && !page.contains('\u{202e}') && !page.contains('\u{fffe}')
    );
    browser_check(&html);
}

/// Runs the report crate's Chromium driver with axe-core on the page.
fn browser_check(html: &Path) {
    let axe = std::env::var("EXHIBIT_AXE_CORE")
        .unwrap_or_else(|_| "/opt/exhibit-node/node_modules/axe-core/axe.min.js".into());
    let chromium = std::env::var("EXHIBIT_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let have_chromium =
        Command::new("sh").arg("-c").arg(format!("command -v {chromium}")).output().is_ok_and(|o| o.status.success());
    if !have_chromium || !Path::new(&axe).exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "needs chromium and axe-core (scripts/setup-debian.sh)");
        eprintln!("skipping the browser check: chromium or axe-core is missing");
        return;
    }
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("../report/tests/browser_check.py");
    let out_dir = html.parent().unwrap();
    let out = Command::new("python3").arg(driver).arg(html).arg(out_dir).arg(&axe).arg(&chromium).output().unwrap();
    assert!(out.status.success(), "driver: {}", stderr(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!(
        "screenshot: {}\nprint-to-PDF: {}",
        result["screenshot"].as_str().unwrap(),
        result["pdf"].as_str().unwrap()
    );
    assert_eq!(result["violations"].as_array().map(Vec::len), Some(0), "axe-core: {:#}", result["violations"]);
    let facts = &result["facts"];
    assert!(facts["verdict"].as_str().unwrap().starts_with("Intact: every object"), "{}", facts["verdict"]);
    assert_eq!(facts["scripts"].as_u64(), Some(0));
    assert_eq!(facts["alerted"], false);
    let exhibits: Vec<&str> = facts["exhibits"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(exhibits, ["Exhibit JS/1", "Exhibit JS/2"]);
}
