//! Two `exhibit ingest` processes of the same exhibit at once: each file
//! is recorded once, and the case verifies clean.

use std::collections::HashMap;

use crate::common::{Sandbox, stderr};

#[test]
fn two_ingests_of_one_exhibit_at_once_record_each_file_once() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("src");
    for d in 0..4 {
        std::fs::create_dir_all(src.join(format!("d{d}"))).unwrap();
        for f in 0..50 {
            let body: Vec<u8> = (0..(f * 211 + d * 7 + 1)).map(|i| (i * 13 + f) as u8).collect();
            std::fs::write(src.join(format!("d{d}/f{f}.bin")), body).unwrap();
        }
    }
    let start = || {
        sb.exhibit()
            .args(["ingest", "--case", "TWICE-1", "--exhibit", "JS/1", "--operator", "PC Twice"])
            .arg(&src)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start(), start());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let (code, report) = sb.verify_json("TWICE-1");
    assert_eq!(code, 0, "{report:#}");
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for (_, entry) in sb.ledger("TWICE-1") {
        if let Some(id) = entry["artefact"]["id"].as_str() {
            *counts.entry((id.to_owned(), entry["action"].as_str().unwrap().to_owned())).or_default() += 1;
        }
    }
    let acquired = counts.keys().filter(|(_, action)| action == "acquired").count();
    assert_eq!(acquired, 200, "every file is acquired");
    for ((id, action), n) in counts {
        assert_eq!(n, 1, "artefact {id} has {n} {action} events");
    }
}
