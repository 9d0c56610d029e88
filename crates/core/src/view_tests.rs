use std::io::Read;
use std::sync::Arc;

use super::*;
use crate::read_at::BytesAt;

fn artefact() -> ArtefactId {
    let case: crate::ids::CaseId = "case-1".parse().unwrap();
    let exhibit: crate::ids::ExhibitRef = "EX-1".parse().unwrap();
    ArtefactId::derive(&case, &exhibit, b"image", &Sha256Digest::of(b"x"))
}

fn view(base_size: u64, runs: Vec<ViewRun>) -> ViewInfo {
    let base = ViewBase::stored(artefact(), Sha256Digest::of(b""), base_size);
    ViewInfo { format: VIEW_FORMAT.into(), base, runs, transform: None }
}

fn at(file_offset: u64, len: u64, base: u64) -> ViewRun {
    ViewRun { file_offset, len, base_offset: Some(base), fill: None }
}

fn fill(file_offset: u64, len: u64, fill: Fill) -> ViewRun {
    ViewRun { file_offset, len, base_offset: None, fill: Some(fill) }
}

#[test]
fn runs_read_in_file_order_with_fills() {
    let base: Arc<dyn ReadAt> = Arc::new(BytesAt::new(b"abcdefghij".to_vec()));
    let v = view(10, vec![at(0, 3, 7), fill(3, 2, Fill::Sparse), at(5, 2, 0), fill(7, 1, Fill::Missing)]);
    let reader = ViewAt::new(base, &v, 8).unwrap();
    let mut out = Vec::new();
    SequentialReader::new(Arc::new(reader.clone())).read_to_end(&mut out).unwrap();
    assert_eq!(out, b"hij\0\0ab\0");
    let mut two = [9u8; 2];
    assert_eq!(reader.read_at(6, &mut two).unwrap(), 1);
    assert_eq!(two[0], b'b');
    assert_eq!(reader.read_at(8, &mut two).unwrap(), 0);
    assert_eq!(v.base_bytes(), 5);
}

#[test]
fn views_that_do_not_hold_together_are_refused() {
    let cases = [
        (view(10, vec![at(0, 3, 8)]), 3),              // past the base
        (view(10, vec![at(0, 3, u64::MAX - 1)]), 3),   // overflow
        (view(10, vec![at(0, 3, 0), at(4, 1, 0)]), 5), // a gap
        (view(10, vec![at(0, 3, 0), at(2, 1, 0)]), 4), // an overlap
        (view(10, vec![at(0, 3, 0)]), 4),              // short of the size
        (view(10, vec![at(0, 0, 0)]), 0),              // an empty run
        (view(10, vec![ViewRun { file_offset: 0, len: 1, base_offset: Some(0), fill: Some(Fill::Sparse) }]), 1),
        (view(10, vec![ViewRun { file_offset: 0, len: 1, base_offset: None, fill: None }]), 1),
    ];
    for (v, size) in cases {
        let base: Arc<dyn ReadAt> = Arc::new(BytesAt::new(vec![0; 10]));
        assert!(ViewAt::new(base, &v, size).is_err(), "{v:?} of {size} bytes must be refused");
    }
    let mut v = view(10, vec![at(0, 1, 0)]);
    // A zisofs stream of one byte cannot hold its own header.
    v.transform = Some(Transform::Zisofs { header_size: 16, block_log2: 15 });
    assert!(v.check(1).is_err());
    // A base cut short still serves runs within what remains (the caller
    // re-hashes them), and refuses a view that reads past the cut.
    let cut: Arc<dyn ReadAt> = Arc::new(BytesAt::new(vec![7; 9]));
    let within = ViewAt::new(cut.clone(), &view(10, vec![at(0, 2, 7)]), 2).unwrap();
    let mut buf = [0u8; 2];
    assert_eq!(within.read_at(0, &mut buf).unwrap(), 2);
    assert_eq!(buf, [7, 7]);
    assert!(ViewAt::new(cut, &view(10, vec![at(0, 2, 8)]), 2).is_err(), "a view past the cut");
}

#[test]
fn a_view_round_trips_through_json() {
    let v = view(10, vec![at(0, 3, 7), fill(3, 2, Fill::Missing)]);
    let text = serde_json::to_string(&v).unwrap();
    assert!(text.contains(r#""fill":"missing""#), "{text}");
    assert_eq!(serde_json::from_str::<ViewInfo>(&text).unwrap(), v);
}

/// A 3-sector MODE1/2352-like track: 16-byte header, 2048 user bytes, 288
/// bytes of error correction, starting 100 bytes into its file.
fn raw_track() -> Vec<u8> {
    let mut raw = vec![0xEEu8; 100];
    for s in 0..3u8 {
        raw.extend(std::iter::repeat_n(0xA0 + s, 16));
        raw.extend((0..2048u32).map(|i| (i as u8) ^ s));
        raw.extend(std::iter::repeat_n(0xC0 + s, 288));
    }
    raw
}

#[test]
fn a_cd_track_view_skips_sector_headers() {
    let raw = raw_track();
    let decode = BaseDecode::CdSectors { start: 100, sector_size: 2352, user_offset: 16, sectors: 3 };
    let mut v = view(raw.len() as u64, vec![at(0, 10, 2040), fill(10, 2, Fill::Sparse)]);
    v.base.decode = Some(decode.clone());
    assert_eq!(v.base.addressable().unwrap(), 3 * 2048);
    let track: Arc<dyn ReadAt> = Arc::new(CdSectorsAt::new(Arc::new(BytesAt::new(raw.clone())), 100, 2352, 16, 3));
    let reader = ViewAt::new(track, &v, 12).unwrap();
    let mut out = Vec::new();
    SequentialReader::new(Arc::new(reader)).read_to_end(&mut out).unwrap();
    // Bytes 2040..2048 of sector 0, then 0..2 of sector 1: no header between.
    let expected: Vec<u8> = (2040..2048u32).map(|i| i as u8).chain((0..2u32).map(|i| (i as u8) ^ 1)).collect();
    assert_eq!(&out[..10], expected.as_slice());
    assert_eq!(&out[10..], &[0, 0]);
    // A run past the track's user data, and a track past its file, are refused.
    let past = view(raw.len() as u64, vec![at(0, 2, 3 * 2048 - 1)]);
    let mut past = past;
    past.base.decode = Some(decode);
    assert!(past.check(2).is_err());
    past.base.decode = Some(BaseDecode::CdSectors { start: 100, sector_size: 2352, user_offset: 16, sectors: 4 });
    assert!(past.base.addressable().is_err());
    past.base.decode = Some(BaseDecode::CdSectors { start: 0, sector_size: 2352, user_offset: 2000, sectors: 1 });
    assert!(past.base.addressable().is_err(), "user data that does not fit its sector");
}

#[test]
fn decoded_bases_round_trip_and_name_their_members() {
    let member = BaseMember { artefact: artefact(), sha256: Sha256Digest::of(b"2"), size: 7 };
    let mut v = view(10, vec![at(0, 4, 90)]);
    v.base.decode = Some(BaseDecode::Ewf { segments: vec![member.clone()], media_size: 100 });
    v.check(4).unwrap();
    let text = serde_json::to_string(&v).unwrap();
    assert!(text.contains(r#""kind":"ewf""#), "{text}");
    assert_eq!(serde_json::from_str::<ViewInfo>(&text).unwrap(), v);
    assert_eq!(v.base.members().len(), 2);
    assert_eq!(v.base.members()[1], member);
    // A decoding this version does not know is refused when read.
    let unknown = text.replace(r#""kind":"ewf""#, r#""kind":"vmdk""#);
    assert!(serde_json::from_str::<ViewInfo>(&unknown).is_err());
    // An older manifest's base (no decode) still reads.
    let plain = serde_json::to_string(&view(10, vec![at(0, 4, 0)])).unwrap();
    assert!(!plain.contains("decode"));
}
