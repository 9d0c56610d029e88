//! Helpers shared by the test modules.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{FileAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, SliceAt, open_content};
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// The fixture disk's NTFS partition, sliced at the offset the script recorded.
pub fn fixture_volume() -> Arc<dyn ReadAt> {
    let dir = workspace().join("fixtures/ntfs");
    let layout = std::fs::read_to_string(dir.join("disk.layout")).unwrap();
    let field = |key: &str| -> u64 {
        layout.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=')?.parse().ok()).unwrap()
    };
    let disk: Arc<dyn ReadAt> = Arc::new(FileAt::open(&dir.join("disk.img")).unwrap());
    Arc::new(SliceAt::new(disk, field("partition_start_sector") * 512, field("partition_sectors") * 512))
}

/// Every entry of a walk, and how the walk ended.
pub fn collect(fs: &dyn FileSystem, limits: &Limits) -> (Vec<FsEntry>, Result<(), MediaError>) {
    let mut out = Vec::new();
    let end = fs.walk(limits, &mut |e| {
        out.push(e);
        Ok(())
    });
    (out, end)
}

/// `a/b/c` or `a/b/c:stream`, raw bytes, as sleuthkit prints paths.
pub fn display(e: &FsEntry) -> Vec<u8> {
    let mut out = e.path.0.join(&b'/');
    if let Some(s) = &e.stream {
        out.push(b':');
        out.extend_from_slice(s);
    }
    out
}

/// The entry shown as `path`.
pub fn find<'a>(entries: &'a [FsEntry], path: &str) -> &'a FsEntry {
    entries.iter().find(|e| display(e) == path.as_bytes()).unwrap_or_else(|| panic!("no entry {path}"))
}

/// An entry's whole content.
pub fn content(fs: &dyn FileSystem, e: &FsEntry) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_content(fs.volume(), e).read_to_end(&mut out)?;
    Ok(out)
}

/// SHA-256 in hex.
pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
