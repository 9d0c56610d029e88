//! The shared conformance corpus: dfvfs's EWF images of a 4 MiB ext2 volume.

use std::path::PathBuf;

use exhibit_media_core::{Limits, ReadAt, read_exact_at};
use exhibit_media_sources::{EwfImage, SourceFormat, detect, open_ewf};

use crate::support::md5;

const MEDIA_MD5: &str = "196066add11fb71c4c49cf1bb50d6d24";
const PASSWORDS: &[u8] = b"place,user,password\nbank,joesmith,superrich\nalarm system,-,1234\ntreasure chest,-,1111\nuber secret laire,admin,admin\n";

fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

/// Whether `needle` occurs in the media (read in overlapping windows).
fn contains(media: &dyn ReadAt, needle: &[u8]) -> bool {
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 0u64;
    while pos < media.size() {
        let n = media.read_at(pos, &mut buf).expect("read");
        if buf[..n].windows(needle.len()).any(|w| w == needle) {
            return true;
        }
        pos += (n - needle.len().min(n)).max(1) as u64;
    }
    false
}

fn check(image: &EwfImage) {
    assert_eq!(md5(image), MEDIA_MD5, "computed media MD5");
    assert_eq!(image.stored_md5().map(hex::encode).as_deref(), Some(MEDIA_MD5), "stored MD5");
    assert_eq!(image.verify().expect("verifies").md5_matches, Some(true));
    assert_eq!(image.metadata().case_number.as_deref(), Some("case"));
    assert_eq!(image.metadata().examiner.as_deref(), Some("examiner"));
    assert_eq!(image.size(), 4 << 20, "a 4 MiB ext2 volume");
    let mut magic = [0u8; 2];
    read_exact_at(image, 1024 + 56, &mut magic).expect("superblock");
    assert_eq!(magic, [0x53, 0xef], "ext2 superblock magic");
    assert!(contains(image, PASSWORDS), "/passwords.txt content is in the media");
}

#[test]
fn dfvfs_ext2_e01() {
    let Some(dir) = corpus() else { return };
    let path = dir.join("dfvfs/ext2.E01");
    assert_eq!(detect(&path).ok(), Some(SourceFormat::Ewf));
    check(&open_ewf(&path, &Limits::default()).expect("opens"));
}

#[test]
fn dfvfs_ext2_split_pair() {
    let Some(dir) = corpus() else { return };
    let image = open_ewf(&dir.join("dfvfs/ext2.split.E01"), &Limits::default()).expect("opens both segments");
    assert_eq!(image.segment_names().len(), 2);
    check(&image);
}
