//! Loads a rendered report in headless Chromium (Debian's `chromium`),
//! checks its key elements, runs axe-core at WCAG 2.2 AA expecting no
//! violations, and saves a screenshot and an A4 print-to-PDF under the
//! test's output folder.

use std::path::{Path, PathBuf};
use std::process::Command;

use exhibit_report::{build_report, render_report};
use serde_json::Value;

use crate::fixture::{self, HOSTILE};

/// Where the setup script installs axe-core (`npm install --prefix`).
const AXE_DEFAULT: &str = "/opt/exhibit-node/node_modules/axe-core/axe.min.js";

fn tool(env: &str, default: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var(env).unwrap_or_else(|_| default.to_owned()));
    let found = path.is_absolute() && path.exists() || which(&path);
    found.then_some(path)
}

fn which(name: &Path) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {}", name.display()))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Chromium and axe-core, or `None` (a skip, which fails under CI=true).
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let found = tool("EXHIBIT_CHROMIUM", "chromium").zip(tool("EXHIBIT_AXE_CORE", AXE_DEFAULT));
    if found.is_none() {
        let why = "needs Debian's chromium and npm axe-core (scripts/setup-debian.sh installs both)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "browser test {why}");
        eprintln!("skipping: browser test {why}");
    }
    found
}

/// Runs the driver; `axe` false skips axe-core.
fn run_browser(html: &str, name: &str, axe: bool) -> Option<Value> {
    let (chromium, axe_js) = browser_tools()?;
    let axe_js = if axe { axe_js } else { PathBuf::from("-") };
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-browser").join(name);
    std::fs::create_dir_all(&out).unwrap();
    let report = out.join("report.html");
    std::fs::write(&report, html).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser_check.py");
    let output = Command::new("python3").arg(driver).arg(&report).arg(&out).arg(axe_js).arg(chromium).output().unwrap();
    assert!(output.status.success(), "driver failed: {}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    println!("report: {}", report.display());
    println!("screenshot: {}", result["screenshot"].as_str().unwrap());
    println!("print-to-PDF: {}", result["pdf"].as_str().unwrap());
    Some(result)
}

fn assert_no_violations(result: &Value) {
    let violations = result["violations"].as_array().unwrap();
    assert!(violations.is_empty(), "axe-core {} found: {:#}", result["axe_version"], result["violations"]);
    assert_saved(result);
}

fn assert_saved(result: &Value) {
    let pdf = std::fs::read(result["pdf"].as_str().unwrap()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "print-to-PDF wrote a PDF");
    let png = std::fs::read(result["screenshot"].as_str().unwrap()).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
}

#[test]
fn report_with_hostile_names_loads_inert_and_passes_axe_at_wcag_2_2_aa() {
    let case = fixture::case(0);
    let report = build_report(fixture::verify_report(&case), Vec::new(), &case.entries, case.manifests.clone());
    let Some(result) = run_browser(&render_report(&report), "hostile", true) else { return };
    let facts = &result["facts"];
    assert_eq!(facts["title"], "Integrity report: case T20247001");
    assert_eq!(facts["lang"], "en");
    assert!(facts["verdict"].as_str().unwrap().starts_with("FAILED"), "{}", facts["verdict"]);
    assert_eq!(facts["verdict_class"], "verdict bad");
    assert_eq!(
        (facts["scripts"].as_u64(), facts["iframes"].as_u64(), facts["external"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(facts["alerted"], false, "no hostile script ran");
    let sections: Vec<&str> = facts["sections"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(&sections[..5], ["verdict", "ledger", "signers", "anchors", "problems"], "the summary comes first");
    assert_eq!(facts["exhibits"][0], "Exhibit JS/1");
    assert_eq!(facts["artefact_rows"].as_u64(), Some(8));
    // Each hostile name reaches the reader as text, markup and all.
    let cells: Vec<&str> = facts["cells"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for (name, shown) in HOSTILE.iter().zip([
        "/Users/<script>alert(1)</script>.txt",
        "/Users/bad\\u{fffe}name\\u{ffff}.doc",
        "/Users/invoice\\u{202e}fdp.exe",
        "/Users/nul\\u{0000}inside",
        "/Users/\"quoted\" & 'apos' <img src=x onerror=alert(2)>",
    ]) {
        assert!(cells.contains(&shown), "{name:?} should show as {shown:?}");
    }
    let text = facts["text"].as_str().unwrap();
    for expected in
        ["fmt/1105", "Jane <b>Smith</b>", "4096", "Examiner \\u{202e}evil", "matched (file SHA-256", "ALTERED"]
    {
        assert!(text.contains(expected), "{expected:?} not in the page text");
    }
    assert_no_violations(&result);
}

#[test]
fn ten_thousand_artefacts_stay_usable_collapsed() {
    let case = fixture::case(10_000);
    let report = build_report(fixture::verify_report(&case), Vec::new(), &case.entries, case.manifests.clone());
    // Same renderer as the page axe checks above; axe over 10,000 rows
    // takes minutes here, so this one checks the layout only.
    let Some(result) = run_browser(&render_report(&report), "large", false) else { return };
    let facts = &result["facts"];
    assert_eq!(facts["artefact_rows"].as_u64(), Some(10_008));
    let closed: Vec<&str> = facts["details_closed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(closed.iter().any(|s| s.starts_with("All 10000 artefacts")), "{closed:?}");
    assert_saved(&result);
    let pdf = std::fs::metadata(result["pdf"].as_str().unwrap()).unwrap().len();
    assert!(pdf < 5 << 20, "the printed summary stays small ({pdf} bytes): the collapsed table is not printed");
}
