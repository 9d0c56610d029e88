//! Shared test helpers: paths, images, listings, content digests.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, SliceAt, open_content};
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// `fixtures/fat/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures/fat").join(name)
}

/// A fixture image in memory (`fat32` is stored gzipped; `fat16-mbr` is
/// sliced at its partition, 1 MiB in).
pub fn image(name: &str) -> Arc<dyn ReadAt> {
    let bytes = if name == "fat32" {
        let gz = std::fs::read(fixture("fat32.img.gz")).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut out).unwrap();
        out
    } else {
        std::fs::read(fixture(&format!("{name}.img"))).unwrap()
    };
    let whole: Arc<dyn ReadAt> = Arc::new(BytesAt::new(bytes));
    if name == "fat16-mbr" { Arc::new(SliceAt::new(whole, 2048 * 512, 6144 * 512)) } else { whole }
}

/// Every entry and the walk's result.
pub fn list(fs: &dyn FileSystem, limits: &Limits) -> (Vec<FsEntry>, Result<(), MediaError>) {
    let mut out = Vec::new();
    let result = fs.walk(limits, &mut |e| {
        out.push(e);
        Ok(())
    });
    (out, result)
}

/// `/a/b` as a lossy string.
pub fn path(e: &FsEntry) -> String {
    e.path.recorded().display
}

/// Content bytes: the whole file, or the recoverable part of a deleted one.
pub fn content(fs: &dyn FileSystem, e: &FsEntry) -> std::io::Result<Vec<u8>> {
    let want = if e.allocated { e.size } else { e.recovery.map_or(0, |r| r.recoverable_bytes) };
    let mut out = Vec::new();
    open_content(fs.volume(), e).take(want).read_to_end(&mut out)?;
    if (out.len() as u64) < want {
        return Err(std::io::Error::other("short"));
    }
    Ok(out)
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
