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
    let base = ViewBase { artefact: artefact(), sha256: Sha256Digest::of(b""), size: base_size };
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
    v.transform = Some("zisofs".into());
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
