//! Conformance against the shared corpus ([T] expectations in its README).

use std::path::{Path, PathBuf};

use exhibit_media_core::{DataLayout, EntryKind, FileSystem, FsEntry, Limits};
use exhibit_media_iso::{IsoOptions, Namespace, open, open_iso};

use crate::common::{content, entries, find, medium, path_of};

fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

fn open_as(path: &Path, options: IsoOptions) -> (Box<dyn FileSystem>, Vec<FsEntry>, Namespace) {
    let fs = open_iso(medium(path), &Limits::default(), options).expect("opens");
    let namespace = fs.namespace();
    let all = entries(&fs);
    (Box::new(fs), all, namespace)
}

fn symlink_target(e: &FsEntry) -> &[u8] {
    match &e.kind {
        EntryKind::Symlink { target } => target,
        other => panic!("{} is {other:?}, not a symlink", path_of(e)),
    }
}

#[test]
fn dfvfs_plain_iso9660() {
    let Some(dir) = corpus() else { return };
    let (fs, all, namespace) = open_as(&dir.join("dfvfs/iso9660.raw"), IsoOptions::default());
    assert_eq!((namespace, fs.label().as_deref()), (Namespace::Iso9660, Some("CDROM")));
    let another = find(&all, "/A_DIRECTORY/ANOTHER_FILE");
    assert_eq!((another.size, content(&*fs, another).len()), (22, 22));
    find(&all, "/A_DIRECTORY/A_FILE");
    let mut paths: Vec<_> = all.iter().map(path_of).collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/A_DIRECTORY", "/A_DIRECTORY/ANOTHER_FILE", "/A_DIRECTORY/A_FILE", "/LOST_FOUND", "/PASSWORDS.TXT"]
    );
}

#[test]
fn libcdio_copying() {
    let Some(dir) = corpus() else { return };
    let (fs, all, _) = open_as(&dir.join("libcdio/copying.iso"), IsoOptions::default());
    // libcdio's listing lower-cases ISO names ("copying"); the identifier is COPYING.;1.
    assert_eq!(all.len(), 1);
    let copying = find(&all, "/COPYING");
    assert_eq!((copying.size, content(&*fs, copying).len()), (18002, 18002));
}

#[test]
fn libcdio_copying_rock_ridge() {
    let Some(dir) = corpus() else { return };
    let (fs, all, namespace) = open_as(&dir.join("libcdio/copying-rr.iso"), IsoOptions::default());
    assert_eq!(namespace, Namespace::RockRidge);
    let mut paths: Vec<_> = all.iter().map(path_of).collect();
    paths.sort();
    let expected = ["/COPYING", "/Copy2", "/copy", "/copy/COPYING", "/fd0", "/tmp", "/tmp/COPYING", "/zero"];
    assert_eq!(paths, expected);
    assert_eq!(symlink_target(find(&all, "/Copy2")), b"COPYING");
    assert_eq!(symlink_target(find(&all, "/copy/COPYING")), b"../COPYING");
    assert_eq!(symlink_target(find(&all, "/tmp/COPYING")), b"../copying/COPYING");
    let device = |p| find(&all, p).kind.clone();
    assert_eq!(device("/fd0"), EntryKind::Device { class: "block".into(), major: 2, minor: 0 });
    assert_eq!(device("/zero"), EntryKind::Device { class: "char".into(), major: 1, minor: 5 });
    let copying = find(&all, "/COPYING");
    assert_eq!(content(&*fs, copying).len(), 17992);
    assert_eq!(copying.attributes.get("mode").map(String::as_str), Some("100444"));
    assert_eq!(find(&all, "/copy").attributes.get("mode").map(String::as_str), Some("40555"));
    let modified = find(&all, "/Copy2").timestamps.modified.clone().expect("TF modify");
    assert_eq!(modified.from, "rockridge.TF.modify");
    assert_eq!((modified.at.hour(), modified.at.minute(), modified.at.second()), (15, 26, 0));
}

fn sizes(all: &[FsEntry], lower: bool) -> Vec<(String, u64)> {
    let mut out: Vec<_> = all
        .iter()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| (if lower { path_of(e).to_lowercase() } else { path_of(e) }, e.size))
        .collect();
    out.sort();
    out
}

#[test]
fn libcdio_joliet_with_and_without_joliet() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("libcdio/joliet.iso");
    let (_, all, namespace) = open_as(&path, IsoOptions { joliet: true, rock_ridge: false });
    assert_eq!(namespace, Namespace::Joliet);
    let want = [("/libcdio/COPYING", 17992), ("/libcdio/README", 2156), ("/libcdio/README.libcdio", 2849)];
    let mut want: Vec<_> = want.iter().map(|(p, s)| (p.to_string(), *s)).collect();
    want.push(("/libcdio/test/isofs-m1.cue".into(), 74));
    assert_eq!(sizes(&all, false), want);
    assert_eq!(sizes(&open_as(&path, IsoOptions::default()).1, false), want, "default open uses Joliet here");
    let (_, plain, namespace) = open_as(&path, IsoOptions { joliet: false, rock_ridge: false });
    assert_eq!(namespace, Namespace::Iso9660);
    // joliet-nojoliet.right lists libcdio's lower-cased form of the 8.3 names.
    let mut want: Vec<_> = want.iter().map(|(p, s)| (p.to_lowercase(), *s)).collect();
    want[3].0 = "/libcdio/test/isofs_m1.cue".into();
    assert_eq!(sizes(&plain, true), want);
}

#[test]
fn libcdio_multi_extent_extracts_identically() {
    let Some(dir) = corpus() else { return };
    let expected = std::fs::read(dir.join("libcdio/expected/multi_extent_file")).expect("expected file");
    assert_eq!(expected.len(), 54305);
    let fs = open(medium(&dir.join("libcdio/multi_extent_8k_joliet.iso")), &Limits::default()).expect("opens");
    let all = entries(&*fs);
    let file = find(&all, "/multi_extent_file");
    let DataLayout::Extents(runs) = &file.data else { panic!("no extents") };
    assert_eq!((file.size, runs.len()), (54305, 7));
    assert!(content(&*fs, file) == expected, "multi-extent content differs");
}
