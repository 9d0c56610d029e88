//! Damaged images: truncations and byte flips in metadata must end in Ok or
//! a typed error, never a panic, a hang or an unbounded allocation; and a
//! FID marked deleted becomes an unallocated, recoverable entry.

use exhibit_media_core::{Limits, MediaErrorKind, open_content};
use std::io::Read;

use crate::{entries, open_bytes, path_of, sha256, workspace};

const IMAGES: [&str; 7] = [
    "udf102-genisoimage.iso",
    "udf260-pycdlib.iso",
    "udf201-empty.img",
    "udf201-512.img",
    "udf201-cdrw.img",
    "udf250-bdr.img",
    "udf260-bdr.img",
];

fn small_limits() -> Limits {
    Limits { max_alloc: 16 << 20, max_entries: 10_000, max_dir_entries: 10_000, ..Limits::default() }
}

fn image(name: &str) -> Vec<u8> {
    std::fs::read(workspace().join("fixtures/udf").join(name)).expect("fixture image")
}

/// Opens, walks and reads every entry; returns how many entries were read.
fn exercise(bytes: Vec<u8>) -> usize {
    let limits = small_limits();
    let Ok((volume, fs)) = open_bytes(bytes, &limits) else { return 0 };
    let mut n = 0;
    let _ = fs.walk(&limits, &mut |e| {
        n += 1;
        let _ = std::io::copy(&mut open_content(volume.clone(), &e).take(8 << 20), &mut std::io::sink());
        Ok(())
    });
    n
}

/// Byte offsets of metadata: VRS, anchor, volume descriptors, every entry's ICB.
fn hot_offsets(bytes: &[u8]) -> Vec<u64> {
    let ss = if bytes.get(256 * 2048) == Some(&2) { 2048u64 } else { 512 };
    let mut hot: Vec<u64> = (16..20).map(|s| s * 2048).collect();
    hot.extend((256..290).map(|s| s * ss));
    hot.push(bytes.len() as u64 - ss);
    let limits = Limits::default();
    if let Ok((_, fs)) = open_bytes(bytes.to_vec(), &limits) {
        for e in entries(&*fs, &limits).unwrap_or_default() {
            hot.extend(e.address);
        }
    }
    hot
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

#[test]
fn truncations_and_metadata_flips_never_panic() {
    let (mut cases, mut rng) = (0usize, Rng(0x5eed_0df0_9e37_79b9));
    for name in IMAGES {
        let pristine = image(name);
        for k in 0..10 {
            exercise(pristine[..pristine.len() * k / 10].to_vec());
            cases += 1;
        }
        let hot = hot_offsets(&pristine);
        for _ in 0..200 {
            let mut bytes = pristine.clone();
            for _ in 0..1 + rng.next() % 3 {
                let base = hot[(rng.next() % hot.len() as u64) as usize];
                let at = (base + rng.next() % 512) as usize;
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= (rng.next() % 255 + 1) as u8;
                }
            }
            exercise(bytes);
            cases += 1;
        }
    }
    assert!(cases >= 1_000 + 70, "{cases} cases");
}

fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |mut crc, &b| {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
        crc
    })
}

/// Sets a FID's deleted bit and re-seals its tag, as a writer deleting it would.
fn mark_deleted(bytes: &mut [u8], name: &[u8]) {
    let p = (0..bytes.len() - 40)
        .find(|&p| {
            let iu = usize::from(u16::from_le_bytes([bytes[p + 36], bytes[p + 37]]));
            bytes[p..p + 2] == [1, 1]
                && usize::from(bytes[p + 19]) == name.len()
                && bytes.get(p + 38 + iu..p + 38 + iu + name.len()) == Some(name)
        })
        .expect("FID");
    bytes[p + 18] |= 4;
    let crc_len = usize::from(u16::from_le_bytes([bytes[p + 10], bytes[p + 11]]));
    let crc = crc16(&bytes[p + 16..p + 16 + crc_len]);
    bytes[p + 8..p + 10].copy_from_slice(&crc.to_le_bytes());
    bytes[p + 4] = (0..16).filter(|&i| i != 4).fold(0u8, |s, i| s.wrapping_add(bytes[p + i]));
}

#[test]
fn deleted_fids_are_unallocated_and_recoverable() {
    let mut bytes = image("udf260-pycdlib.iso");
    mark_deleted(&mut bytes, b"\x08hello.txt");
    let limits = small_limits();
    let (volume, fs) = open_bytes(bytes, &limits).expect("open");
    let all = entries(&*fs, &limits).expect("walk");
    let hello = all.iter().find(|e| path_of(e) == "hello.txt").expect("deleted entry listed");
    assert!(!hello.allocated);
    let recovery = hello.recovery.expect("recovery");
    assert!(recovery.complete && recovery.recoverable_bytes == 11);
    let sums = std::fs::read_to_string(workspace().join("fixtures/udf/udf260-pycdlib.iso.sha256")).unwrap();
    let want = sums.lines().find_map(|l| l.strip_suffix("  hello.txt")).expect("hello.txt hash");
    assert_eq!(sha256(&volume, hello).unwrap(), want);
    assert_eq!(all.iter().filter(|e| !e.allocated).count(), 1);
}

#[test]
fn a_bad_descriptor_crc_is_corrupt() {
    let mut bytes = image("udf201-empty.img");
    // Damage both anchors (sector 256 and the last sector): their CRCs no
    // longer match, and there is no anchor at N-256 on so small an image.
    bytes[256 * 2048 + 40] ^= 0xFF;
    let last = bytes.len() - 2048;
    bytes[last + 40] ^= 0xFF;
    let err = open_bytes(bytes, &small_limits()).err().expect("must fail");
    assert_eq!(err.kind, MediaErrorKind::Corrupt, "{err}");
}
