//! Hostile input: truncated images and byte flips aimed at the tables. Every
//! case must end in `Ok` or a typed `Err`, never a panic or a hang.

use exhibit_media_core::ReadAt;
use exhibit_media_volumes::{VolumeSystem, partitions, slice};

use crate::common::{Rng, disk, fixture, small_limits};

/// Byte ranges holding metadata: boot sector, headers, entry arrays, EBRs,
/// and the backup GPT at the end.
fn metadata_regions(len: usize) -> Vec<(usize, usize)> {
    let mut regions =
        vec![(0, 512), (512, 1024), (1024, 1024 + 16 * 1024), (4096, 4096 + 512), (8192, 8192 + 16 * 1024)];
    for ebr in [5120, 5377, 5761] {
        regions.push((ebr * 512 + 440, ebr * 512 + 512));
    }
    regions.push((len.saturating_sub(4096 * 5), len));
    regions.into_iter().filter(|&(a, b)| a < b && b <= len).collect()
}

/// Runs one case; returns the number of partitions seen (work done).
fn run(bytes: Vec<u8>) -> usize {
    let disk = disk(bytes);
    let Ok(VolumeSystem::Mbr(parts) | VolumeSystem::Gpt(parts)) = partitions(&*disk, &small_limits()) else {
        return 0;
    };
    for p in &parts {
        let mut buf = [0u8; 512];
        let _ = slice(disk.clone(), p).read_at(0, &mut buf);
    }
    parts.len()
}

#[test]
fn truncated_and_flipped_tables_never_panic() {
    let mut rng = Rng(0x5EED_D15C);
    let mut cases = 0usize;
    for image in ["mbr.img", "gpt.img", "gpt4k.img", "floppy.img"] {
        let original = fixture(image);
        let len = original.len();
        for cut in [0, 511, 513, 1324, 4196, len / 4, len / 2, len * 3 / 4, len - 4096, len - 1] {
            run(original[..cut.min(len)].to_vec());
            cases += 1;
        }
        let regions = metadata_regions(original.len());
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..=rng.below(4) {
                let (a, b) = regions[rng.below(regions.len() as u64) as usize];
                let at = a + rng.below((b - a) as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
            run(bytes);
            cases += 1;
        }
    }
    assert_eq!(cases, 4 * 310);
}

#[test]
fn fuzz_entry_accepts_garbage() {
    let mut rng = Rng(42);
    for len in [0usize, 1, 511, 512, 513, 4096, 70_000] {
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len >= 512 {
            bytes[510] = 0x55;
            bytes[511] = 0xAA;
            bytes[450] = 0xEE;
        }
        exhibit_media_volumes::fuzz_one(&bytes);
    }
}
