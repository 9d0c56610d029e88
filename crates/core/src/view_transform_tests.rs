use std::io::{Read, Write};

use super::*;
use crate::digest::Sha256Digest;
use crate::ids::ArtefactId;
use crate::read_at::BytesAt;
use crate::view::{Fill, SequentialReader, VIEW_FORMAT, ViewAt, ViewBase, ViewInfo};

const BLOCK_LOG2: u8 = 15;
const BLOCK: usize = 1 << BLOCK_LOG2;

fn artefact() -> ArtefactId {
    let case: crate::ids::CaseId = "case-1".parse().unwrap();
    let exhibit: crate::ids::ExhibitRef = "EX-1".parse().unwrap();
    ArtefactId::derive(&case, &exhibit, b"image", &Sha256Digest::of(b"x"))
}

/// What mkzftree writes for `data`: header, pointers, one zlib stream per
/// block, an all-zero block as an empty one.
fn zisofs(data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(BLOCK);
    let mut out = ZISOFS_MAGIC.to_vec();
    out.extend((data.len() as u32).to_le_bytes());
    out.extend([4, BLOCK_LOG2, 0, 0]);
    let table = out.len();
    out.resize(table + 4 * (blocks + 1), 0);
    let mut pointers = vec![out.len() as u32];
    for block in data.chunks(BLOCK) {
        if block.iter().any(|&b| b != 0) {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            z.write_all(block).unwrap();
            out.extend(z.finish().unwrap());
        }
        pointers.push(out.len() as u32);
    }
    for (i, p) in pointers.iter().enumerate() {
        out[table + 4 * i..table + 4 * i + 4].copy_from_slice(&p.to_le_bytes());
    }
    out
}

fn sample(len: usize) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| (i * 7 / 3 % 251) as u8).collect();
    if len > 2 * BLOCK {
        data[BLOCK..2 * BLOCK].fill(0);
    }
    data
}

/// A transformed view whose runs are `encoded` split at `split`, placed at
/// byte 100 of a base, in two runs that are not adjacent on the base.
fn view_over(encoded: &[u8], split: usize, transform: Transform) -> (Arc<dyn ReadAt>, ViewInfo) {
    let mut base = vec![0xAAu8; 100];
    base.extend(&encoded[split..]);
    base.extend([0xBB; 7]);
    let second = base.len() as u64;
    base.extend(&encoded[..split]);
    let runs = vec![
        ViewRun { file_offset: 0, len: split as u64, base_offset: Some(second), fill: None },
        ViewRun { file_offset: split as u64, len: (encoded.len() - split) as u64, base_offset: Some(100), fill: None },
    ];
    let info = ViewInfo {
        format: VIEW_FORMAT.into(),
        base: ViewBase::stored(artefact(), Sha256Digest::of(b""), base.len() as u64),
        runs,
        transform: Some(transform),
    };
    (Arc::new(BytesAt::new(base)), info)
}

fn read_all(at: Arc<dyn ReadAt>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    SequentialReader::new(at).read_to_end(&mut out).map(|_| out)
}

const ZF: Transform = Transform::Zisofs { header_size: 16, block_log2: BLOCK_LOG2 };

#[test]
fn zisofs_blocks_decode_through_split_runs() {
    let data = sample(3 * BLOCK + 1234);
    let encoded = zisofs(&data);
    let (base, view) = view_over(&encoded, 50, ZF);
    let at = ViewAt::open(base, &view, data.len() as u64).unwrap();
    assert_eq!(at.size(), data.len() as u64);
    assert_eq!(read_all(at.clone()).unwrap(), data);
    let mut mid = [0u8; 10];
    assert_eq!(at.read_at(BLOCK as u64 * 3 + 5, &mut mid).unwrap(), 10);
    assert_eq!(mid, data[BLOCK * 3 + 5..BLOCK * 3 + 15]);
}

#[test]
fn a_flipped_byte_in_a_block_fails_that_read_by_name() {
    let data = sample(2 * BLOCK + 10);
    let mut encoded = zisofs(&data);
    let last = encoded.len() - 3;
    encoded[last] ^= 0x55;
    let (base, view) = view_over(&encoded, 40, ZF);
    let at = ViewAt::open(base, &view, data.len() as u64).unwrap();
    let mut first = vec![0u8; BLOCK];
    assert_eq!(at.read_at(0, &mut first).unwrap(), BLOCK);
    let err = read_all(at).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("zisofs block 2"), "{err}");
}

#[test]
fn hostile_zisofs_records_are_refused_with_a_reason() {
    let data = sample(2 * BLOCK);
    let encoded = zisofs(&data);
    let size = data.len() as u64;
    // A huge block size in the ZF record: refused before any read.
    let (base, view) = view_over(&encoded, 40, Transform::Zisofs { header_size: 16, block_log2: 31 });
    let err = ViewAt::open(base, &view, size).err().unwrap();
    assert!(err.0.contains("2^31"), "{err}");
    // A header whose block size differs from the ZF record.
    let mut huge = encoded.clone();
    huge[13] = 30;
    let (base, view) = view_over(&huge, 40, ZF);
    let err = read_all(ViewAt::open(base, &view, size).unwrap()).unwrap_err();
    assert!(err.to_string().contains("header does not match"), "{err}");
    // Block pointers out of order, and past the stream.
    for (at, value) in [(20usize, 4u32), (24, u32::MAX), (20, 0x7FFF_FFF0)] {
        let mut bad = encoded.clone();
        bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
        let (base, view) = view_over(&bad, 40, ZF);
        let err = read_all(ViewAt::open(base, &view, size).unwrap()).unwrap_err();
        assert!(err.to_string().contains("out of order or outside"), "{err}");
    }
    // A stream too short for its pointer table.
    let (base, view) = view_over(&encoded[..20], 5, ZF);
    assert!(ViewAt::open(base, &view, size).is_err());
}

#[test]
fn an_unknown_transform_kind_does_not_parse() {
    let (_, view) = view_over(&zisofs(&sample(10)), 5, ZF);
    let text = serde_json::to_string(&view).unwrap();
    assert!(text.contains(r#""transform":{"kind":"zisofs","header_size":16,"block_log2":15}"#), "{text}");
    assert_eq!(serde_json::from_str::<ViewInfo>(&text).unwrap(), view);
    let unknown = text.replace(r#""kind":"zisofs""#, r#""kind":"lzx""#);
    let err = serde_json::from_str::<ViewInfo>(&unknown).unwrap_err();
    assert!(err.to_string().contains("lzx"), "{err}");
}

const UNIT: u64 = 4096 * 2;

fn lznt1_view(units: &[(Vec<u8>, u64)]) -> (Arc<dyn ReadAt>, ViewInfo) {
    let mut base = Vec::new();
    let mut runs = Vec::new();
    for (i, (stored, sparse)) in units.iter().enumerate() {
        let at = i as u64 * UNIT;
        if !stored.is_empty() {
            let run =
                ViewRun { file_offset: at, len: stored.len() as u64, base_offset: Some(base.len() as u64), fill: None };
            runs.push(run);
            base.extend(stored);
        }
        if *sparse > 0 {
            let run = ViewRun {
                file_offset: at + stored.len() as u64,
                len: *sparse,
                base_offset: None,
                fill: Some(Fill::Sparse),
            };
            runs.push(run);
        }
    }
    let info = ViewInfo {
        format: VIEW_FORMAT.into(),
        base: ViewBase::stored(artefact(), Sha256Digest::of(b""), base.len() as u64),
        runs,
        transform: Some(Transform::Lznt1 { unit_size: UNIT }),
    };
    (Arc::new(BytesAt::new(base)), info)
}

/// "abc" then a 9-byte copy, in one compressed chunk, padded to a cluster.
fn abc_unit() -> Vec<u8> {
    let mut unit = vec![0x05, 0xB0, 0x08, b'a', b'b', b'c', 0x06, 0x20];
    unit.resize(4096, 0);
    unit
}

#[test]
fn lznt1_units_raw_compressed_and_sparse() {
    let raw: Vec<u8> = (0..UNIT).map(|i| (i % 13) as u8).collect();
    let units = [(raw.clone(), 0), (abc_unit(), 4096), (Vec::new(), UNIT), (abc_unit(), 4096)];
    let size = 3 * UNIT + 20;
    let (base, view) = lznt1_view(&units);
    let got = read_all(ViewAt::open(base, &view, size).unwrap()).unwrap();
    let mut want = raw;
    want.extend(b"abcabcabcabc");
    want.resize(3 * UNIT as usize, 0);
    want.extend(b"abcabcabcabc");
    want.resize(size as usize, 0);
    assert_eq!(got, want);
}

#[test]
fn hostile_lznt1_units_fail_that_view_with_a_reason() {
    // A unit whose chunks claim more output than the unit holds: three
    // raw 4096-byte chunks in an 8192-byte unit.
    // A unit whose chunks claim more output than the unit holds: three
    // chunks of 'a' and a 4095-byte copy, 12 KiB in an 8 KiB unit.
    let mut claims = [0x03, 0xB0, 0x02, b'a', 0xFC, 0x0F].repeat(3);
    claims.resize(UNIT as usize - 512, 0);
    let (base, view) = lznt1_view(&[(claims, 512)]);
    let err = read_all(ViewAt::open(base, &view, UNIT).unwrap()).unwrap_err();
    assert!(err.to_string().contains("more than its 8192 bytes"), "{err}");
    // A back-reference before the chunk.
    let mut back = vec![0x02, 0xB0, 0x01, 0x00, 0x00];
    back.resize(4096, 0);
    let (base, view) = lznt1_view(&[(back, 4096)]);
    let err = read_all(ViewAt::open(base, &view, UNIT).unwrap()).unwrap_err();
    assert!(err.to_string().contains("LZNT1 unit 0"), "{err}");
    // Stored clusters after a sparse one inside a unit.
    let (base, mut view) = lznt1_view(&[(abc_unit(), 4096)]);
    view.runs = vec![
        ViewRun { file_offset: 0, len: 4096, base_offset: None, fill: Some(Fill::Sparse) },
        ViewRun { file_offset: 4096, len: 4096, base_offset: Some(0), fill: None },
    ];
    let err = read_all(ViewAt::open(base, &view, UNIT).unwrap()).unwrap_err();
    assert!(err.to_string().contains("follow a sparse run"), "{err}");
    // Units that are not a power of two, or huge, are refused up front.
    for unit_size in [3000, 1 << 40] {
        let (base, mut view) = lznt1_view(&[(abc_unit(), 4096)]);
        view.transform = Some(Transform::Lznt1 { unit_size });
        assert!(ViewAt::open(base, &view, UNIT).is_err());
    }
}
