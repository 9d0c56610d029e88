//! Hostile inputs: truncations and byte flips aimed at metadata, each run
//! through open + walk + read-all-content. Work is counted, not timed.

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, Limits, ReadAt, open_content};

use crate::common::fixture_volume;

/// Opens, walks and reads everything; returns (entries, bytes read).
fn exercise(data: Vec<u8>, limits: &Limits) -> (u64, u64) {
    let size = data.len() as u64;
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data));
    let Ok(fs) = exhibit_media_ntfs::open(volume, limits) else { return (0, 0) };
    let _ = fs.label();
    let (mut entries, mut bytes) = (0u64, 0u64);
    let cap = size * limits.max_expansion_ratio;
    let _ = fs.walk(limits, &mut |e| {
        entries += 1;
        if e.has_content() {
            let mut r = open_content(fs.volume(), &e).take(cap.saturating_sub(bytes));
            bytes += std::io::copy(&mut r, &mut std::io::sink()).unwrap_or(0);
        }
        Ok(())
    });
    (entries, bytes)
}

/// Offsets of 512-aligned blocks starting with `FILE` or `INDX`, plus the boot sector.
fn metadata_blocks(image: &[u8]) -> Vec<usize> {
    let mut out = vec![0];
    for off in (0..image.len()).step_by(512) {
        if matches!(image.get(off..off + 4), Some(b"FILE" | b"INDX")) {
            out.push(off);
        }
    }
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Flip cases per image; `EXHIBIT_NTFS_FLIPS` raises it for a longer local soak.
fn flip_cases() -> u64 {
    std::env::var("EXHIBIT_NTFS_FLIPS").ok().and_then(|v| v.parse().ok()).unwrap_or(1200)
}

/// Runs 10 truncations and `flips` mutated copies of `image`; returns the case count.
fn hammer(image: &[u8], flips: u64, seed: u64) -> u64 {
    let limits = Limits { max_alloc: 16 << 20, ..Limits::default() };
    let (full_entries, _) = exercise(image.to_vec(), &limits);
    assert!(full_entries > 10, "the unmodified image lists {full_entries} entries");
    let (mut entries, mut bytes, mut cases) = (0u64, 0u64, 0u64);
    for i in 1..=10 {
        let (e, b) = exercise(image[..image.len() * i / 11].to_vec(), &limits);
        (entries, bytes, cases) = (entries + e, bytes + b, cases + 1);
    }
    let blocks = metadata_blocks(image);
    assert!(blocks.len() > 20, "found {} metadata blocks", blocks.len());
    let mut rng = Rng(seed);
    for _ in 0..flips {
        let mut mutated = image.to_vec();
        for _ in 0..1 + rng.next() % 4 {
            let block = blocks[(rng.next() % blocks.len() as u64) as usize];
            let at = block + (rng.next() % 1024) as usize;
            if let Some(b) = mutated.get_mut(at) {
                *b ^= 1 << (rng.next() % 8);
                if rng.next() % 4 == 0 {
                    *b = [0x00, 0xFF, 0x7F, 0x80][(rng.next() % 4) as usize];
                }
            }
        }
        let (e, b) = exercise(mutated, &limits);
        (entries, bytes, cases) = (entries + e, bytes + b, cases + 1);
    }
    let size = image.len() as u64;
    assert!(entries <= cases * limits.max_entries, "entries {entries}");
    assert!(bytes <= cases * size * limits.max_expansion_ratio, "bytes {bytes}");
    cases
}

#[test]
fn truncations_and_flips_never_panic_or_run_away() {
    let volume = fixture_volume();
    let mut image = vec![0u8; volume.size() as usize];
    exhibit_media_core::read_exact_at(&*volume, 0, &mut image).unwrap();
    assert_eq!(hammer(&image, flip_cases(), 0x9E37_79B9_7F4A_7C15), 10 + flip_cases());
    let Some(corpus) = exhibit_testkit::corpus_dir() else { return };
    let testfs1 = std::fs::read(corpus.join("ntfs-rs/testfs1")).expect("ntfs-rs/testfs1 in the corpus");
    assert_eq!(hammer(&testfs1, flip_cases() / 4, 0x2545_F491_4F6C_DD1D), 10 + flip_cases() / 4);
}

#[test]
fn fuzz_entry_point_handles_garbage() {
    exhibit_media_ntfs::fuzz_one(&[]);
    exhibit_media_ntfs::fuzz_one(&[0u8; 4096]);
    let mut boot = vec![0u8; 8192];
    boot[3..11].copy_from_slice(b"NTFS    ");
    boot[510] = 0x55;
    boot[511] = 0xAA;
    exhibit_media_ntfs::fuzz_one(&boot);
}

/// A zero-length entry at the start of every INDX record (this input makes
/// the `ntfs` crate 0.4 panic on an out-of-range slice) ends in a typed error.
#[test]
fn zero_length_index_entries_are_corrupt_not_a_panic() {
    let volume = fixture_volume();
    let mut image = vec![0u8; volume.size() as usize];
    exhibit_media_core::read_exact_at(&*volume, 0, &mut image).unwrap();
    let indx: Vec<usize> =
        metadata_blocks(&image).into_iter().filter(|&o| image.get(o..o + 4) == Some(b"INDX")).collect();
    assert!(!indx.is_empty());
    for off in indx {
        let first = 24 + u32::from_le_bytes(image[off + 24..off + 28].try_into().unwrap()) as usize;
        image[off + first + 8..off + first + 10].fill(0);
    }
    let limits = Limits::default();
    let fs = exhibit_media_ntfs::open(Arc::new(BytesAt::new(image)), &limits).unwrap();
    let err = fs.walk(&limits, &mut |_| Ok(())).unwrap_err();
    assert_eq!(err.kind, exhibit_media_core::MediaErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("index entry of length 0"), "{err}");
}
