//! EWF fixtures made by ewfacquire / ewfacquirestream.

use std::path::Path;

use exhibit_media_core::{Limits, MediaError, MediaErrorKind, ReadAt};
use exhibit_media_sources::{EwfImage, open_ewf, segment_path};

use crate::support::{first_table, fixture, md5, recorded, sha256};

fn open(name: &str) -> EwfImage {
    open_ewf(&fixture(name), &Limits::default()).expect("opens")
}

#[test]
fn split_set_reads_the_acquired_media() {
    let image = open("ewf/split.E01");
    assert_eq!(image.segment_names().len(), 3);
    assert_eq!(image.size(), 2_622_976);
    assert_eq!(sha256(&image), recorded("ewf/split.sha256", "media.raw"));
    let md5_hex = md5(&image);
    assert_eq!(md5_hex, recorded("ewf/split.md5", "media.raw"));
    assert_eq!(image.stored_md5().map(hex::encode), Some(md5_hex));
    let check = image.verify().expect("verifies");
    assert_eq!((check.md5_matches, check.sha1_matches), (Some(true), Some(true)));
}

#[test]
fn split_set_metadata_comes_from_the_headers() {
    let meta = open("ewf/split.E01").metadata().clone();
    assert_eq!(meta.case_number.as_deref(), Some("case"));
    assert_eq!(meta.evidence_number.as_deref(), Some("evidence"));
    assert_eq!(meta.examiner.as_deref(), Some("examiner"));
    assert_eq!(meta.description.as_deref(), Some("description"));
    assert_eq!(meta.notes.as_deref(), Some("notes"));
    assert_eq!(meta.acquiry_os.as_deref(), Some("Linux"));
    assert_eq!(meta.acquiry_software_version.as_deref(), Some("20140813"));
    assert_eq!(meta.acquired.map(|t| t.from), Some("ewf.header2.m".to_owned()));
    assert!(meta.system_date.is_some());
}

#[test]
fn stream_image_has_md5_only() {
    let image = open("ewf/stream.E01");
    assert_eq!(sha256(&image), recorded("ewf/stream.sha256", "stream.raw"));
    assert_eq!(image.stored_md5().map(hex::encode), Some(recorded("ewf/stream.md5", "stream.raw")));
    assert_eq!(image.stored_sha1(), None);
    assert_eq!(image.metadata().case_number.as_deref(), Some("stream-case"));
    assert_eq!(image.verify().expect("verifies").md5_matches, Some(true));
}

/// Copies the split set to a temp dir, flipping byte `at` of `segment`.
fn corrupted_copy(segment: &str, at: impl Fn(&[u8]) -> usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["split.E01", "split.E02", "split.E03"] {
        let mut bytes = std::fs::read(fixture(&format!("ewf/{name}"))).expect("segment");
        if name == segment {
            let i = at(&bytes);
            bytes[i] ^= 0x5a;
        }
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    dir
}

fn corrupt_kind(e: &std::io::Error) -> Option<(MediaErrorKind, String)> {
    e.get_ref().and_then(|r| r.downcast_ref::<MediaError>()).map(|m| (m.kind, m.message.clone()))
}

#[test]
fn a_changed_byte_in_a_stored_chunk_fails_its_checksum() {
    // split.E02 holds chunks 39.. stored raw (random data) with an Adler-32.
    let dir = corrupted_copy("split.E02", |b| {
        let (base, entries) = first_table(b);
        assert_eq!(entries[5] & 0x8000_0000, 0, "chunk 44 is stored uncompressed");
        base + entries[5] as usize + 100
    });
    let image = open_ewf(&dir.path().join("split.E01"), &Limits::default()).expect("opens");
    let err = image.chunk(44).expect_err("checksum mismatch");
    assert_eq!(err.kind, MediaErrorKind::Corrupt);
    assert!(err.message.contains("EWF chunk 44 (media offset 1441792; "), "{}", err.message);
    assert!(err.message.contains("split.E02") && err.message.contains("checksum mismatch"), "{}", err.message);
    let read = image.read_at(44 * 32768, &mut [0u8; 16]).expect_err("read fails");
    assert_eq!(corrupt_kind(&read).map(|k| k.0), Some(MediaErrorKind::Corrupt));
    // Verification goes on past it, as ewfverify does, naming the chunk.
    let check = image.verify().expect("hashes what is there");
    assert_eq!((check.damaged_chunks, check.md5_matches), (1, Some(false)));
    assert!(
        check.damage[0].contains("EWF chunk 44 ") && check.damage[0].contains("checksum mismatch"),
        "{:?}",
        check.damage
    );
    assert!(image.chunk(43).is_ok() && image.chunk(45).is_ok());
}

#[test]
fn a_changed_byte_in_a_compressed_chunk_fails() {
    let dir = corrupted_copy("split.E01", |b| {
        let (base, entries) = first_table(b);
        assert_ne!(entries[1] & 0x8000_0000, 0, "chunk 1 is compressed");
        let (start, end) = ((entries[1] & 0x7fff_ffff) as usize, (entries[2] & 0x7fff_ffff) as usize);
        base + (start + end) / 2
    });
    let image = open_ewf(&dir.path().join("split.E01"), &Limits::default()).expect("opens");
    let err = image.chunk(1).expect_err("corrupt");
    assert_eq!(err.kind, MediaErrorKind::Corrupt);
    assert!(err.message.contains("EWF chunk 1 (media offset 32768; "), "{}", err.message);
}

/// The first `len` bytes of the whole fixture set.
fn whole_prefix(len: u64) -> Vec<u8> {
    let whole = open("ewf/split.E01");
    let mut buf = vec![0u8; usize::try_from(len).expect("small")];
    exhibit_media_core::read_exact_at(&whole, 0, &mut buf).expect("whole set reads");
    buf
}

/// A set that lost segments opens as truncated media: what the surviving
/// segments hold reads exactly as the whole set does, and nothing past it.
fn assert_truncated_prefix(image: &EwfImage, segment: &str) {
    let why = image.truncation().expect("the set is marked truncated");
    assert!(why.contains(segment), "{why}");
    assert_eq!(image.declared_size(), 2_622_976);
    assert!(image.size() > 0 && image.size() < image.declared_size(), "{}", image.size());
    let mut got = vec![0u8; usize::try_from(image.size()).expect("small")];
    exhibit_media_core::read_exact_at(image, 0, &mut got).expect("the surviving media reads");
    assert!(got == whole_prefix(image.size()), "surviving media differs from the whole set's");
    assert_eq!(image.read_at(image.size(), &mut [0u8; 16]).expect("past the end"), 0);
    let check = image.verify().expect("hashes what survives");
    assert_eq!((check.md5_matches, check.sha1_matches), (None, None), "stored hashes cover lost media");
}

/// A set missing a middle segment (E01 and E03 of three): E03's chunks are
/// placed from the end of the media, so they read as in the whole set; only
/// the media E02 held is missing (a hole that reads as zeros, recorded).
#[test]
fn a_missing_middle_segment_is_a_hole_and_later_segments_still_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["split.E01", "split.E03"] {
        std::fs::copy(fixture(&format!("ewf/{name}")), dir.path().join(name)).expect("copy");
    }
    let image = open_ewf(&dir.path().join("split.E01"), &Limits::default()).expect("opens with a hole");
    let why = image.truncation().expect("the set is marked incomplete");
    assert!(why.contains("split.E02"), "the message names the missing segment: {why}");
    let declared = image.declared_size();
    assert_eq!(declared, 2_622_976);
    assert_eq!(image.size(), declared, "the last segment is whole, so the media runs to its end");
    let holes = image.missing_ranges();
    assert_eq!(holes.len(), 1, "{holes:?}");
    let [from, to] = holes[0];
    assert!(from > 0 && from < to && to < declared, "{holes:?}");
    assert_eq!(from % image.chunk_size(), 0);
    assert_eq!(image.held(), declared - (to - from), "the count leaves the hole out");
    let whole = whole_prefix(declared);
    let mut got = vec![0u8; declared as usize];
    exhibit_media_core::read_exact_at(&image, 0, &mut got).expect("the media reads, hole included");
    let (from, to) = (from as usize, to as usize);
    assert!(got[..from] == whole[..from], "E01's media is the whole set's");
    assert!(got[to..] == whole[to..], "E03's media is the whole set's, at its own offsets");
    assert!(got[from..to].iter().all(|&b| b == 0), "the hole reads as zeros");
    let check = image.verify().expect("hashes what exists");
    assert_eq!((check.md5_matches, check.sha1_matches), (None, None), "stored hashes cover lost media");
    assert_eq!(image.segment_names().len(), 2);
    // The same set given as stored segments (no names to derive) agrees.
    let given = ["split.E01", "split.E03"].map(|n| {
        let f = exhibit_media_core::FileAt::open(&dir.path().join(n)).expect("open");
        (n.to_owned(), std::sync::Arc::new(f) as std::sync::Arc<dyn exhibit_media_core::ReadAt>)
    });
    let stored = EwfImage::from_segments(given.to_vec(), &Limits::default()).expect("opens");
    assert_eq!(stored.missing_ranges(), image.missing_ranges());
    let mut again = vec![0u8; declared as usize];
    exhibit_media_core::read_exact_at(&stored, 0, &mut again).expect("reads");
    assert!(again == got);
}

#[test]
fn a_missing_first_segment_is_still_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture("ewf/split.E02"), dir.path().join("split.E01")).expect("copy");
    let err = open_ewf(&dir.path().join("split.E01"), &Limits::default()).err().expect("not a first segment");
    assert_eq!(err.kind, MediaErrorKind::Corrupt, "{err}");
}

#[test]
fn a_small_allocation_limit_is_enforced() {
    let limits = Limits { max_alloc: 16 << 10, ..Limits::default() };
    let err = open_ewf(&fixture("ewf/split.E01"), &limits).err().expect("32 KiB chunks exceed 16 KiB");
    assert_eq!(err.kind, MediaErrorKind::LimitExceeded);
}

#[test]
fn segment_names_follow_the_ewf_sequence() {
    let first = Path::new("/cases/x.E01");
    let name = |n| segment_path(first, n).map(|p| p.display().to_string());
    assert_eq!(name(2).as_deref(), Some("/cases/x.E02"));
    assert_eq!(name(99).as_deref(), Some("/cases/x.E99"));
    assert_eq!(name(100).as_deref(), Some("/cases/x.EAA"));
    assert_eq!(name(101).as_deref(), Some("/cases/x.EAB"));
    assert_eq!(name(776).as_deref(), Some("/cases/x.FAA"));
    assert_eq!(name(14_971).as_deref(), Some("/cases/x.ZZZ"));
    assert_eq!(name(14_972), None);
    assert_eq!(segment_path(Path::new("y.e01"), 100).map(|p| p.display().to_string()).as_deref(), Some("y.eaa"));
}

#[test]
fn a_cut_last_segment_truncates_the_media() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["split.E01", "split.E02", "split.E03"] {
        let bytes = std::fs::read(fixture(&format!("ewf/{name}"))).expect("segment");
        let keep = if name == "split.E03" { bytes.len() - 100 } else { bytes.len() };
        std::fs::write(dir.path().join(name), &bytes[..keep]).expect("write");
    }
    let image = open_ewf(&dir.path().join("split.E01"), &Limits::default()).expect("opens truncated");
    assert_truncated_prefix(&image, "split.E03");
    assert_eq!(image.segment_names().len(), 2);
}
