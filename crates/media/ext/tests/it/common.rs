//! Helpers shared by the test modules.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, open_content};
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// Bytes of `fixtures/volumes/<name>`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = workspace().join("fixtures/volumes").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Small limits, so allocation caps are exercised.
pub fn small_limits() -> Limits {
    Limits { max_alloc: 16 << 20, ..Limits::default() }
}

/// A volume over `bytes`.
pub fn volume(bytes: Vec<u8>) -> Arc<dyn ReadAt> {
    Arc::new(BytesAt::new(bytes))
}

/// Every entry of `fs`, and the walk's result.
pub fn walk(fs: &dyn FileSystem) -> (Vec<FsEntry>, Result<(), MediaError>) {
    let mut out = Vec::new();
    let result = fs.walk(&small_limits(), &mut |e| {
        out.push(e);
        Ok(())
    });
    (out, result)
}

/// Reads `entry`'s content (at most `cap` bytes).
pub fn content(volume: Arc<dyn ReadAt>, entry: &FsEntry, cap: u64) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_content(volume, entry).take(cap).read_to_end(&mut out)?;
    Ok(out)
}

/// Lower-case hex SHA-256.
pub fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// `a/b/c` as raw bytes.
pub fn slash_path(entry: &FsEntry) -> Vec<u8> {
    entry.path.0.join(&b'/')
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
