//! Helpers shared by the test modules.

use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, Limits, ReadAt};
use exhibit_media_volumes::{Partition, VolumeSystem, partitions};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// Bytes of `fixtures/volumes/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = workspace().join("fixtures/volumes").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A disk over `bytes`.
pub fn disk(bytes: Vec<u8>) -> Arc<dyn ReadAt> {
    Arc::new(BytesAt::new(bytes))
}

/// Small limits, so allocation caps are exercised.
pub fn small_limits() -> Limits {
    Limits { max_alloc: 16 << 20, ..Limits::default() }
}

/// The partitions of a disk that must have a table.
pub fn table(bytes: Vec<u8>) -> Vec<Partition> {
    match partitions(&*disk(bytes), &small_limits()).expect("partition table") {
        VolumeSystem::Mbr(p) | VolumeSystem::Gpt(p) => p,
        VolumeSystem::None => panic!("no partition table found"),
    }
}

/// A deterministic pseudo-random sequence (splitmix64).
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
