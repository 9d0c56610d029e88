//! The shared conformance corpus: every [T] expectation for FAT and exFAT.

use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{FileAt, FileSystem, FsEntry, Limits, ReadAt};
use exhibit_media_fat::{ExfatFs, FatFs};
use sha1::{Digest, Sha1};

use crate::common::{content, list, path};

fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

fn file(dir: &std::path::Path, rel: &str) -> Arc<dyn ReadAt> {
    Arc::new(FileAt::open(&dir.join(rel)).unwrap())
}

fn find<'a>(entries: &'a [FsEntry], p: &str) -> &'a FsEntry {
    entries.iter().find(|e| path(e) == p).unwrap_or_else(|| panic!("{p} not listed"))
}

fn check_rust_fatfs(dir: &std::path::Path, name: &str, kind: &str) {
    let limits = Limits::default();
    let fs = FatFs::open(file(dir, &format!("rust-fatfs/{name}")), &limits).unwrap();
    assert_eq!((fs.kind(), fs.label().as_deref(), fs.volume_id()), (kind, Some("Test!"), Some(0x1234_5678)));
    let (entries, result) = list(&fs, &limits);
    result.unwrap();
    let mut root_names: Vec<(String, String)> =
        entries.iter().filter(|e| e.path.depth() == 1).map(|e| (path(e), e.attributes["short_name"].clone())).collect();
    root_names.sort();
    let want = [
        ("/long.txt", "LONG.TXT"),
        ("/short.txt", "SHORT.TXT"),
        ("/very", "VERY"),
        ("/very-long-dir-name", "VERY-L~1"),
    ];
    assert_eq!(root_names, want.map(|(a, b)| (a.to_string(), b.to_string())));
    let line = b"Rust is cool!\n";
    assert_eq!(content(&fs, find(&entries, "/short.txt")).unwrap(), line);
    assert_eq!(content(&fs, find(&entries, "/long.txt")).unwrap(), line.repeat(1000));
    assert_eq!(content(&fs, find(&entries, "/very/long/path/test.txt")).unwrap(), line);
}

#[test]
fn rust_fatfs_fat12() {
    if let Some(dir) = corpus() {
        check_rust_fatfs(&dir, "fat12.img", "fat12");
    }
}

#[test]
fn rust_fatfs_fat16() {
    if let Some(dir) = corpus() {
        check_rust_fatfs(&dir, "fat16.img", "fat16");
    }
}

#[test]
fn go_exfat_test_volume() {
    let Some(dir) = corpus() else { return };
    let limits = Limits::default();
    let fs = ExfatFs::open(file(&dir, "go-exfat/test.exfat"), &limits).unwrap();
    assert_eq!((fs.kind(), fs.label().as_deref()), ("exfat", Some("testvolumelabel")));
    let (entries, result) = list(&fs, &limits);
    result.unwrap();
    assert_eq!(entries.len(), 13, "{:?}", entries.iter().map(path).collect::<Vec<_>>());
    let mut deleted: Vec<String> = entries.iter().filter(|e| !e.allocated).map(path).collect();
    deleted.sort();
    assert_eq!(
        deleted,
        ["/8fd71ab132c59bf33cd7890c0acebf12.jpg", "/testdirectory2/file1", "/testdirectory2/file2"].map(String::from)
    );
    let jpg = find(&entries, "/2-delahaye-type-165-cabriolet-dsc_8025.jpg");
    let bytes = content(&fs, jpg).unwrap();
    assert_eq!(bytes.len(), 313_299);
    assert_eq!(hex::encode(Sha1::digest(&bytes)), "a2219fa800ae2325003d8d4f5122b37f12f1e18e");
}
