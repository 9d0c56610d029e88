//! The view read path: arbitrary runs over arbitrary base bytes, stored or
//! decoded as a CD track's sectors, sometimes through a transform (zisofs,
//! LZNT1). A view either is refused by its check, or reads exactly its size
//! (a transformed one may instead fail with `InvalidData` or a short base),
//! never panicking and never asking its base for a byte outside it.

#![no_main]

use std::io::Read;
use std::sync::Arc;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId, ExhibitRef};
use exhibit_core::read_at::ReadAt;
use exhibit_core::view::{
    BaseDecode, CdSectorsAt, Fill, SequentialReader, Transform, VIEW_FORMAT, ViewAt, ViewBase, ViewInfo, ViewRun,
};
use libfuzzer_sys::fuzz_target;

/// A base that fails the run if a read reaches outside it.
struct Bounded(Vec<u8>);

impl ReadAt for Bounded {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = offset.checked_add(buf.len() as u64).expect("a read whose end overflows");
        assert!(end <= self.0.len() as u64, "read [{offset}, {end}) outside a {}-byte base", self.0.len());
        let start = offset as usize;
        buf.copy_from_slice(&self.0[start..start + buf.len()]);
        Ok(buf.len())
    }

    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

fn word(data: &mut &[u8]) -> u64 {
    let (head, rest) = data.split_at(data.len().min(4));
    *data = rest;
    head.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))
}

fuzz_target!(|data: &[u8]| {
    let mut data = data;
    let count = (word(&mut data) % 16) as usize;
    let mut runs = Vec::new();
    let mut pos = 0u64;
    for _ in 0..count {
        let (shape, len, at) = (word(&mut data), word(&mut data) % 4096, word(&mut data));
        // Mostly well-formed runs, sometimes gaps, overlaps and garbage.
        let file_offset = if shape & 0x100 == 0 { pos } else { word(&mut data) };
        let (base_offset, fill) = match shape % 4 {
            0 => (None, Some(Fill::Sparse)),
            1 => (None, Some(Fill::Missing)),
            2 => (Some(at), Some(Fill::Sparse)),
            _ => (Some(at), None),
        };
        runs.push(ViewRun { file_offset, len, base_offset, fill });
        pos = pos.wrapping_add(len);
    }
    let size = if word(&mut data) & 1 == 0 { pos } else { word(&mut data) };
    // Sometimes a transform, with block and unit sizes that often do not
    // fit; decoded sizes stay small so a run of empty blocks ends soon.
    let transform = match word(&mut data) % 4 {
        0 => Some(Transform::Zisofs {
            header_size: [16, word(&mut data)][(word(&mut data) % 2) as usize],
            block_log2: [15, 16, 17, word(&mut data) as u8][(word(&mut data) % 4) as usize],
        }),
        1 => Some(Transform::Lznt1 { unit_size: [4096, 65536, word(&mut data)][(word(&mut data) % 3) as usize] }),
        _ => None,
    };
    let size = if transform.is_some() { size % (1 << 20) } else { size };
    // Sometimes a CD data track's user data over the bytes: sector sizes
    // and offsets from the input, often ones that do not fit.
    let sectors = (word(&mut data) & 1 == 1).then(|| {
        let sector_size = [2048, 2336, 2352, word(&mut data) % 4096][(word(&mut data) % 4) as usize];
        BaseDecode::CdSectors {
            start: word(&mut data) % 8192,
            sector_size,
            user_offset: [0, 16, 24, word(&mut data)][(word(&mut data) % 4) as usize],
            sectors: word(&mut data) % 8,
        }
    });
    let stored = data.len() as u64;
    let raw: Arc<dyn ReadAt> = Arc::new(Bounded(data.to_vec()));
    let base: Arc<dyn ReadAt> = match &sectors {
        Some(BaseDecode::CdSectors { start, sector_size, user_offset, sectors }) => {
            Arc::new(CdSectorsAt::new(raw, *start, *sector_size, *user_offset, *sectors))
        }
        _ => raw,
    };
    let case: CaseId = "FUZZ".parse().expect("case");
    let exhibit: ExhibitRef = "F/1".parse().expect("exhibit");
    let artefact = ArtefactId::derive(&case, &exhibit, b"base", &Sha256Digest::of(data));
    let view = ViewInfo {
        format: VIEW_FORMAT.into(),
        base: ViewBase { decode: sectors, ..ViewBase::stored(artefact, Sha256Digest::of(data), stored) },
        runs,
        transform,
    };
    let Ok(at) = ViewAt::open(base, &view, size) else { return };
    let mut out = Vec::new();
    match SequentialReader::new(at.clone()).read_to_end(&mut out) {
        Ok(_) => assert_eq!(out.len() as u64, size),
        Err(e) => assert!(transform.is_some(), "a checked plain view reads to its end: {e}"),
    }
    let mut buf = [0u8; 37];
    let _ = at.read_at(size / 2, &mut buf);
    // The same view as JSON, possibly mangled, never panics its check.
    if let Ok(text) = serde_json::to_vec(&view) {
        let _ = serde_json::from_slice::<ViewInfo>(&text).map(|v| v.check(size));
    }
});
