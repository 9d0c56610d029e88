//! Fixture images from `scripts/fixtures/udf.sh` against reference listings
//! (7z's UDF reader, pycdlib's) and the recorded source hashes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use std::sync::Arc;

use exhibit_media_core::{EntryKind, FileSystem, FsEntry, Limits, ReadAt};

use crate::{entries, open_bytes, path_of, sha256, workspace};

fn fixture(name: &str) -> PathBuf {
    workspace().join("fixtures/udf").join(name)
}

/// (path, is_dir, size) from `7z l -slt` lines.
fn listing_7z(name: &str) -> BTreeSet<(String, bool, Option<u64>)> {
    let text = std::fs::read_to_string(fixture(name)).expect("7z listing");
    let mut out = BTreeSet::new();
    let lines: Vec<&str> = text.lines().collect();
    for row in lines.chunks(3) {
        let [p, f, s] = row else { panic!("bad listing row {row:?}") };
        let dir = f.ends_with('+');
        let size = if dir { None } else { s.trim_start_matches("Size = ").parse().ok() };
        out.insert((p.trim_start_matches("Path = ").to_owned(), dir, size));
    }
    out
}

/// The same triples from the pycdlib listing (`D|F|L<TAB>size<TAB>path`).
fn listing_pycdlib(name: &str) -> BTreeSet<(String, bool, Option<u64>)> {
    let text = std::fs::read_to_string(fixture(name)).expect("pycdlib listing");
    text.lines()
        .map(|l| {
            let mut it = l.splitn(3, '\t');
            let (kind, size, path) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            (path.to_owned(), kind == "D", if kind == "D" { None } else { size.parse().ok() })
        })
        .collect()
}

fn ours(all: &[FsEntry]) -> BTreeSet<(String, bool, Option<u64>)> {
    all.iter()
        .map(|e| {
            let dir = e.kind == EntryKind::Directory;
            (path_of(e), dir, (!dir).then_some(e.size))
        })
        .collect()
}

fn walk(image: &str) -> (Arc<dyn ReadAt>, Box<dyn FileSystem>, Vec<FsEntry>) {
    let limits = Limits::default();
    let bytes = std::fs::read(fixture(image)).expect("fixture image; run scripts/fixtures/udf.sh");
    let (volume, fs) = open_bytes(bytes, &limits).unwrap_or_else(|e| panic!("{image}: {e}"));
    let all = entries(&*fs, &limits).unwrap_or_else(|e| panic!("{image}: {e}"));
    (volume, fs, all)
}

fn check_hashes(image: &str, volume: &Arc<dyn ReadAt>, all: &[FsEntry]) {
    let text = std::fs::read_to_string(fixture(&format!("{image}.sha256"))).expect("hash list");
    let want: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once("  ")).map(|(h, p)| (p, h)).collect();
    for (path, hash) in &want {
        let e = all.iter().find(|e| path_of(e) == *path).unwrap_or_else(|| panic!("{image}: {path} missing"));
        assert_eq!(sha256(volume, e).expect("content"), *hash, "{image}: {path}");
    }
    assert!(!all.iter().any(|e| !e.allocated), "{image}: no deleted entries expected");
}

#[test]
fn genisoimage_udf102_matches_7z_and_sources() {
    let (volume, fs, all) = walk("udf102-genisoimage.iso");
    assert_eq!(fs.kind(), "udf");
    assert_eq!(ours(&all), listing_7z("udf102-genisoimage.iso.7z.txt"));
    check_hashes("udf102-genisoimage.iso", &volume, &all);
    let hello = all.iter().find(|e| path_of(e) == "hello.txt").unwrap();
    assert!(hello.timestamps.modified.as_ref().is_some_and(|t| t.from == "udf.fe.mtime"));
}

#[test]
fn pycdlib_udf260_matches_pycdlib_and_sources() {
    let (volume, _fs, all) = walk("udf260-pycdlib.iso");
    assert_eq!(ours(&all), listing_pycdlib("udf260-pycdlib.iso.pycdlib.txt"));
    check_hashes("udf260-pycdlib.iso", &volume, &all);
    let link = all.iter().find(|e| path_of(e) == "link-to-hello").unwrap();
    assert_eq!(link.kind, EntryKind::Symlink { target: b"hello.txt".to_vec() });
    let greek = all.iter().find(|e| path_of(e) == "Θέμα 日本.txt").unwrap();
    assert_eq!(greek.size, 14);
}

#[test]
fn mkudffs_images_open_with_their_labels_and_empty_roots() {
    for (image, label) in [
        ("udf201-empty.img", "EMPTY201"),
        ("udf201-512.img", "SMALL512"),
        ("udf201-cdrw.img", "SPARE201"),
        ("udf250-bdr.img", "META250"),
        ("udf260-bdr.img", "META260"),
    ] {
        let (_, fs, all) = walk(image);
        assert_eq!(fs.label().as_deref(), Some(label), "{image}");
        let reference = fixture(&format!("{image}.7z.txt"));
        if reference.exists() {
            assert_eq!(ours(&all), listing_7z(&format!("{image}.7z.txt")), "{image}");
        }
        // udfinfo reports numfiles=0 numdirs=1 for each: the root alone.
        assert!(all.is_empty(), "{image}: {all:?}");
    }
}
