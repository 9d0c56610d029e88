//! `[ocr] languages` naming a language Tesseract does not have (repro 19:
//! "engl") is a configuration error before anything is recorded, as a
//! malformed name is, not a failed OCR of every scan in the ledger.

use crate::common::{Sandbox, fixture, stderr};

#[test]
fn a_language_that_is_not_installed_is_a_config_error_and_nothing_is_recorded() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixture("ocr/memo.png"), src.join("page1.png")).unwrap();
    let config = sb.dir.path().join("typo.toml");
    std::fs::write(&config, "[ocr]\nlanguages = [\"engl\"]\n").unwrap();
    for _ in 0..2 {
        let out = sb
            .exhibit()
            .arg("--config")
            .arg(&config)
            .args(["ingest", "--case", "LANG-1", "--exhibit", "JS/1", "--operator", "T"])
            .arg(&src)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "a configuration error: {err}");
        assert!(err.contains("ocr.languages: \"engl\" not installed"), "{err}");
        assert!(err.contains("eng") && err.contains("tessdata"), "names what is installed: {err}");
        assert!(!sb.case_dir("LANG-1").exists(), "nothing recorded: {err}");
    }
}
