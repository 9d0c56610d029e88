//! A case whose E01 set an older release ingested, before sets had
//! records: main at 0e39f5c ingested `evidence/split.E01` (finding `.E02`
//! and `.E03` beside it) into `tests/fixtures/main-0e39f5c-e01` (how: the
//! fixture's README). Its segments' objects are the fixture segments
//! themselves, copied in by hash. This build verifies it against the
//! pinned key, shows and hands out the files on its media (views over the
//! three segments), and a rerun of the same ingest neither records a set
//! nor explores the media again.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Sandbox, allowed_signers_line, stderr};

const CASE: &str = "C1";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/main-0e39f5c-e01")
}

fn segments() -> Vec<PathBuf> {
    let ewf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources/ewf");
    ["split.E01", "split.E02", "split.E03"].iter().map(|n| ewf.join(n)).collect()
}

/// The fixture's store in the sandbox, with the segments' objects.
fn restore(sb: &Sandbox) {
    let status = std::process::Command::new("cp").arg("-r").arg(fixture().join("data")).arg(sb.data()).status();
    assert!(status.unwrap().success(), "copy the fixture store");
    let objects = sb.case_dir(CASE).join("objects/sha256");
    for segment in segments() {
        let bytes = std::fs::read(&segment).unwrap();
        std::fs::write(objects.join(exhibit_core::Sha256Digest::of(&bytes).to_hex()), bytes).unwrap();
    }
}

fn actions(sb: &Sandbox, action: &str) -> usize {
    sb.ledger(CASE).iter().filter(|(_, e)| e["action"] == action).count()
}

#[test]
fn an_e01_set_an_older_release_explored_still_verifies_shows_and_is_not_explored_again() {
    let sb = Sandbox::new();
    restore(&sb);
    let pinned = fixture().join("allowed_signers");
    let out = sb.run(&["verify", "--case", CASE, "--trusted-keys", pinned.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));

    let show = sb.show_json(CASE);
    let views: Vec<&Value> =
        show["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "extracted").collect();
    assert!(!views.is_empty(), "the files on the E01 media are shown: {show:#}");
    for view in &views {
        let got = sb.dir.path().join("got");
        let _ = std::fs::remove_file(&got);
        // `get` records the access, signed by this sandbox's key: a new
        // signer of the case, introduced.
        let id = view["id"].as_str().unwrap();
        let out = sb.run(&["get", "--case", CASE, "--introduce-key", id, "-o", got.to_str().unwrap()]);
        assert!(out.status.success(), "get {}: {}", view["id"], stderr(&out));
        let sha = exhibit_core::Sha256Digest::of(&std::fs::read(&got).unwrap()).to_hex();
        assert_eq!(Some(sha.as_str()), view["digests"]["sha256"].as_str());
    }
    let explored = actions(&sb, "explored");
    assert_eq!(explored, 1, "the older release explored the set once");

    // The same ingest again, from the same relative path: the set's
    // explore job is done, so nothing is recorded as a set or explored.
    // (`--introduce-key` is kept: it does nothing once the key is in.)
    let evidence = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    for segment in segments() {
        std::fs::copy(&segment, evidence.join(segment.file_name().unwrap())).unwrap();
    }
    let out = sb
        .exhibit()
        .current_dir(sb.dir.path())
        .args(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Test Officer", "--introduce-key"])
        .arg("evidence/split.E01")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "rerun: {}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(actions(&sb, "explored"), explored, "not explored again");
    assert_eq!(actions(&sb, "assembled"), 0, "no set recorded for a set already explored");
    let both = sb.dir.path().join("allowed_signers");
    let mut lines = std::fs::read_to_string(&pinned).unwrap();
    lines.push_str(&allowed_signers_line("sandbox@force.example", &sb.key_file()));
    std::fs::write(&both, lines).unwrap();
    let out = sb.run(&["verify", "--case", CASE, "--trusted-keys", both.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
}
