//! zisofs (Rock Ridge `ZF`) files, made by xorriso's `--zisofs` filter:
//! listed with their compression named, their extents the stored stream,
//! and read decoded (as `xorriso -osirrox on -extract` gives them); a
//! hostile ZF record fails that file alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use exhibit_media_core::{FileSystem, Limits, Transform};
use exhibit_media_iso::{IsoOptions, open_iso};

use crate::common::{content, entries, find, medium};

fn big() -> String {
    "zisofs compressible line\n".repeat(20_000)
}

fn zisofs_iso(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("big.txt"), big()).unwrap();
    std::fs::write(src.join("small.txt"), "tiny\n").unwrap();
    let iso = dir.join("z.iso");
    let out = Command::new("xorriso")
        .arg("-outdev")
        .arg(&iso)
        .arg("-map")
        .arg(&src)
        .args(["/", "-set_filter_r", "--zisofs", "/", "--", "-commit"])
        .output()
        .expect("xorriso must be installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    iso
}

/// What xorriso itself decodes `path` of `iso` to.
fn xorriso_extract(iso: &Path, path: &str, dir: &Path) -> Vec<u8> {
    let target = dir.join("oracle.out");
    let out = Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(iso)
        .args(["-extract", path])
        .arg(&target)
        .output()
        .expect("xorriso must be installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&target).unwrap()
}

#[test]
fn zisofs_files_read_decoded_as_xorriso_extracts_them() {
    let dir = tempfile::tempdir().unwrap();
    let iso = zisofs_iso(dir.path());
    let fs = open_iso(medium(&iso), &Limits::default(), IsoOptions::default()).expect("opens");
    let all = entries(&fs);
    let zf = find(&all, "/big.txt");
    assert_eq!(zf.attributes.get("compression").map(String::as_str), Some("zisofs"), "{zf:?}");
    assert_eq!(zf.size, big().len() as u64);
    assert!(matches!(zf.transform, Some(Transform::Zisofs { header_size: 16, block_log2: 15..=17 })), "{zf:?}");
    let stored: u64 = zf.attributes["zisofs.stored_bytes"].parse().unwrap();
    assert!(stored < zf.size / 10, "{stored} stored bytes for {} decoded", zf.size);
    let decoded = content(&fs, zf);
    assert_eq!(decoded, big().as_bytes());
    assert_eq!(decoded, xorriso_extract(&iso, "/big.txt", dir.path()));
    let plain = find(&all, "/small.txt");
    assert!(!plain.attributes.contains_key("compression"));
    assert_eq!(content(&fs, plain), b"tiny\n");
}

#[test]
fn a_zf_record_with_a_huge_block_size_fails_that_file_only() {
    let dir = tempfile::tempdir().unwrap();
    let iso = zisofs_iso(dir.path());
    let mut bytes = std::fs::read(&iso).unwrap();
    // ZF, length 16, version 1, "pz", header size / 4, log2 block size.
    let at = bytes.windows(6).position(|w| w == b"ZF\x10\x01pz").expect("a ZF entry");
    bytes[at + 7] = 31;
    std::fs::write(&iso, &bytes).unwrap();
    let fs = open_iso(medium(&iso), &Limits::default(), IsoOptions::default()).expect("opens");
    let all = entries(&fs);
    let zf = find(&all, "/big.txt");
    let mut reader = exhibit_media_core::open_content(fs.volume(), zf);
    let err = std::io::Read::read_to_end(&mut reader, &mut Vec::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("2^31"), "{err}");
    assert_eq!(content(&fs, find(&all, "/small.txt")), b"tiny\n");
}
