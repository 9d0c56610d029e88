//! Integration tests: fixtures against 7z listings and source hashes, the
//! shared corpus, and robustness against damaged images.

mod corpus;
mod fixtures;
mod robust;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, open_content};
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// A volume and the file system opened on it.
pub type Opened = (Arc<dyn ReadAt>, Box<dyn FileSystem>);

/// Opens bytes as UDF.
pub fn open_bytes(bytes: Vec<u8>, limits: &Limits) -> Result<Opened, MediaError> {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(bytes));
    let fs = exhibit_media_udf::open(volume.clone(), limits)?;
    Ok((volume, fs))
}

/// Every entry of a walk, or the walk's error.
pub fn entries(fs: &dyn FileSystem, limits: &Limits) -> Result<Vec<FsEntry>, MediaError> {
    let mut out = Vec::new();
    fs.walk(limits, &mut |e| {
        out.push(e);
        Ok(())
    })?;
    Ok(out)
}

/// SHA-256 of an entry's content, as hex.
pub fn sha256(volume: &Arc<dyn ReadAt>, entry: &FsEntry) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut reader = open_content(volume.clone(), entry);
    let mut buf = [0u8; 8192];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// An entry's path as a `/`-joined UTF-8 string without the leading slash.
pub fn path_of(entry: &FsEntry) -> String {
    entry.path.recorded().display.trim_start_matches('/').to_owned()
}
