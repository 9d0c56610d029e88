//! SIGKILL at varied points during ingest, then the same command again:
//! the case verifies clean, every file is present once, and no file has a
//! duplicate event.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::{Sandbox, stderr};

const RUNS: u64 = 12;

fn make_sources(sb: &Sandbox) -> std::path::PathBuf {
    let src = sb.dir.path().join("src");
    for d in 0..4 {
        std::fs::create_dir_all(src.join(format!("d{d}"))).unwrap();
        for f in 0..15 {
            let body: Vec<u8> = (0..(f * 997 + d * 13)).map(|i| (i * 31 + f) as u8).collect();
            std::fs::write(src.join(format!("d{d}/f{f}.bin")), body).unwrap();
        }
    }
    std::fs::write(src.join("big.bin"), vec![7u8; 24 << 20]).unwrap();
    src
}

/// Kills ingest after it has logged `lines` lines at debug level: each line
/// is a different point (store writes, ledger appends, stage starts).
fn ingest_and_kill(sb: &Sandbox, case: &str, src: &std::path::Path, lines: u64) {
    let mut child = sb
        .exhibit()
        .env(
            "EXHIBIT_LOG",
            "exhibit=debug,exhibit_store=debug,exhibit_custody=debug,exhibit_intake=debug,exhibit_pipeline=debug",
        )
        .args(["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "PC Crash"])
        .arg(src)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    for _ in 0..lines {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn sigkill_then_rerun_verifies_clean_without_duplicates() {
    let sb = Sandbox::new();
    let src = make_sources(&sb);
    let files = 61;
    let mut seed: u64 = 0x5eed_cafe;
    for run in 0..RUNS {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // Each run is its own case, killed twice at different points, then
        // run to the end.
        let case = format!("CRASH-{run}");
        let first = if run == 0 { 0 } else { (seed >> 33) % 300 };
        let second = (seed >> 13) % 300;
        ingest_and_kill(&sb, &case, &src, first);
        ingest_and_kill(&sb, &case, &src, second);
        let out = sb.ingest(&case, &src);
        assert!(
            out.status.success(),
            "run {run}: rerun after kills at lines {first}, {second} failed: {}",
            stderr(&out)
        );
        let (code, report) = sb.verify_json(&case);
        assert_eq!(code, 0, "run {run} (kills at lines {first}, {second}): {report:#}");
        check_no_duplicates(&sb, &case, files);
    }
}

fn check_no_duplicates(sb: &Sandbox, case: &str, files: usize) {
    let listing = sb.show_json(case);
    let artefacts = listing["artefacts"].as_array().unwrap();
    assert_eq!(artefacts.len(), files, "every file present once");
    let mut counts: HashMap<(String, String), usize> = HashMap::new();
    for (_, entry) in sb.ledger(case) {
        if let Some(id) = entry["artefact"]["id"].as_str() {
            *counts.entry((id.to_owned(), entry["action"].as_str().unwrap().to_owned())).or_default() += 1;
        }
    }
    for ((id, action), n) in counts {
        assert_eq!(n, 1, "artefact {id} has {n} {action} events");
    }
}
