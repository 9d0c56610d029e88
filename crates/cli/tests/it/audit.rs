//! Fixity audits: sampled runs cover everything, a flipped byte is found
//! and named, audit entries keep the case verifying clean, and `verify
//! --all` checks every case.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{Sandbox, overwrite, stderr};

const CASE: &str = "T20247001";

fn ingested() -> Sandbox {
    let sb = Sandbox::new();
    let src = sb.sources();
    for n in 0..8 {
        std::fs::write(src.join(format!("note{n}.txt")), format!("note {n}\n")).unwrap();
    }
    let out = sb.ingest(CASE, &src);
    assert!(out.status.success(), "ingest: {}", stderr(&out));
    sb
}

fn stored_objects(sb: &Sandbox, case: &str) -> BTreeSet<String> {
    std::fs::read_dir(sb.case_dir(case).join("objects/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The objects each audit entry of the ledger names as intact, per entry.
fn audited(sb: &Sandbox, case: &str) -> Vec<Vec<String>> {
    sb.ledger(case)
        .into_iter()
        .filter(|(_, e)| e["action"] == "verified" && e["params"]["audit"].is_object())
        .map(|(_, e)| {
            let intact = e["params"]["audit"]["intact"].as_array().unwrap();
            intact.iter().map(|h| h.as_str().unwrap().to_owned()).collect()
        })
        .collect()
}

fn audit(sb: &Sandbox, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["audit", "--json", "--operator", "Auditor"];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("audit --json: {e}: {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), value)
}

#[test]
fn five_sampled_runs_at_20_percent_cover_every_object_oldest_first() {
    let sb = ingested();
    let objects = stored_objects(&sb, CASE);
    assert!(objects.len() >= 10, "{objects:?}");
    let per_run = objects.len().div_ceil(5);
    let mut seen = BTreeSet::new();
    for run in 0..5 {
        let (code, report) = audit(&sb, &["--case", CASE, "--sample", "20"]);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["checked"].as_u64(), Some(per_run as u64), "{report:#}");
        let latest = audited(&sb, CASE).pop().unwrap();
        for h in &latest {
            assert!(seen.insert(h.clone()) || run == 4, "run {run} re-checked {h} before every object was checked");
        }
    }
    assert_eq!(seen, objects, "five 20% runs must cover every stored object");
    // The sixth run starts again with the objects checked longest ago.
    audit(&sb, &["--case", CASE, "--sample", "20"]);
    let runs = audited(&sb, CASE);
    let last_run = |h: &String| runs[..5].iter().rposition(|r| r.contains(h)).unwrap();
    let newest_taken = runs[5].iter().map(last_run).max().unwrap();
    let oldest_left = objects.iter().filter(|h| !runs[5].contains(h)).map(last_run).min().unwrap();
    assert!(
        newest_taken <= oldest_left,
        "run 6 took an object checked in run {newest_taken} over one from run {oldest_left}"
    );
    // Audit entries are additive: the case still verifies clean and trusted.
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["audits"]["entries"].as_u64(), Some(6));
}

#[test]
fn a_flipped_byte_fails_the_audit_and_names_the_object_and_artefact() {
    let sb = ingested();
    let listing = sb.show_json(CASE);
    let artefact = listing["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"]["name"]["display"] == "statement.txt")
        .cloned()
        .unwrap();
    let sha256 = artefact["digests"]["sha256"].as_str().unwrap();
    let path = sb.case_dir(CASE).join("objects/sha256").join(sha256);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5] ^= 0x20;
    overwrite(&path, &bytes);
    let text = sb.run(&["audit", "--case", CASE, "--operator", "Auditor"]);
    assert_eq!(text.status.code(), Some(1), "{}", stderr(&text));
    let stdout = String::from_utf8_lossy(&text.stdout);
    let line = stdout.lines().find(|l| l.starts_with("FAILED")).unwrap_or_default();
    assert!(
        line.contains(sha256) && line.contains(artefact["id"].as_str().unwrap()) && line.ends_with("altered"),
        "{stdout}"
    );
    // The failure is on record, as a failed verified event naming it.
    let ledger = sb.ledger(CASE);
    let (_, entry) = ledger.last().unwrap();
    assert_eq!(entry["outcome"]["status"], "failed");
    assert_eq!(entry["params"]["audit"]["failed"][0]["sha256"], sha256);
    assert!(entry["outcome"]["reason"].as_str().unwrap().contains(sha256));
    let (code, json) = audit(&sb, &["--case", CASE]);
    assert_eq!(code, 1);
    assert_eq!(json["failed"][0]["sha256"], sha256);
    assert_eq!(json["failed"][0]["fault"], "altered");
}

#[test]
fn verify_all_checks_every_case_and_exits_with_the_worst() {
    let sb = ingested();
    let src = sb.dir.path().join("other");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "other case\n").unwrap();
    assert!(sb.ingest("OTHER-2", &src).status.success());
    let trusted = sb.trusted_keys();
    let keys = ["--trusted-keys", trusted.to_str().unwrap()];
    let out = sb.run(&[&["verify", "--all"][..], &keys].concat());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("case OTHER-2: OK") && stdout.contains("case T20247001: OK"), "{stdout}");
    assert!(stdout.contains("verified 2 cases: 2 trusted"), "{stdout}");
    let object = stored_objects(&sb, "OTHER-2").into_iter().next().unwrap();
    let path = sb.case_dir("OTHER-2").join("objects/sha256").join(object);
    overwrite(&path, b"tampered\n");
    let out = sb.run(&[&["verify", "--all", "--json"][..], &keys].concat());
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "failed");
    let verdicts: Vec<(&str, &str)> = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["report"]["case"].as_str().unwrap(), c["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(verdicts, [("OTHER-2", "failed"), ("T20247001", "trusted")]);
    // Audit --all goes on past the damaged case and names it.
    let (code, json) = audit(&sb, &["--all"]);
    assert_eq!(code, 1);
    assert_eq!(json["cases"][0]["failed"][0]["fault"], "altered", "{json:#}");
    assert_eq!(json["cases"][1]["failed"].as_array().map(Vec::len), Some(0), "{json:#}");
}
