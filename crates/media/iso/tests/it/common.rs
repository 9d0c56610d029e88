//! Helpers shared by the test modules.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{FileAt, FileSystem, FsEntry, Limits, ReadAt, open_content};
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// `fixtures/iso/<name>` in the workspace.
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("fixtures/iso").join(name)
}

/// An image file as a medium.
pub fn medium(path: &std::path::Path) -> Arc<dyn ReadAt> {
    Arc::new(FileAt::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Every entry of a walk that must succeed.
pub fn entries(fs: &dyn FileSystem) -> Vec<FsEntry> {
    let mut out = Vec::new();
    fs.walk(&Limits::default(), &mut |e| {
        out.push(e);
        Ok(())
    })
    .expect("walk succeeds");
    out
}

/// The `/a/b` form of an entry's path, lossily as text.
pub fn path_of(e: &FsEntry) -> String {
    String::from_utf8_lossy(&e.path.to_bytes()).into_owned()
}

/// The entry at `path`, which must exist.
pub fn find<'a>(all: &'a [FsEntry], path: &str) -> &'a FsEntry {
    all.iter().find(|e| path_of(e) == path).unwrap_or_else(|| panic!("no entry {path}"))
}

/// An entry's content.
pub fn content(fs: &dyn FileSystem, e: &FsEntry) -> Vec<u8> {
    let mut out = Vec::new();
    open_content(fs.volume(), e).read_to_end(&mut out).expect("content reads");
    out
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
