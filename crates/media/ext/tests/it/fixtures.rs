//! The committed ext2/ext4 images against `fls -r -p`, the recorded source
//! hashes, and ext4-view as an independent reader of the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use exhibit_media_core::{EntryKind, FsEntry, Limits};

use crate::common::{content, fixture, sha256, slash_path, volume, walk, workspace};

/// fls's line for an entry: `r/r 12:\tpath`, control bytes shown as `^`.
fn fls_line(e: &FsEntry) -> Vec<u8> {
    let t = match e.kind {
        EntryKind::File => "r",
        EntryKind::Directory => "d",
        EntryKind::Symlink { .. } => "l",
        EntryKind::Device { ref class, .. } if class == "char" => "c",
        EntryKind::Device { .. } => "b",
        EntryKind::Other { ref what } if what == "fifo" => "p",
        EntryKind::Other { .. } => "s",
    };
    let mut line = format!("{t}/{t} {}:\t", e.address.unwrap()).into_bytes();
    line.extend(slash_path(e).iter().map(|&b| if b < 0x20 { b'^' } else { b }));
    line
}

fn fls_reference(image: &str) -> BTreeSet<Vec<u8>> {
    let text = std::fs::read(workspace().join("fixtures/volumes").join(image.replace(".img", ".fls.txt"))).unwrap();
    text.split(|&b| b == b'\n').filter(|l| !l.is_empty() && !l.ends_with(b"$OrphanFiles")).map(<[u8]>::to_vec).collect()
}

/// `sha256  ./path` lines of ext.sha256, keyed by `path`.
fn source_hashes() -> BTreeMap<Vec<u8>, String> {
    let text = std::fs::read(workspace().join("fixtures/volumes/ext.sha256")).unwrap();
    let lines = text.split(|&b| b == b'\n').filter(|l| l.len() > 68);
    lines.map(|l| (l[68..].to_vec(), String::from_utf8(l[..64].to_vec()).unwrap())).collect()
}

fn check_image(image: &str, kind: &str, label: &str) {
    let bytes = fixture(image);
    let vol = volume(bytes.clone());
    assert!(exhibit_media_ext::probe(&*vol));
    let fs = exhibit_media_ext::open(vol.clone(), &Limits::default()).unwrap();
    assert_eq!((fs.kind(), fs.label().as_deref()), (kind, Some(label)));
    let (entries, result) = walk(&*fs);
    result.unwrap();
    let ours: BTreeSet<Vec<u8>> = entries.iter().map(fls_line).collect();
    assert_eq!(ours, fls_reference(image), "{image}: listing differs from fls");
    let oracle = ext4_view::Ext4::load(Box::new(bytes)).unwrap();
    let mut hashed = BTreeMap::new();
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        let data = content(vol.clone(), e, u64::MAX).unwrap();
        assert_eq!(data.len() as u64, e.size);
        let path = slash_path(e);
        let mut absolute = b"/".to_vec();
        absolute.extend(&path);
        assert_eq!(oracle.read(absolute.as_slice()).unwrap(), data, "{image}: ext4-view disagrees");
        hashed.insert(path, sha256(&data));
    }
    assert_eq!(hashed, source_hashes(), "{image}: content hashes");
    check_details(&entries);
}

fn find<'a>(entries: &'a [FsEntry], path: &[u8]) -> &'a FsEntry {
    entries.iter().find(|e| slash_path(e) == path).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(path)))
}

fn check_details(entries: &[FsEntry]) {
    let link = |p: &[u8]| match &find(entries, p).kind {
        EntryKind::Symlink { target } => target.clone(),
        k => panic!("{k:?}"),
    };
    assert_eq!(link(b"link-to-passwords"), b"passwords.txt");
    assert_eq!(link(b"dir1/slow-symlink"), [b"long/".repeat(20), b"target".to_vec()].concat());
    let dev = |p: &[u8]| find(entries, p).kind.clone();
    assert_eq!(dev(b"dir1/null-dev"), EntryKind::Device { class: "char".into(), major: 1, minor: 3 });
    assert_eq!(dev(b"dir1/loop-dev"), EntryKind::Device { class: "block".into(), major: 7, minor: 42 });
    let pw = find(entries, b"passwords.txt");
    assert_eq!(pw.attributes["mode"], "0o100644");
    assert_eq!(pw.attributes["links"], "2");
    let mtime = pw.timestamps.modified.as_ref().unwrap();
    assert_eq!((mtime.at.unix_timestamp(), mtime.from.as_str()), (1_709_294_400, "ext.inode.mtime"));
    let ctime = pw.timestamps.changed.as_ref().unwrap();
    assert_eq!((ctime.at.unix_timestamp(), ctime.from.as_str()), (1_709_294_400, "ext.inode.ctime"));
    assert_eq!(find(entries, b"a_directory/hardlink-to-passwords").address, pw.address);
    let sparse = find(entries, b"data/sparse.bin");
    let holes = match &sparse.data {
        exhibit_media_core::DataLayout::Extents(x) => x.iter().filter(|x| x.volume_offset.is_none()).count(),
        d => panic!("{d:?}"),
    };
    assert!(holes >= 2, "sparse.bin keeps its holes");
}

#[test]
fn ext2_matches_fls_and_source_hashes() {
    check_image("ext2.img", "ext2", "EXHIBIT_EXT2");
}

#[test]
fn ext4_matches_fls_and_source_hashes() {
    check_image("ext4.img", "ext4", "EXHIBIT_EXT4");
}

#[test]
fn ext2_inside_an_mbr_partition() {
    let disk = volume(fixture("mbr.img"));
    let exhibit_media_volumes::VolumeSystem::Mbr(parts) =
        exhibit_media_volumes::partitions(&*disk, &Limits::default()).unwrap()
    else {
        panic!("mbr.img has an MBR")
    };
    let part = std::sync::Arc::new(exhibit_media_volumes::slice(disk, &parts[1]));
    assert!(exhibit_media_ext::probe(&*part));
    let fs = exhibit_media_ext::open(part.clone(), &Limits::default()).unwrap();
    let (entries, result) = walk(&*fs);
    result.unwrap();
    let another = find(&entries, b"another_file");
    assert_eq!(content(part, another, 1024).unwrap(), b"This is another file.\n");
}

#[test]
fn a_directory_loop_is_corrupt_but_the_rest_is_walked() {
    let mut bytes = fixture("ext2.img");
    let at = bytes.windows(10).position(|w| w == b"\x08\x01deep.txt").expect("deep.txt record") - 6;
    bytes[at..at + 4].copy_from_slice(&22u32.to_le_bytes()); // inode 22 is dir1, an ancestor
    let fs = exhibit_media_ext::open(volume(bytes), &Limits::default()).unwrap();
    let (entries, result) = walk(&*fs);
    let err = result.unwrap_err();
    assert_eq!(err.kind, exhibit_media_core::MediaErrorKind::Corrupt);
    assert!(err.message.contains("loop"), "{err}");
    assert!(entries.iter().any(|e| slash_path(e) == b"passwords.txt"));
}
