//! Case IDs and exhibit references as forces write them: crime reference
//! numbers with slashes, exhibit refs with spaces, stored as first typed
//! and compared by a normalised form (`js/01` is `JS/1`).

use crate::common::{Sandbox, stderr};

fn ingest(sb: &Sandbox, case: &str, exhibit: &str, src: &std::path::Path) -> std::process::Output {
    sb.run(&["ingest", "--case", case, "--exhibit", exhibit, "--operator", "Test Officer", src.to_str().unwrap()])
}

#[test]
fn a_crime_reference_and_an_exhibit_with_a_space_are_one_case_and_one_exhibit_however_typed() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = ingest(&sb, "2024/00123/POL", "SB 1", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    // Slashes and spaces never make folders: one encoded segment.
    let cases: Vec<String> = std::fs::read_dir(sb.data().join("cases"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(cases, ["2024%2F00123%2FPOL"]);
    let first = sb.show_json("2024/00123/POL");
    let count = first["artefacts"].as_array().unwrap().len();
    assert!(first["artefacts"].as_array().unwrap().iter().all(|a| a["exhibit"] == "SB 1"));

    // Another spelling reaches the same case and exhibit: nothing new.
    let again = ingest(&sb, "2024/00123/pol", "sb 01", &src);
    assert!(again.status.success(), "{}", stderr(&again));
    let err = stderr(&again);
    assert!(err.contains("case 2024/00123/pol is recorded as 2024/00123/POL"), "{err}");
    assert!(err.contains("exhibit sb 01 is recorded in this case as SB 1"), "{err}");
    let second = sb.show_json("2024/00123/pol");
    assert_eq!(second["case"], "2024/00123/POL");
    assert_eq!(second["artefacts"].as_array().unwrap().len(), count);
    let listed = sb.run(&["cases"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout), "2024/00123/POL\n");
    let (code, report) = sb.verify_json("2024/00123/pol");
    assert_eq!(code, 0, "{report:#}");

    // A case serial's zeros count: 2024/123/POL is another case.
    let other = sb.run(&["show", "--case", "2024/123/POL", "--json"]);
    assert_eq!(other.status.code(), Some(2), "an unknown case");
    assert!(stderr(&other).contains("case 2024/123/POL is not in the store"), "{}", stderr(&other));
}

#[test]
fn js1_js01_and_lower_case_are_one_exhibit() {
    let sb = Sandbox::new();
    let src = sb.sources();
    for spelling in ["JS/1", "js/1", "JS/01"] {
        let out = ingest(&sb, "C-IDS", spelling, &src);
        assert!(out.status.success(), "{spelling}: {}", stderr(&out));
    }
    let shown = sb.show_json("C-IDS");
    let artefacts = shown["artefacts"].as_array().unwrap();
    assert!(artefacts.iter().all(|a| a["exhibit"] == "JS/1"), "{artefacts:#?}");
    let out = sb.run(&["show", "--case", "C-IDS", "--exhibit", "js/01", "--json"]);
    let only: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(only["artefacts"].as_array().unwrap().len(), artefacts.len());
}

#[test]
fn refs_that_could_escape_or_confuse_are_refused() {
    let sb = Sandbox::new();
    let src = sb.sources();
    for (case, exhibit) in [("../x", "JS/1"), ("a//b", "JS/1"), ("C1", "JS/../1"), ("C1", " JS/1"), ("C1", "JS  1")] {
        let out = ingest(&sb, case, exhibit, &src);
        assert_eq!(out.status.code(), Some(2), "{case} {exhibit}");
        assert!(stderr(&out).contains("invalid"), "{}", stderr(&out));
    }
    assert!(!sb.data().join("x").exists());
}
