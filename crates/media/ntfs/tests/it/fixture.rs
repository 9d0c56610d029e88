//! The fixture disk (scripts/fixtures/ntfs.sh) against sleuthkit's listing
//! and the recorded source hashes.

use std::collections::{BTreeMap, BTreeSet};

use exhibit_media_core::{DataLayout, FsEntry, Limits};

use crate::common::{collect, content, display, find, fixture_volume, sha256, workspace};

/// sleuthkit's `fls -r -p` listing as (path, deleted). Index streams (type
/// 144, e.g. `$Secure:$SDH`) name their file, which is listed as itself; the
/// virtual `$OrphanFiles` directory line is skipped.
fn fls_listing() -> BTreeSet<(Vec<u8>, bool)> {
    let raw = std::fs::read(workspace().join("fixtures/ntfs/disk.fls.txt")).unwrap();
    let mut out = BTreeSet::new();
    for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let tab = line.iter().position(|&b| b == b'\t').unwrap();
        let (head, path) = (&line[..tab], &line[tab + 1..]);
        let head = String::from_utf8_lossy(head);
        if head.starts_with("V/V") {
            continue;
        }
        let mut path = path.to_vec();
        if head.contains("-144-") && path.contains(&b':') {
            let colon = path.iter().rposition(|&b| b == b':').unwrap();
            path.truncate(colon);
        }
        out.insert((path, head.contains('*')));
    }
    out
}

/// `disk.sha256`: path -> hash (sha256sum's `\` escaping undone).
fn recorded_hashes() -> BTreeMap<Vec<u8>, String> {
    let raw = std::fs::read(workspace().join("fixtures/ntfs/disk.sha256")).unwrap();
    let mut out = BTreeMap::new();
    for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let (escaped, line) = match line.strip_prefix(b"\\") {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let hash = String::from_utf8(line[..64].to_vec()).unwrap();
        let mut path = line[66..].to_vec();
        if escaped {
            path = String::from_utf8_lossy(&path).replace("\\\\", "\\").replace("\\n", "\n").into_bytes();
        }
        out.insert(path, hash);
    }
    out
}

/// fls prints control characters as `^`.
fn caret_controls(mut path: Vec<u8>) -> Vec<u8> {
    path.iter_mut().filter(|b| **b < 0x20).for_each(|b| *b = b'^');
    path
}

fn walk_fixture() -> (Box<dyn exhibit_media_core::FileSystem>, Vec<FsEntry>) {
    let limits = Limits::default();
    let fs = exhibit_media_ntfs::open(fixture_volume(), &limits).unwrap();
    let (entries, end) = collect(&*fs, &limits);
    end.unwrap();
    (fs, entries)
}

#[test]
fn listing_equals_sleuthkit() {
    let (_, entries) = walk_fixture();
    let ours: BTreeSet<(Vec<u8>, bool)> = entries
        .iter()
        .filter(|e| !e.attributes.contains_key("virtual"))
        .map(|e| (caret_controls(display(e)), !e.allocated))
        .collect();
    let theirs = fls_listing();
    let show = |s: &BTreeSet<(Vec<u8>, bool)>| -> Vec<String> {
        s.iter().map(|(p, d)| format!("{}{}", String::from_utf8_lossy(p), if *d { " *" } else { "" })).collect()
    };
    assert_eq!(show(&ours), show(&theirs));
}

#[test]
fn contents_match_recorded_hashes() {
    let (fs, entries) = walk_fixture();
    for (path, hash) in recorded_hashes() {
        let e = entries.iter().find(|e| e.allocated && display(e) == path).unwrap_or_else(|| panic!("no {path:?}"));
        assert_eq!(sha256(&content(&*fs, e).unwrap()), hash, "{}", String::from_utf8_lossy(&path));
    }
}

#[test]
fn layouts_links_times_and_label() {
    let (fs, entries) = walk_fixture();
    assert_eq!(fs.label().as_deref(), Some("exhibit-ntfs"));
    let small = find(&entries, "small.txt");
    assert!(matches!(small.data, DataLayout::Inline(_)));
    assert_eq!(small.address, find(&entries, "dir1/hardlink.txt").address, "hard links share a record");
    let mtime = small.timestamps.modified.as_ref().unwrap();
    assert_eq!((mtime.at.unix_timestamp(), mtime.from.as_str()), (981_173_106, "ntfs.$SI.mtime"));
    assert!(small.attributes.contains_key("fn_mtime"));
    let DataLayout::Extents(extents) = &find(&entries, "sparse.bin").data else { panic!("sparse.bin not extents") };
    assert!(extents.iter().any(|e| e.volume_offset.is_none()), "sparse.bin has a sparse run");
    assert!(matches!(find(&entries, "big.bin").data, DataLayout::Extents(_)));
    let ads = find(&entries, "ads.txt:secret");
    assert_eq!(
        (ads.path.clone(), ads.address),
        (find(&entries, "ads.txt").path.clone(), find(&entries, "ads.txt").address)
    );
    // Compressed with LZNT1 by ntfs-3g: its extents are the stored
    // compression units, read decoded through the LZNT1 transform (its
    // hash is checked against the source in contents_match_recorded_hashes).
    let packed = find(&entries, "compressed/packed.txt");
    assert_eq!(packed.attributes.get("compression").map(String::as_str), Some("lznt1"));
    assert!(matches!(packed.transform, Some(exhibit_media_core::Transform::Lznt1 { .. })), "{packed:?}");
    let DataLayout::Extents(units) = &packed.data else { panic!("packed.txt not extents") };
    let stored: u64 = units.iter().filter(|x| x.volume_offset.is_some()).map(|x| x.len).sum();
    assert!(stored < packed.size / 4, "{stored} stored bytes for {}", packed.size);
    assert!(!packed.attributes.contains_key("content"));
    assert_eq!(find(&entries, "$MFT").address, Some(0));
}

#[test]
fn deleted_entries_are_recoverable() {
    let (fs, entries) = walk_fixture();
    let small = entries.iter().find(|e| !e.allocated && display(e) == b"gone-small.txt").unwrap();
    assert!(small.recovery.unwrap().complete);
    assert_eq!(content(&*fs, small).unwrap(), b"soon gone\n");
    let big = entries.iter().find(|e| !e.allocated && display(e) == b"dir1/gone-big.bin").unwrap();
    assert_eq!(big.recovery.unwrap().recoverable_bytes, 12_000);
    let expected: Vec<u8> = b"deleted but recoverable\n".iter().copied().cycle().take(12_000).collect();
    assert_eq!(content(&*fs, big).unwrap(), expected);
    let orphan = entries.iter().find(|e| display(e) == b"gone-dir/orphan.txt").unwrap();
    assert!(!orphan.allocated);
}

/// A compressed stream is decoded one unit at a time, so `max_alloc` below
/// its size no longer keeps it from being read.
#[test]
fn compressed_streams_read_one_unit_at_a_time() {
    let size = 65536;
    let limits = Limits { max_alloc: size - 1, ..Limits::default() };
    let fs = exhibit_media_ntfs::open(fixture_volume(), &limits).unwrap();
    let (entries, _) = collect(&*fs, &limits);
    let packed = find(&entries, "compressed/packed.txt");
    assert_eq!(packed.size, size);
    assert!(!packed.attributes.contains_key("content"), "{:?}", packed.attributes);
    assert_eq!(content(&*fs, packed).unwrap().len() as u64, size);
}
