//! Detection by content, whatever the file is called.

use exhibit_media_core::MediaErrorKind;
use exhibit_media_sources::{SourceFormat, detect};

use crate::support::fixture;

#[test]
fn formats_are_told_apart_by_content() {
    assert_eq!(detect(&fixture("ewf/split.E01")).ok(), Some(SourceFormat::Ewf));
    assert_eq!(detect(&fixture("ewf/split.E02")).ok(), Some(SourceFormat::Ewf));
    assert_eq!(detect(&fixture("cue/two-files.cue")).ok(), Some(SourceFormat::Cue));
    assert_eq!(detect(&fixture("cue/one-file.cue")).ok(), Some(SourceFormat::Cue));
    assert_eq!(detect(&fixture("cue/data track.bin")).ok(), Some(SourceFormat::Raw));
    assert_eq!(detect(&fixture("ewf/split.ewfinfo.txt")).ok(), Some(SourceFormat::Raw));
}

#[test]
fn names_do_not_decide() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("image.E01");
    std::fs::write(&fake, b"just bytes").expect("write");
    assert_eq!(detect(&fake).ok(), Some(SourceFormat::Raw));
    let sheet = dir.path().join("disc.iso");
    std::fs::copy(fixture("cue/one-file.cue"), &sheet).expect("copy");
    assert_eq!(detect(&sheet).ok(), Some(SourceFormat::Cue));
    let ex01 = dir.path().join("x.bin");
    std::fs::write(&ex01, b"EVF2\r\n\x81\x00rest").expect("write");
    assert_eq!(detect(&ex01).err().map(|e| e.kind), Some(MediaErrorKind::Unsupported));
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").expect("write");
    assert_eq!(detect(&empty).ok(), Some(SourceFormat::Raw));
}
