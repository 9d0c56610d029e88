//! Acceptance: a case with an E01 set, a disc image, scans and video, from
//! the fixtures, exports to a bag that bagit.py and the bag's verify.sh
//! accept, and to CASE/UCO JSON-LD that case_validate accepts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::stderr;
use crate::export::{Exported, python_tool, stdout};

fn fixtures(sb_dir: &Path, name: &str, files: &[&str]) -> PathBuf {
    let dir = sb_dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in files {
        let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(file);
        std::fs::copy(&from, dir.join(from.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn a_demo_case_exports_to_a_valid_bag_and_valid_case_uco() {
    let e = Exported::new();
    let root = e.sb.dir.path();
    let e01 = fixtures(root, "e01", &["sources/ewf/split.E01", "sources/ewf/split.E02", "sources/ewf/split.E03"]);
    let disc = fixtures(root, "disc", &["iso/iso.iso"]);
    let scans = fixtures(root, "scans", &["ocr/letter.jpg", "ocr/memo.png"]);
    let video = fixtures(root, "video", &["media/mpeg4_mp3.avi"]);
    for (exhibit, path) in [("JS/1", e01.join("split.E01")), ("JS/2", disc), ("JS/3", scans), ("JS/4", video)] {
        let out = e.run(&["ingest", "--case", "DEMO", "--exhibit", exhibit, "--operator", "T", path.to_str().unwrap()]);
        assert!(matches!(out.status.code(), Some(0 | 3)), "ingest {exhibit}: {}", stderr(&out));
    }
    let bag = root.join("bag");
    let jsonld = root.join("demo.jsonld");
    let out =
        e.run(&["export", "--case", "DEMO", "--bagit", bag.to_str().unwrap(), "--case-uco", jsonld.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let listing = std::fs::read_to_string(bag.join("exhibit/listing.tsv")).unwrap();
    for (exhibit, kinds) in
        [("JS/1", "extracted"), ("JS/2", "extracted"), ("JS/3", "derivative"), ("JS/4", "derivative")]
    {
        let found =
            listing.lines().any(|l| l.split('\t').nth(2) == Some(exhibit) && l.split('\t').nth(3) == Some(kinds));
        assert!(found, "{exhibit} has no {kinds} artefact in the bag:\n{listing}");
    }
    let out = Command::new(python_tool("bagit.py")).arg("--validate").arg(&bag).output().unwrap();
    assert!(out.status.success(), "bagit.py: {}", stderr(&out));
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(0), "verify.sh: {}", stdout(&out));
    let out = Command::new(python_tool("case_validate")).arg(&jsonld).output().unwrap();
    assert!(out.status.success(), "case_validate: {}{}", stdout(&out), stderr(&out));
}
