//! Deleted names on ext2 (`fixtures/damaged/ext2-deleted.img`, made by
//! mkfs.ext2 + debugfs `rm`): every name sleuthkit's `fls -r -p` prints is
//! walked, deleted ones flagged, and their content equals `icat`'s.

use std::collections::BTreeSet;

use exhibit_media_core::FsEntry;

use crate::common::{content, slash_path, volume, walk, workspace};

fn damaged(name: &str) -> std::path::PathBuf {
    workspace().join("fixtures/damaged").join(name)
}

/// fls's `r/r * 16:\tdocs/old.txt` form of an entry.
fn fls_line(e: &FsEntry) -> String {
    let t = if matches!(e.kind, exhibit_media_core::EntryKind::Directory) { "d" } else { "r" };
    let star = if e.allocated { "" } else { "* " };
    format!("{t}/{t} {star}{}:\t{}", e.address.unwrap_or_default(), String::from_utf8_lossy(&slash_path(e)))
}

#[test]
fn deleted_names_match_fls_and_their_content_matches_icat() {
    let bytes = std::fs::read(damaged("ext2-deleted.img")).unwrap();
    let vol = volume(bytes);
    let fs = exhibit_media_ext::open(vol.clone(), &crate::common::small_limits()).unwrap();
    let (entries, result) = walk(fs.as_ref());
    result.expect("a clean walk");
    let ours: BTreeSet<String> = entries.iter().map(fls_line).collect();
    let fls = std::fs::read_to_string(damaged("ext2-deleted.fls.txt")).unwrap();
    let theirs: BTreeSet<String> = fls.lines().filter(|l| !l.ends_with("$OrphanFiles")).map(str::to_owned).collect();
    assert_eq!(ours, theirs);
    let deleted: Vec<&FsEntry> = entries.iter().filter(|e| !e.allocated).collect();
    assert_eq!(deleted.len(), 3);
    for e in deleted {
        let inode = e.address.unwrap();
        let icat = std::fs::read(damaged(&format!("ext2-deleted.icat.{inode}"))).unwrap();
        assert!(e.recovery.is_some_and(|r| r.complete && r.recoverable_bytes == icat.len() as u64), "{e:?}");
        assert_eq!(content(vol.clone(), e, u64::MAX).unwrap(), icat, "{}", fls_line(e));
    }
}
