//! Damaged images: truncations, byte flips aimed at metadata, a directory
//! loop. Every case must end in Ok or a typed error, never a panic or hang.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, EntryKind, Limits, MediaErrorKind, ReadAt, open_content};
use exhibit_media_iso::{IsoOptions, open_with};

use crate::common::{entries, find, fixture};

const OPTIONS: [IsoOptions; 3] = [
    IsoOptions { joliet: true, rock_ridge: true },
    IsoOptions { joliet: true, rock_ridge: false },
    IsoOptions { joliet: false, rock_ridge: false },
];

fn limits() -> Limits {
    Limits { max_alloc: 16 << 20, ..Limits::default() }
}

/// Opens every way, walks, reads all content; returns (entries, bytes
/// read, a fingerprint of everything listed and every result).
fn exercise(image: Vec<u8>) -> (u64, u64, u64) {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(image));
    let (mut seen, mut read, mut print) = (0u64, 0u64, DefaultHasher::new());
    for options in OPTIONS {
        let Ok(fs) = open_with(volume.clone(), &limits(), options) else {
            "open failed".hash(&mut print);
            continue;
        };
        let walked = fs.walk(&limits(), &mut |e| {
            seen += 1;
            format!("{e:?}").hash(&mut print);
            if e.has_content() {
                read += std::io::copy(&mut open_content(volume.clone(), &e), &mut std::io::sink()).unwrap_or(0);
            }
            Ok(())
        });
        walked.is_ok().hash(&mut print);
    }
    (seen, read, print.finish())
}

/// SplitMix64: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte ranges holding metadata: the used head of each volume descriptor,
/// every directory record, and each directory's `.`/`..` records, in all
/// three trees.
fn metadata_regions(image: &[u8]) -> Vec<(usize, usize)> {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(image.to_vec()));
    let mut regions: Vec<_> = (16..20).map(|s| (s * 2048, s * 2048 + 190)).collect();
    for options in OPTIONS {
        let fs = open_with(volume.clone(), &limits(), options).expect("clean fixture opens");
        for e in entries(&*fs) {
            let at = e.address.expect("address") as usize;
            regions.push((at, at + usize::from(image[at])));
            if e.kind == EntryKind::Directory {
                let lba: usize = e.attributes["iso9660.extent_lba"].parse().expect("lba");
                regions.push((lba * 2048, lba * 2048 + 256));
            }
        }
    }
    regions.sort();
    regions.dedup();
    regions
}

#[test]
fn truncated_and_flipped_images_end_in_a_result() {
    let image = std::fs::read(fixture("iso.iso")).expect("fixture");
    let size = image.len();
    let clean = exercise(image.clone());
    let mut changed = 0;
    let mut bound = |outcome: (u64, u64, u64)| {
        let (seen, read, _) = outcome;
        assert!(seen <= 3 * limits().max_entries, "entry count bound");
        assert!(read <= 3 * limits().max_expansion_ratio * size as u64, "read {read} bytes from a {size}-byte image");
        changed += u32::from(outcome != clean);
    };
    for k in 0..10 {
        let cut = size * k / 10 + k * 7;
        bound(exercise(image[..cut.min(size)].to_vec()));
    }
    let regions = metadata_regions(&image);
    let mut rng = Rng(0x1509_9660);
    for _ in 0..1200 {
        let mut damaged = image.clone();
        for _ in 0..=rng.below(4) {
            let (start, end) = regions[rng.below(regions.len())];
            let at = start + rng.below(end - start);
            damaged[at] = match rng.below(4) {
                0 => 0,
                1 => 0xFF,
                2 => damaged[at] ^ (1 << rng.below(8)),
                _ => rng.next() as u8,
            };
        }
        bound(exercise(damaged));
    }
    println!("{changed} of 1210 damaged images changed the outcome");
    assert!(changed > 800, "flips should hit metadata: only {changed} changed the outcome");
}

/// Rewrites both halves of the LBA field of the directory record at `record`.
fn set_lba(image: &mut [u8], record: usize, lba: u32) {
    image[record + 2..record + 6].copy_from_slice(&lba.to_le_bytes());
    image[record + 6..record + 10].copy_from_slice(&lba.to_be_bytes());
}

#[test]
fn directory_loop_is_reported_and_the_rest_is_walked() {
    let mut image = std::fs::read(fixture("iso.iso")).expect("fixture");
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(image.clone()));
    let clean = entries(&*open_with(volume, &limits(), OPTIONS[0]).expect("opens"));
    let dir1: u32 = find(&clean, "/dir1").attributes["iso9660.extent_lba"].parse().expect("lba");
    let dir3 = find(&clean, "/dir1/dir2/dir3").address.expect("address") as usize;
    set_lba(&mut image, dir3, dir1);
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(image));
    let fs = open_with(volume.clone(), &limits(), OPTIONS[0]).expect("opens");
    let mut seen = Vec::new();
    let walked = fs.walk(&limits(), &mut |e| {
        seen.push(e);
        Ok(())
    });
    let err = walked.expect_err("loop reported");
    assert_eq!(err.kind, MediaErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("loop"), "{err}");
    assert_eq!(seen.len(), clean.len() - 1, "all but dir3's child listed");
    let readme = find(&seen, "/README.TXT");
    let mut text = String::new();
    open_content(volume, readme).read_to_string(&mut text).expect("content");
    assert!(text.starts_with("exhibit ISO 9660 fixture"));
}

#[test]
fn small_allocation_limit_is_enforced() {
    let image = std::fs::read(fixture("iso.iso")).expect("fixture");
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(image));
    let tiny = Limits { max_alloc: 1024, ..Limits::default() };
    let fs = open_with(volume, &tiny, OPTIONS[0]).expect("opens");
    let err = fs.walk(&tiny, &mut |_| Ok(())).expect_err("a 2048-byte directory is over 1024");
    assert_eq!(err.kind, MediaErrorKind::LimitExceeded, "{err}");
    exhibit_media_iso::fuzz_one(b"");
    exhibit_media_iso::fuzz_one(&[0u8; 40000]);
}

/// A longer run through `fuzz_one` (cases from `ISO_FUZZ_CASES`, default
/// 20,000): `cargo test --release -p exhibit-media-iso -- --ignored`.
#[test]
#[ignore = "slow; run on demand"]
fn long_fuzz_through_fuzz_one() {
    let image = std::fs::read(fixture("iso.iso")).expect("fixture");
    let regions = metadata_regions(&image);
    let cases: usize = std::env::var("ISO_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let mut rng = Rng(0xF022);
    for _ in 0..cases {
        let mut damaged = image.clone();
        for _ in 0..=rng.below(8) {
            let (start, end) = regions[rng.below(regions.len())];
            let at = start + rng.below(end - start);
            let word = (rng.next() as u32).to_le_bytes();
            let n = 1 + rng.below(4);
            for (i, b) in word.iter().take(n).enumerate() {
                if let Some(slot) = damaged.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        if rng.below(8) == 0 {
            damaged.truncate(rng.below(image.len()));
        }
        exhibit_media_iso::fuzz_one(&damaged);
    }
}

/// `fixtures/damaged/iso-big-root.iso`: the volume descriptor says the root
/// is 0xFFFFFFFF bytes. Only the root's own entries are listed (its `.`
/// record gives the true size), nothing read from past it.
#[test]
fn an_oversized_root_lists_only_its_own_entries() {
    let path = crate::common::workspace_root().join("fixtures/damaged/iso-big-root.iso");
    let fs = exhibit_media_iso::open(crate::common::medium(&path), &exhibit_media_core::Limits::default()).unwrap();
    let mut names: Vec<String> = crate::common::entries(fs.as_ref()).iter().map(crate::common::path_of).collect();
    names.sort_unstable();
    let mut expected: Vec<String> = (0..9).map(|i| format!("/GOOD{i}.TXT")).collect();
    expected.extend(["/BAD.TXT", "/SUB", "/SUB/INNER.TXT"].map(str::to_owned));
    expected.sort_unstable();
    assert_eq!(names, expected);
}
