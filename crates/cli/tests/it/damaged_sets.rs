//! An E01 set missing a middle segment (issue 11): what exists is recorded,
//! the media the missing segment held is recorded as missing, and the
//! later segments still count.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn run(cmd: &mut Command) {
    let out = cmd.env("MTOOLS_SKIP_CHECK", "1").output().expect("tool (scripts/setup-debian.sh installs it)");
    assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
}

fn seeded(seed: u32, len: usize) -> Vec<u8> {
    let code = format!("import random,sys; sys.stdout.buffer.write(random.Random({seed}).randbytes({len}))");
    Command::new("python3").args(["-c", &code]).output().expect("python3").stdout
}

/// A 6 MiB FAT16 volume (early.txt, a 3 MB random.bin, late.txt) acquired
/// uncompressed in 1 MiB segments, E01..E07, with E02 taken away.
fn set_without_e02(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let img = work.join("fat.img");
    run(Command::new("mkfs.fat").args(["-C", "-F", "16", "-s", "1", "-n", "GAP"]).arg(&img).arg("6144"));
    let random = seeded(5, 3_000_000);
    std::fs::write(work.join("early.txt"), "first file\n").unwrap();
    std::fs::write(work.join("random.bin"), &random).unwrap();
    std::fs::write(work.join("late.txt"), "last file\n").unwrap();
    let files = ["early.txt", "random.bin", "late.txt"].map(|f| work.join(f));
    run(Command::new("mcopy").arg("-i").arg(&img).args(files).arg("::/"));
    let evidence = dir.join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    run(Command::new("ewfacquire")
        .args(["-u", "-q", "-c", "none", "-f", "encase6", "-S", "1MiB", "-t"])
        .arg(evidence.join("set"))
        .arg(&img));
    assert!(evidence.join("set.E04").exists(), "the set has later segments");
    std::fs::remove_file(evidence.join("set.E02")).unwrap();
    (evidence, random)
}

fn listing(sb: &Sandbox, case: &str) -> Vec<Value> {
    let out = sb.run(&["listing", "--case", case, "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["entries"].as_array().unwrap().clone()
}

fn entry<'a>(entries: &'a [Value], path: &str) -> &'a Value {
    entries.iter().find(|e| e["path"]["display"] == path).unwrap_or_else(|| panic!("{path}: {entries:#?}"))
}

#[test]
fn an_e01_set_missing_a_middle_segment_keeps_the_later_segments() {
    let sb = Sandbox::new();
    let (evidence, random) = set_without_e02(sb.dir.path());
    let out = sb.ingest("EWF-GAP", &evidence);
    let seen = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "done, but a person must look: {seen}");
    assert!(seen.contains("set.E02") && seen.contains("missing"), "the message names the segment: {seen}");
    let entries = listing(&sb, "EWF-GAP");
    let late = entry(&entries, "/late.txt");
    assert_eq!(late["digests"]["sha256"], exhibit_core::Sha256Digest::of(b"last file\n").to_hex(), "{late:#}");
    assert!(late["missing"].as_array().unwrap().is_empty());
    let big = entry(&entries, "/random.bin");
    let missing = big["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "E02's media is one hole in random.bin: {big:#}");
    let (from, to) = (missing[0][0].as_u64().unwrap() as usize, missing[0][1].as_u64().unwrap() as usize);
    assert!(0 < from && from < to && to < random.len(), "{from}..{to}");
    let file = sb.dir.path().join("random.out");
    let got = sb.run(&["get", "--case", "EWF-GAP", big["artefact"].as_str().unwrap(), "-o", file.to_str().unwrap()]);
    assert!(got.status.success(), "{}", stderr(&got));
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes[..from] == random[..from] && bytes[to..] == random[to..], "the bytes that exist are the file's");
    assert!(bytes[from..to].iter().all(|&b| b == 0));
    let verified: Vec<Value> =
        sb.ledger("EWF-GAP").into_iter().map(|(_, e)| e).filter(|e| e["action"] == "verified").collect();
    let truncated = &verified[0]["params"]["truncated"];
    assert_eq!(truncated["declared"], 6_291_456);
    let held = truncated["held"].as_u64().unwrap();
    assert!(held > 5_000_000 && held < 6_291_456, "the count holds the later segments: {truncated:#}");
    let (code, report) = sb.verify_json("EWF-GAP");
    assert_eq!(code, 0, "{report:#}");
}
