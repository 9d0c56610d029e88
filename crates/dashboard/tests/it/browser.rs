//! A real browser: Playwright (Python, from the setup script's virtual
//! environment) drives Debian's Chromium through the dashboard served by
//! the `dashboard-stub` test server, with and without JavaScript, and runs
//! axe-core at WCAG 2.2 AA on every page. Screenshots go under the test's
//! output folder; their paths are printed.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// Where the setup script installs axe-core (`npm install --prefix`).
const AXE_DEFAULT: &str = "/opt/exhibit-node/node_modules/axe-core/axe.min.js";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_stub() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dashboard-stub"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    // The line comes once the listener is bound, so no waiting is needed.
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening ").expect("the stub prints its URL").to_owned();
    (server, url)
}

/// Playwright's Python, Chromium and axe-core, or `None` (a skip, which
/// fails under CI=true).
fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let venv = std::env::var("EXHIBIT_PYTHON_TOOLS").unwrap_or_else(|_| "/opt/exhibit-python".to_owned());
    let python = Path::new(&venv).join("bin/python");
    let chromium = PathBuf::from(std::env::var("EXHIBIT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let axe = PathBuf::from(std::env::var("EXHIBIT_AXE_CORE").unwrap_or_else(|_| AXE_DEFAULT.into()));
    let has_playwright =
        Command::new(&python).args(["-c", "import playwright"]).output().is_ok_and(|o| o.status.success());
    if has_playwright && chromium.exists() && axe.exists() {
        return Some((python, chromium, axe));
    }
    let why = "needs Playwright in $EXHIBIT_PYTHON_TOOLS, Debian's chromium and npm axe-core (scripts/setup-debian.sh)";
    assert!(std::env::var("CI").as_deref() != Ok("true"), "browser test {why}");
    eprintln!("skipping: browser test {why}");
    None
}

fn pages(walk: &Value) -> &Vec<Value> {
    walk["pages"].as_array().unwrap()
}

#[test]
fn a_browser_signs_in_sees_a_failed_item_and_axe_finds_nothing() {
    let Some((python, chromium, axe)) = tools() else { return };
    let (_server, base) = start_stub();
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-browser");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser_check.py");
    let output = Command::new(python).arg(driver).arg(&base).arg(&out).arg(&axe).arg(&chromium).output().unwrap();
    assert!(output.status.success(), "driver failed: {}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();

    for walk in ["javascript", "no_javascript"] {
        for page in pages(&result[walk]) {
            println!(
                "screenshot ({walk}, {}): {}",
                page["name"].as_str().unwrap(),
                page["screenshot"].as_str().unwrap()
            );
            let png = std::fs::read(page["screenshot"].as_str().unwrap()).unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG");
        }
        let statuses: Vec<(String, u64)> = pages(&result[walk])
            .iter()
            .map(|p| (p["name"].as_str().unwrap().to_owned(), p["status"].as_u64().unwrap_or(0)))
            .collect();
        let expected = [
            ("login", 200),
            ("login-error", 401),
            ("cases", 200),
            ("case", 200),
            ("not-found", 404),
            ("signed-out", 200),
        ];
        let expected: Vec<(String, u64)> = expected.iter().map(|(n, s)| ((*n).to_owned(), *s)).collect();
        assert_eq!(statuses, expected, "{walk}");

        let facts = &result[walk]["facts"];
        let failures = facts["failures"].as_str().expect("the case page lists its failures");
        assert!(failures.contains("letters/<script>alert('file')</script>page-03.tif"), "{failures}");
        assert!(failures.contains("Rescan page 3 at 300 dpi"), "the failure says what to do: {failures}");
        assert_eq!(facts["alerted"], false, "no hostile name ran as script");
        let summary = facts["error_summary"].as_str().expect("the error summary shows");
        assert!(summary.contains("There is a problem") && summary.contains("Enter a correct user name and password"));
        assert!(facts["after_sign_in"].as_str().unwrap().ends_with("/dashboard/cases"));
        assert_eq!(facts["case_rows"].as_u64(), Some(2), "force A sees its two cases");
        assert_eq!(facts["not_found_identical"], true, "another force's case is the 404 of no case");
        assert!(facts["after_sign_out"].as_str().unwrap().ends_with("/dashboard/login?signed_out=1"));
        // The browser logs the 401 and 404 pages' statuses; nothing else
        // (a script refused by the Content-Security-Policy would show here).
        let errors = result[walk]["console_errors"].as_array().unwrap();
        let expected = |e: &Value| e.as_str().unwrap().contains("the server responded with a status of 40");
        assert!(errors.iter().all(expected), "{walk}: console errors: {errors:?}");
    }
    let facts = &result["javascript"]["facts"];
    assert!(facts["body_class"].as_str().unwrap().contains("govuk-frontend-supported"), "{}", facts["body_class"]);
    assert!(facts["focused_after_error"].as_str().unwrap().contains("govuk-error-summary"), "GOV.UK Frontend ran");
    let tags = &result["javascript"]["facts"]["tags"];
    assert!(tags.as_array().unwrap().iter().any(|t| t == "Failed"), "{tags}");

    for page in pages(&result["javascript"]) {
        // axe-core ran its rules (a page it could not check would pass none).
        assert!(page["axe_passes"].as_u64().unwrap() > 10, "axe-core on {}: {}", page["name"], page["axe_passes"]);
        let violations = page["violations"].as_array().unwrap();
        assert!(violations.is_empty(), "axe-core on {}: {:#}", page["name"], page["violations"]);
    }
}
