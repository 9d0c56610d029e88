//! `exhibit get` to standard output (issue 11): `-o -` means stdout, and
//! bytes that fail their hash never reach a pipe.

use crate::common::{Sandbox, fixture, stderr};
use crate::views::{assert_views_only, base_ranges, flip, manifests};

fn ingest_fat12(sb: &Sandbox, case: &str) -> Vec<serde_json::Value> {
    let out = sb.ingest(case, &fixture("fat/fat12.img"));
    assert!(out.status.success(), "ingest: {}", stderr(&out));
    assert_views_only(sb, case)
}

fn get_in_sandbox(sb: &Sandbox, case: &str, id: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = sb.exhibit();
    cmd.current_dir(sb.dir.path()).args(["get", "--case", case, id]).args(extra);
    cmd.output().expect("run exhibit")
}

#[test]
fn dash_as_the_output_means_standard_output() {
    let sb = Sandbox::new();
    let views = ingest_fat12(&sb, "DASH-1");
    let view = views.iter().find(|v| v["size"].as_u64() > Some(0)).unwrap();
    let id = view["id"].as_str().unwrap();
    let out = get_in_sandbox(&sb, "DASH-1", id, &["-o", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!sb.dir.path().join("-").exists(), "no file named '-' is made");
    assert_eq!(out.stdout.len() as u64, view["size"].as_u64().unwrap());
    assert_eq!(exhibit_core::Sha256Digest::of(&out.stdout).to_hex(), view["digests"]["sha256"].as_str().unwrap());
    let ledger = sb.ledger("DASH-1");
    let last = &ledger.last().unwrap().1;
    assert!(last.to_string().contains(r#""output":"stdout""#), "the access names stdout: {last}");
}

#[test]
fn a_damaged_view_writes_nothing_to_standard_output() {
    let sb = Sandbox::new();
    let views = ingest_fat12(&sb, "DMG-1");
    let image = manifests(&sb, "DMG-1").into_iter().find(|m| m["kind"] == "original").unwrap();
    let image_sha = image["digests"]["sha256"].as_str().unwrap().to_owned();
    // The largest view, damaged at its last byte: a streaming copy would
    // have written all the rest before its hash failed.
    let target = views.iter().max_by_key(|v| v["size"].as_u64()).unwrap();
    let (_, end) = *base_ranges(target).last().unwrap();
    flip(&sb, "DMG-1", &image_sha, end - 1);
    let id = target["id"].as_str().unwrap();
    for extra in [&[][..], &["-o", "-"][..]] {
        let out = get_in_sandbox(&sb, "DMG-1", id, extra);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(out.stdout.is_empty(), "{} bytes of a damaged view reached stdout", out.stdout.len());
        let message = stderr(&out);
        assert!(message.contains("nothing was written"), "{message}");
    }
}
