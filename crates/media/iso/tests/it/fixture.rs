//! The xorriso fixture (`scripts/fixtures/iso.sh`): listings against fls and
//! isoinfo, contents against the recorded source hashes.

use std::collections::BTreeSet;

use exhibit_media_core::{DataLayout, EntryKind, FileSystem, FsEntry, Limits};
use exhibit_media_iso::{IsoOptions, Namespace, open_iso};

use crate::common::{content, entries, find, fixture, medium, path_of, sha256_hex};

fn open_fixture(options: IsoOptions) -> (exhibit_media_iso::IsoFs, Vec<FsEntry>) {
    open_image("iso.iso", options)
}

fn open_image(name: &str, options: IsoOptions) -> (exhibit_media_iso::IsoFs, Vec<FsEntry>) {
    let fs = open_iso(medium(&fixture(name)), &Limits::default(), options).expect("fixture opens");
    let all = entries(&fs);
    (fs, all)
}

/// `(path, deleted)` from `fls -r -p`, without sleuthkit's `$OrphanFiles`
/// (its view of Rock Ridge symlinks and devices, which Joliet lacks).
fn fls_listing(name: &str) -> BTreeSet<(String, bool)> {
    let text = std::fs::read(fixture(name)).expect("fls listing");
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let tab = line.iter().position(|&b| b == b'\t')?;
            let (head, path) = (&line[..tab], &line[tab + 1..]);
            let path = String::from_utf8_lossy(path).into_owned();
            (!path.starts_with("$OrphanFiles")).then(|| (format!("/{path}"), head.contains(&b'*')))
        })
        .collect()
}

/// `(path bytes, sha256)` of every source file, from `iso.sha256`.
fn source_hashes() -> Vec<(Vec<u8>, String)> {
    let text = std::fs::read(fixture("iso.sha256")).expect("hash list");
    text.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (hash, rest) = l.split_at(64);
            let path = rest.strip_prefix(b"  .").expect("`  ./path` form");
            (path.to_vec(), String::from_utf8_lossy(hash).into_owned())
        })
        .collect()
}

#[test]
fn joliet_listing_matches_fls() {
    let (fs, all) = open_fixture(IsoOptions { joliet: true, rock_ridge: false });
    assert_eq!((fs.namespace(), fs.label().as_deref()), (Namespace::Joliet, Some("EXHIBIT_ISO")));
    let ours: BTreeSet<_> = all.iter().map(|e| (path_of(e), !e.allocated)).collect();
    assert_eq!(ours, fls_listing("iso.fls.txt"));
    let mut hashes: Vec<_> =
        all.iter().filter(|e| e.kind == EntryKind::File).map(|e| sha256_hex(&content(&fs, e))).collect();
    let mut want: Vec<_> = source_hashes().into_iter().map(|(_, h)| h).collect();
    hashes.sort();
    want.sort();
    assert_eq!(hashes, want, "Joliet names differ from the sources but contents must not");
}

#[test]
fn rock_ridge_tree_matches_sources() {
    let (fs, all) = open_fixture(IsoOptions::default());
    assert_eq!((fs.namespace(), fs.label().as_deref()), (Namespace::RockRidge, Some("EXHIBIT_ISO")));
    let sources = source_hashes();
    let files: BTreeSet<_> = all.iter().filter(|e| e.kind == EntryKind::File).map(|e| e.path.to_bytes()).collect();
    assert_eq!(files, sources.iter().map(|(p, _)| p.clone()).collect());
    for (path, hash) in &sources {
        let e = all.iter().find(|e| &e.path.to_bytes() == path).expect("source file listed");
        assert_eq!(&sha256_hex(&content(&fs, e)), hash, "{}", String::from_utf8_lossy(path));
    }
    let long = all.iter().find(|e| e.path.name().is_some_and(|n| n.len() == 255)).expect("255-byte RR name (NM in CE)");
    assert_eq!(long.size, 27);
    assert!(all.iter().any(|e| e.path.to_bytes() == b"/bad\xffutf8.bin"), "invalid UTF-8 kept as bytes");
    assert!(all.iter().any(|e| e.path.to_bytes() == b"/ctl\x01char.txt"), "control byte kept");
}

#[test]
fn rock_ridge_links_devices_dirs_and_times() {
    let (_, all) = open_fixture(IsoOptions::default());
    assert_eq!(find(&all, "/link-to-readme").kind, EntryKind::Symlink { target: b"README.TXT".to_vec() });
    assert_eq!(find(&all, "/dir1/dangling").kind, EntryKind::Symlink { target: b"../missing/target".to_vec() });
    let dev = find(&all, "/dir1/null-dev");
    assert_eq!(dev.kind, EntryKind::Device { class: "char".into(), major: 1, minor: 3 });
    for dir in ["/data", "/dir1", "/dir1/dir2", "/dir1/dir2/dir3"] {
        assert_eq!(find(&all, dir).kind, EntryKind::Directory, "{dir}");
    }
    let empty = find(&all, "/empty.bin");
    assert_eq!((empty.size, &empty.data), (0, &DataLayout::None));
    let readme = find(&all, "/README.TXT");
    let modified = readme.timestamps.modified.as_ref().expect("mtime");
    assert_eq!((modified.from.as_str(), modified.at.unix_timestamp()), ("rockridge.TF.modify", 1_709_294_400));
    assert_eq!(readme.attributes.get("mode").map(String::as_str), Some("100644"));
    assert_eq!(readme.attributes.get("iso9660.namespace").map(String::as_str), Some("rock-ridge"));
    assert!(all.iter().all(|e| e.allocated && e.address.is_some()));
}

#[test]
fn plain_primary_tree_has_iso_identifiers() {
    let (fs, all) = open_fixture(IsoOptions { joliet: false, rock_ridge: false });
    assert_eq!(fs.namespace(), Namespace::Iso9660);
    let readme = find(&all, "/README.TXT");
    assert_eq!(readme.attributes.get("iso9660.identifier").map(String::as_str), Some("README.TXT;1"));
    let dirrec = readme.timestamps.modified.as_ref().expect("recording time");
    assert_eq!((dirrec.from.as_str(), dirrec.at.unix_timestamp()), ("iso9660.dirrec.recorded", 1_709_294_400));
    assert_eq!(all.iter().filter(|e| e.kind == EntryKind::File).count(), source_hashes().len() + 3);
}

#[test]
fn relocated_directories_appear_where_rock_ridge_cl_points() {
    let plain = IsoOptions { joliet: false, rock_ridge: false };
    let (_, all) = open_image("deep.iso", plain);
    let ours: BTreeSet<_> = all.iter().map(|e| (path_of(e), !e.allocated)).collect();
    assert_eq!(ours, fls_listing("deep.fls.txt"), "plain tree shows RR_MOVED like fls");
    let (fs, all) = open_image("deep.iso", IsoOptions::default());
    assert_eq!(fs.namespace(), Namespace::RockRidge);
    let mut paths: Vec<_> = all.iter().map(path_of).collect();
    paths.sort();
    let mut want = vec!["/RR_MOVED".to_owned()];
    let mut dir = String::new();
    for part in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        dir = format!("{dir}/{part}");
        want.push(dir.clone());
    }
    want.push(format!("{dir}/deep.txt"));
    want.sort();
    assert_eq!(paths, want);
    let deep = find(&all, &format!("{dir}/deep.txt"));
    assert_eq!(content(&fs, deep), b"ten levels down\n");
    assert_eq!(find(&all, "/a/b/c/d/e/f/g/h").kind, EntryKind::Directory);
    let moved = find(&all, "/RR_MOVED");
    assert!(moved.attributes.contains_key("rockridge.RE"), "RE without CL is listed, not hidden");
}
