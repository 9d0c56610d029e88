//! Hostile input: truncated images and byte flips aimed at the superblock,
//! group descriptors, inode table and directory blocks. Every case ends in
//! `Ok` or a typed `Err`, never a panic or a hang.

use std::io::Read;

use exhibit_media_core::open_content;

use crate::common::{Rng, fixture, small_limits, volume};

/// Runs one case: open, walk, read all content. Returns the entries seen.
fn run(bytes: Vec<u8>) -> u64 {
    let vol = volume(bytes);
    let limits = small_limits();
    let Ok(fs) = exhibit_media_ext::open(vol.clone(), &limits) else { return 0 };
    let mut seen = 0;
    let _ = fs.walk(&limits, &mut |e| {
        seen += 1;
        if e.has_content() {
            let _ = std::io::copy(&mut open_content(vol.clone(), &e).take(1 << 20), &mut std::io::sink());
        }
        Ok(())
    });
    seen
}

/// Superblock, descriptors, the inode table and the blocks after it (where
/// mke2fs puts directories and indirect blocks).
fn metadata_regions(image: &[u8]) -> Vec<(usize, usize)> {
    let table = u32::from_le_bytes(image[2048 + 8..2048 + 12].try_into().unwrap()) as usize * 1024;
    vec![(1024, 2048), (2048, 2112), (table, table + 128 * 256), (table + 128 * 256, table + 128 * 256 + 64 * 1024)]
}

#[test]
fn truncated_and_flipped_metadata_never_panics() {
    let mut rng = Rng(0xE27_F11B);
    let (mut cases, mut walked) = (0, 0);
    for image in ["ext2.img", "ext4.img"] {
        let original = fixture(image);
        let len = original.len();
        for cut in [0, 1000, 1100, 2048, 3000, len / 8, len / 4, len / 2, len * 3 / 4, len - 1] {
            run(original[..cut].to_vec());
            cases += 1;
        }
        let regions = metadata_regions(&original);
        for _ in 0..520 {
            let mut bytes = original.clone();
            for _ in 0..=rng.below(3) {
                let (a, b) = regions[rng.below(regions.len() as u64) as usize];
                let at = a + rng.below((b - a) as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
            walked += u64::from(run(bytes) > 0);
            cases += 1;
        }
    }
    assert_eq!(cases, 2 * 530);
    assert!(walked > 2 * 520 / 4, "most flips should still reach the walk ({walked} did)");
}

#[test]
fn fuzz_entry_accepts_garbage() {
    let mut rng = Rng(7);
    for len in [0usize, 1100, 4096, 70_000] {
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len > 1100 {
            bytes[1080] = 0x53;
            bytes[1081] = 0xEF;
        }
        exhibit_media_ext::fuzz_one(&bytes);
    }
}
