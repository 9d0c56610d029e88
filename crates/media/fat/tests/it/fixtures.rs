//! Fixture images against their sleuthkit `fls -r -p` listings and the
//! recorded source hashes.

use std::collections::BTreeMap;

use exhibit_media_core::{EntryKind, FileSystem, FsEntry, Limits};
use exhibit_media_fat::open;

use crate::common::{content, fixture, image, list, path, sha256};

/// (path, deleted) from an fls listing, special files left out.
fn fls(name: &str) -> Vec<(String, bool)> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.img.fls.txt"))).unwrap();
    text.lines()
        .filter_map(|line| {
            let (head, p) = line.split_once('\t')?;
            let special = head.starts_with('v')
                || head.starts_with('V')
                || p.starts_with('$')
                || p.contains("(Volume Label Entry)");
            (!special).then(|| (p.to_string(), head.contains(" * ")))
        })
        .collect()
}

/// Our name in sleuthkit's form: a lost first character shows as `_`.
fn tsk_form(e: &FsEntry) -> String {
    let p = path(e);
    let p = p.strip_prefix('/').unwrap_or(&p).to_string();
    match e.attributes.get("recovered_name").map(String::as_str) {
        Some("partial") => {
            let (dir, last) = p.rsplit_once('/').map_or(("", p.as_str()), |(d, l)| (d, l));
            let last = last.replacen('?', "_", 1);
            if dir.is_empty() { last } else { format!("{dir}/{last}") }
        }
        _ => p,
    }
}

/// Component-wise equality; sleuthkit cuts very long names short, and a
/// deleted parent shows with its lost first character.
fn same_path(ours: &str, tsk: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.split('/').collect(), tsk.split('/').collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            let lost_first = x.starts_with('?') && x.as_bytes().get(1..) == y.as_bytes().get(1..);
            x == y || (y.len() >= 190 && x.starts_with(y)) || lost_first
        })
}

fn hashes(name: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixture(&format!("{name}.img.sha256"))).unwrap();
    text.lines().filter_map(|l| l.split_once("  ")).map(|(h, p)| (p.to_string(), h.to_string())).collect()
}

fn check(name: &str, kind: &str, label: &str) {
    let limits = Limits::default();
    let fs = open(image(name), &limits).unwrap();
    assert_eq!(fs.kind(), kind);
    assert_eq!(fs.label().as_deref(), Some(label));
    let (entries, result) = list(fs.as_ref(), &limits);
    result.unwrap();
    compare_listing(name, &entries);
    let recovered = compare_hashes(name, fs.as_ref(), &entries);
    assert!(recovered >= 3, "{name}: only {recovered} deleted files recovered in full");
}

fn compare_listing(name: &str, entries: &[FsEntry]) {
    let mut tsk = fls(name);
    assert_eq!(entries.len(), tsk.len(), "{name}: entry count");
    for e in entries {
        let ours = tsk_form(e);
        let at = tsk.iter().position(|(p, _)| same_path(&ours, p));
        let (_, deleted) = tsk.swap_remove(at.unwrap_or_else(|| panic!("{name}: {ours} is not in the fls listing")));
        assert_eq!(!e.allocated, deleted, "{name}: deleted flag of {ours}");
    }
}

/// Checks every file's digest; returns how many deleted files matched in full.
fn compare_hashes(name: &str, fs: &dyn FileSystem, entries: &[FsEntry]) -> usize {
    let want = hashes(name);
    let mut recovered = 0;
    for e in entries.iter().filter(|e| e.kind == EntryKind::File) {
        let p = path(e)[1..].to_string();
        let key = want.keys().find(|k| same_path(&p, k));
        if e.allocated {
            let key = key.unwrap_or_else(|| panic!("{name}: {p} has no recorded hash"));
            assert_eq!(sha256(&content(fs, e).unwrap()), want[key], "{name}: content of {p}");
        } else if let (Some(key), Some(r)) = (key, e.recovery) {
            if r.complete {
                assert_eq!(sha256(&content(fs, e).unwrap()), want[key], "{name}: recovered {p}");
                recovered += 1;
            }
        }
    }
    for k in want.keys() {
        assert!(entries.iter().any(|e| same_path(&path(e)[1..], k)), "{name}: {k} missing");
    }
    recovered
}

#[test]
fn fat12_matches_sleuthkit_and_sources() {
    check("fat12", "fat12", "FAT12VOL");
}

#[test]
fn fat16_in_mbr_partition_matches_sleuthkit_and_sources() {
    check("fat16-mbr", "fat16", "FAT16VOL");
}

#[test]
fn fat32_matches_sleuthkit_and_sources() {
    check("fat32", "fat32", "FAT32VOL");
}

#[test]
fn exfat_matches_sleuthkit_and_sources() {
    check("exfat", "exfat", "EXHIBITEX");
}

#[test]
fn fat_timestamps_and_attributes_are_recorded() {
    let limits = Limits::default();
    let fs = exhibit_media_fat::FatFs::open(image("fat12"), &limits).unwrap();
    assert_eq!(fs.volume_id(), Some(0x1a2b_3c4d));
    let (entries, _) = list(&fs, &limits);
    let readme = entries.iter().find(|e| path(e) == "/README.TXT").unwrap();
    let m = readme.timestamps.modified.as_ref().unwrap();
    assert_eq!((m.from.as_str(), m.at.unix_timestamp()), ("fat.dirent.mtime", 1_710_495_600));
    assert_eq!(readme.attributes["timezone"], "unknown (FAT stores local time)");
    let gone = entries.iter().find(|e| path(e) == "/?one").unwrap();
    assert_eq!((gone.allocated, gone.attributes["recovered_name"].as_str()), (false, "partial"));
}
