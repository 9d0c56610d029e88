//! The dashboard as `exhibit serve` mounts it, in a real browser: users
//! made with `exhibit admin user add` (password from stdin or a file,
//! never argv), a real ingested case with a failed item (a damaged ISO
//! record), another force's case answered as the 404 of no case, and
//! axe-core at WCAG 2.2 AA on every page. Screenshots go under
//! target/tmp/dashboard-browser/serve/.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common::{Sandbox, stderr};
use crate::serve::serve_with;

const OURS: &str = "2024/00777/TVP";
const THEIRS: &str = "2024/00999/MET";
const PASSWORD: &str = "correct horse battery staple";

/// `exhibit admin user add` with `password` on stdin.
pub fn add_user(sb: &Sandbox, org: &str, name: &str, role: &str, password: &str) -> Output {
    let mut child = sb
        .exhibit()
        .args(["admin", "user", "add", "--org", org, "--role", role, "--name", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Two forces, each with a case; ours has a damaged record that failed.
pub fn two_forces(sb: &Sandbox) {
    let evidence = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    let iso = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/damaged/iso-bad-extent.iso");
    std::fs::copy(iso, evidence.join("iso-bad-extent.iso")).unwrap();
    let out = sb.ingest(OURS, &evidence);
    assert_eq!(out.status.code(), Some(3), "a failed item: {}", stderr(&out));
    let out = sb.ingest(THEIRS, &sb.sources());
    assert!(out.status.success(), "{}", stderr(&out));
    for (org, case) in [("Thames Valley", OURS), ("Met", THEIRS)] {
        assert!(sb.run(&["admin", "org", "add", org]).status.success());
        assert!(sb.run(&["admin", "case", "add", "--org", org, case]).status.success());
    }
}

fn tools() -> Option<(PathBuf, PathBuf, PathBuf)> {
    let python = PathBuf::from(std::env::var("EXHIBIT_PYTHON_TOOLS").unwrap_or_else(|_| "/opt/exhibit-python".into()))
        .join("bin/python");
    let chromium = PathBuf::from(std::env::var("EXHIBIT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let axe = PathBuf::from(
        std::env::var("EXHIBIT_AXE_CORE")
            .unwrap_or_else(|_| "/opt/exhibit-node/node_modules/axe-core/axe.min.js".into()),
    );
    let ok = Command::new(&python).args(["-c", "import playwright"]).output().is_ok_and(|o| o.status.success());
    if ok && chromium.exists() && axe.exists() {
        return Some((python, chromium, axe));
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "the browser test needs Playwright, chromium, axe-core");
    eprintln!("skipping: needs Playwright, chromium and axe-core (scripts/setup-debian.sh)");
    None
}

#[test]
fn admin_user_add_takes_the_password_from_stdin_or_a_file_never_argv() {
    let sb = Sandbox::new();
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let short = add_user(&sb, "Force A", "alice", "reviewer", "short");
    assert_eq!(short.status.code(), Some(2), "a short password: {}", stderr(&short));
    assert!(stderr(&short).contains("12 characters"), "{}", stderr(&short));
    let argv =
        sb.run(&["admin", "user", "add", "--org", "Force A", "--role", "reviewer", "--name", "a", "--password", "x"]);
    assert_eq!(argv.status.code(), Some(2), "no --password flag");
    let file = sb.dir.path().join("password.txt");
    std::fs::write(&file, format!("{PASSWORD}\nignored second line\n")).unwrap();
    let out = sb.run(&[
        "admin",
        "user",
        "add",
        "--org",
        "Force A",
        "--role",
        "reviewer",
        "--name",
        "alice",
        "--password-file",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(!stderr(&out).contains(PASSWORD), "the password is never echoed");
}

#[test]
fn a_browser_signs_in_to_exhibit_serve_and_sees_the_failed_item() {
    let Some((python, chromium, axe)) = tools() else { return };
    let sb = Sandbox::new();
    two_forces(&sb);
    let out = add_user(&sb, "Thames Valley", "alice", "reviewer", PASSWORD);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = add_user(&sb, "Met", "Alice", "reviewer", PASSWORD);
    assert_eq!(out.status.code(), Some(2), "a sign-in name is one user: {}", stderr(&out));

    let server = serve_with(&sb, &[], &[]);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-browser/serve");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let scenario = serde_json::json!({
        "user": "alice", "password": PASSWORD, "case": OURS,
        "other_case": "/cases/2024%2F00999%2FMET", "prefix": "serve-",
    });
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dashboard/tests/browser_check.py");
    let output = Command::new(python)
        .arg(driver)
        .arg(format!("{}/dashboard", server.base))
        .arg(&shots)
        .arg(axe)
        .arg(chromium)
        .arg(scenario.to_string())
        .output()
        .unwrap();
    assert!(output.status.success(), "driver failed: {}", String::from_utf8_lossy(&output.stderr));
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    check_walks(&result);
}

fn check_walks(result: &Value) {
    for walk in ["javascript", "no_javascript"] {
        let pages = result[walk]["pages"].as_array().unwrap();
        let statuses: Vec<(&str, u64)> =
            pages.iter().map(|p| (p["name"].as_str().unwrap(), p["status"].as_u64().unwrap_or(0))).collect();
        let expected = [
            ("login", 200),
            ("login-error", 401),
            ("cases", 200),
            ("case", 200),
            ("not-found", 404),
            ("signed-out", 200),
        ];
        assert_eq!(statuses, expected, "{walk}");
        for page in pages {
            println!("screenshot ({walk}, {}): {}", page["name"], page["screenshot"]);
            let png = std::fs::read(page["screenshot"].as_str().unwrap()).unwrap();
            assert!(png.starts_with(b"\x89PNG"));
        }
        let facts = &result[walk]["facts"];
        let failures = facts["failures"].as_str().expect("the case page lists its failures");
        assert!(failures.contains("/BAD.TXT"), "the failed item: {failures}");
        assert!(failures.contains("damaged"), "what went wrong: {failures}");
        assert_eq!(facts["case_rows"].as_u64(), Some(1), "alice sees her force's case only");
        assert_eq!(facts["not_found_identical"], true, "another force's case is the 404 of no case");
        assert!(facts["after_sign_in"].as_str().unwrap().ends_with("/dashboard/cases"));
    }
    for page in result["javascript"]["pages"].as_array().unwrap() {
        assert!(page["axe_passes"].as_u64().unwrap() > 10, "axe-core ran on {}", page["name"]);
        let violations = page["violations"].as_array().unwrap();
        assert!(violations.is_empty(), "axe-core on {}: {:#}", page["name"], page["violations"]);
    }
}
