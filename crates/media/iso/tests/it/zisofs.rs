//! zisofs (Rock Ridge `ZF`) files, made by xorriso's `--zisofs` filter:
//! listed with their compression named, and never read as if their
//! compressed bytes were the file; files without `ZF` read as before.

use std::process::Command;

use exhibit_media_core::Limits;
use exhibit_media_iso::{IsoOptions, open_iso};

use crate::common::{content, entries, find, medium};

#[test]
fn zisofs_files_are_listed_and_never_read_as_their_compressed_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let big = "zisofs compressible line\n".repeat(20_000);
    std::fs::write(src.join("big.txt"), &big).unwrap();
    std::fs::write(src.join("small.txt"), "tiny\n").unwrap();
    let iso = dir.path().join("z.iso");
    let out = Command::new("xorriso")
        .arg("-outdev")
        .arg(&iso)
        .arg("-map")
        .arg(&src)
        .args(["/", "-set_filter_r", "--zisofs", "/", "--", "-commit"])
        .output()
        .expect("xorriso must be installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fs = open_iso(medium(&iso), &Limits::default(), IsoOptions::default()).expect("opens");
    let all = entries(&fs);
    let zf = find(&all, "/big.txt");
    assert_eq!(zf.attributes.get("compression").map(String::as_str), Some("zisofs"), "{zf:?}");
    let note = zf.attributes.get("content").expect("a content note");
    assert!(note.contains(&format!("{} bytes decoded", big.len())) && note.contains("not extracted"), "{note}");
    let plain = find(&all, "/small.txt");
    assert!(!plain.attributes.contains_key("compression"));
    assert_eq!(content(&fs, plain), b"tiny\n");
}
