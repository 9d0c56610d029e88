//! Hard links in an ISO (issue 11): files sharing one extent are views of
//! the same bytes, not an expansion bomb; every link is kept with its digest.

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, stderr};
use crate::views::{get, manifests};

/// 5 MB of deterministic noise (an xorshift stream): nothing compresses it.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn hard_linked_iso(dir: &Path, links: usize) -> (std::path::PathBuf, Vec<u8>) {
    let tree = dir.join("hl");
    std::fs::create_dir_all(&tree).unwrap();
    let bytes = noise(5_000_000);
    std::fs::write(tree.join("base.bin"), &bytes).unwrap();
    for i in 1..=links {
        std::fs::hard_link(tree.join("base.bin"), tree.join(format!("link{i}.bin"))).unwrap();
    }
    let iso = dir.join("hl.iso");
    let out = Command::new("genisoimage")
        .args(["-quiet", "-R", "-J", "-cache-inodes", "-o"])
        .arg(&iso)
        .arg(&tree)
        .output()
        .expect("genisoimage (scripts/setup-debian.sh installs it)");
    assert!(out.status.success(), "genisoimage: {}", stderr(&out));
    assert!(std::fs::metadata(&iso).unwrap().len() < 6_000_000, "the links share one extent in the image");
    (iso, bytes)
}

#[test]
fn hard_links_in_an_iso_are_all_kept_with_their_digest() {
    let sb = Sandbox::new();
    let (iso, bytes) = hard_linked_iso(sb.dir.path(), 8);
    let out = sb.ingest("HL-1", &iso);
    assert!(out.status.success(), "ingest: {}\n{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("damaged-record"), "no link is refused");
    let want = exhibit_core::Sha256Digest::of(&bytes).to_hex();
    let files: Vec<_> = manifests(&sb, "HL-1").into_iter().filter(|m| m["kind"] == "extracted").collect();
    assert_eq!(files.len(), 9, "base.bin and its 8 links: {files:#?}");
    for f in &files {
        assert_eq!(f["digests"]["sha256"], want.as_str(), "{}", f["id"]);
    }
    let back = get(&sb, "HL-1", files[8]["id"].as_str().unwrap());
    assert!(back.status.success(), "get: {}", stderr(&back));
    assert!(back.stdout == bytes, "get returns the shared bytes");
    let (code, report) = sb.verify_json("HL-1");
    assert_eq!(code, 0, "{report:#}");
}
