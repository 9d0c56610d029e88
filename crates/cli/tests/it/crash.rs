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
        // The rerun removed the killed runs' temporary files, and its own.
        let left: Vec<_> = std::fs::read_dir(sb.data().join(".tmp")).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "run {run}: temporary files left: {left:?}");
    }
}

/// A FAT image holding `files` small files: more than one group commit's
/// worth, so kills land in staging, publishing and ledger batches.
fn make_fat_image(sb: &Sandbox, files: usize) -> std::path::PathBuf {
    let tree = sb.dir.path().join("fat-src");
    std::fs::create_dir_all(&tree).unwrap();
    for f in 0..files {
        let body: Vec<u8> = (0..(f * 37 % 3000 + 1)).map(|i| (i * 7 + f) as u8).collect();
        std::fs::write(tree.join(format!("F{f:04}.BIN")), body).unwrap();
    }
    let image = sb.dir.path().join("crash-fat.img");
    let status = std::process::Command::new("mkfs.fat")
        .args(["-C", "-i", "12345678"])
        .arg(&image)
        .arg("8192")
        .stdout(Stdio::null())
        .status()
        .expect("mkfs.fat (dosfstools) must be installed");
    assert!(status.success());
    let status = std::process::Command::new("mcopy")
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(&image)
        .args(["-s", "-Q"])
        .args(std::fs::read_dir(&tree).unwrap().map(|e| e.unwrap().path()))
        .arg("::/")
        .status()
        .expect("mcopy (mtools) must be installed");
    assert!(status.success());
    image
}

/// SIGKILL while an image's files are staged, published and recorded in
/// group commits, then a rerun: the case verifies clean and holds exactly
/// what an uninterrupted ingest holds, with no duplicate events.
#[test]
fn sigkill_during_image_explore_then_rerun_matches_a_clean_ingest() {
    let sb = Sandbox::new();
    let image = make_fat_image(&sb, 300);
    let clean = sb.ingest("CLEAN", &image);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let expected = sb.show_json("CLEAN")["artefacts"].as_array().unwrap().len();
    assert!(expected > 300, "the image, its files and its listing: {expected}");
    // The files are kept as views into the image: the kills land in
    // view-based explore.
    let views = crate::views::assert_views_only(&sb, "CLEAN").len();
    assert!(views >= 300, "{views} views");
    let mut seed: u64 = 0xfa70_c0de;
    for run in 0..6 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let case = format!("IMAGE-CRASH-{run}");
        let (first, second) = (40 + (seed >> 33) % 900, 40 + (seed >> 13) % 900);
        ingest_and_kill(&sb, &case, &image, first);
        ingest_and_kill(&sb, &case, &image, second);
        let out = sb.ingest(&case, &image);
        assert!(out.status.success(), "run {run}: rerun after kills at lines {first}, {second}: {}", stderr(&out));
        let (code, report) = sb.verify_json(&case);
        assert_eq!(code, 0, "run {run} (kills at lines {first}, {second}): {report:#}");
        check_no_duplicates(&sb, &case, expected);
        assert_eq!(crate::views::assert_views_only(&sb, &case).len(), views, "run {run}: the same views");
    }
}

/// The FAT image of [`make_fat_image`] acquired into an E01 set by
/// `ewfacquire`, in a folder of its own.
fn make_e01(sb: &Sandbox, files: usize) -> std::path::PathBuf {
    let raw = make_fat_image(sb, files);
    let dir = sb.dir.path().join("e01");
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("ewfacquire")
        .args(["-u", "-q", "-c", "fast", "-f", "encase6", "-t"])
        .arg(dir.join("crash"))
        .arg(&raw)
        .stdout(Stdio::null())
        .status()
        .expect("ewfacquire (ewf-tools) must be installed");
    assert!(status.success());
    dir
}

/// SIGKILL during view-based explore of an E01 set (files kept as views
/// over the set's media), then a rerun: clean verify, no duplicates, and
/// the views of an uninterrupted ingest.
#[test]
fn sigkill_during_e01_explore_then_rerun_matches_a_clean_ingest() {
    let sb = Sandbox::new();
    let e01 = make_e01(&sb, 200);
    let clean = sb.ingest("E01-CLEAN", &e01);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let expected = sb.show_json("E01-CLEAN")["artefacts"].as_array().unwrap().len();
    let views = crate::views::assert_views_only(&sb, "E01-CLEAN");
    assert!(views.len() >= 200, "{} views", views.len());
    assert!(views.iter().all(|v| v["view"]["base"]["decode"]["kind"] == "ewf"), "views over the E01 media");
    let mut seed: u64 = 0xe01_c0de;
    for run in 0..4 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let case = format!("E01-CRASH-{run}");
        let (first, second) = (40 + (seed >> 33) % 700, 40 + (seed >> 13) % 700);
        ingest_and_kill(&sb, &case, &e01, first);
        ingest_and_kill(&sb, &case, &e01, second);
        let out = sb.ingest(&case, &e01);
        assert!(out.status.success(), "run {run}: rerun after kills at lines {first}, {second}: {}", stderr(&out));
        let (code, report) = sb.verify_json(&case);
        assert_eq!(code, 0, "run {run} (kills at lines {first}, {second}): {report:#}");
        check_no_duplicates(&sb, &case, expected);
        assert_eq!(crate::views::assert_views_only(&sb, &case).len(), views.len(), "run {run}: the same views");
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

/// Each derivation output as (action, input, rule), counted.
fn derived_outputs(sb: &Sandbox, case: &str) -> HashMap<(String, String, String), usize> {
    let mut counts = HashMap::new();
    for (_, entry) in sb.ledger(case) {
        let Some(rule) = entry["params"]["rule"].as_str() else { continue };
        let input = entry["inputs"][0]["id"].as_str().unwrap_or_default().to_owned();
        *counts.entry((entry["action"].as_str().unwrap().to_owned(), input, rule.to_owned())).or_default() += 1;
    }
    counts
}

/// How many lines a full ingest logs at debug level, to aim kills at the
/// derive phase, which comes last.
fn debug_lines_of_a_full_ingest(sb: &Sandbox, src: &std::path::Path) -> u64 {
    let out = sb
        .exhibit()
        .env(
            "EXHIBIT_LOG",
            "exhibit=debug,exhibit_store=debug,exhibit_custody=debug,exhibit_intake=debug,exhibit_pipeline=debug",
        )
        .args(["ingest", "--case", "LINES", "--exhibit", "JS/1", "--operator", "PC Crash"])
        .arg(src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    out.stderr.iter().filter(|b| **b == b'\n').count() as u64
}

/// SIGKILL during transcode and OCR (seeded points in the second half of
/// the run, where the derive phase is), then a rerun: the case verifies
/// clean, every output of a multi-output job is recorded exactly once, and
/// the outputs are those of an uninterrupted ingest.
#[test]
fn sigkill_during_transcode_and_ocr_then_rerun_records_each_output_once() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("derive-src");
    std::fs::create_dir_all(&src).unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    for (from, to) in [
        ("media/mpeg4_mp3.avi", "video.avi"),
        ("media/cdda.wav", "audio.wav"),
        ("ocr/memo.png", "memo.png"),
        ("ocr/letter.jpg", "letter.jpg"),
    ] {
        std::fs::copy(fixtures.join(from), src.join(to)).unwrap();
    }
    let clean = sb.ingest("DERIVE-CLEAN", &src);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let expected = derived_outputs(&sb, "DERIVE-CLEAN");
    let keys = |m: &HashMap<(String, String, String), usize>| {
        let mut k: Vec<(String, String)> = m.keys().map(|(a, _, r)| (a.clone(), r.clone())).collect();
        k.sort();
        k
    };
    assert!(expected.keys().any(|k| k.0 == "transcoded") && expected.keys().any(|k| k.0 == "ocr"), "{expected:?}");
    let lines = debug_lines_of_a_full_ingest(&sb, &src);
    let mut seed: u64 = 0xde21_0ce5;
    for run in 0..5 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let case = format!("DERIVE-CRASH-{run}");
        let (first, second) = (lines / 2 + (seed >> 33) % (lines / 2), lines / 2 + (seed >> 13) % (lines / 2));
        ingest_and_kill(&sb, &case, &src, first);
        ingest_and_kill(&sb, &case, &src, second);
        let out = sb.ingest(&case, &src);
        assert!(out.status.success(), "run {run}: rerun after kills at lines {first}, {second}: {}", stderr(&out));
        let (code, report) = sb.verify_json(&case);
        assert_eq!(code, 0, "run {run} (kills at lines {first}, {second}): {report:#}");
        let outputs = derived_outputs(&sb, &case);
        for (output, n) in &outputs {
            assert_eq!(*n, 1, "run {run} (kills at lines {first}, {second}): {output:?} recorded {n} times");
        }
        assert_eq!(keys(&outputs), keys(&expected), "run {run}: the outputs of a clean ingest");
    }
}
