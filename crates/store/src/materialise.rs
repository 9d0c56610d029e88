//! Local copies of stored content for child processes that need a path
//! (Tesseract, the FFmpeg helper, archive tools). The copy's SHA-256 is
//! always checked before it is handed out: a hard link into the store's own
//! temporary area where the store keeps local files
//! ([`ObjectStore::link_local`]), else a download through the verifying
//! reader into a private folder. Either is removed when the copy is dropped.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::hashing::MultiHasher;
use exhibit_core::layout::ObjectKey;
use tracing::instrument;

use crate::{ObjectStore, StoreError, VerifyingReader};

/// Read size when checking a hard-linked copy.
const CHUNK: usize = 1 << 20;

/// A checked local copy of stored content; removed when dropped.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    linked: bool,
    /// The private folder of a downloaded copy.
    _dir: Option<tempfile::TempDir>,
}

impl AsRef<Path> for LocalCopy {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl LocalCopy {
    /// Where the copy is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the copy is a hard link to the stored object, not a
    /// download.
    pub fn is_link(&self) -> bool {
        self.linked
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if !self.linked {
            return;
        }
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(path = %self.path.display(), error = %e, "could not remove a local copy");
            }
            _ => {}
        }
    }
}

/// A local copy of the object at `key`, checked against `sha256`: a hard
/// link where the store can make one, else a download into a new private
/// folder under `scratch`. A copy that fails the check is removed and the
/// error is [`crate::StoreErrorKind::Corrupt`].
#[instrument(skip(store, scratch), fields(key = %key))]
pub async fn materialise(
    store: &dyn ObjectStore,
    key: &ObjectKey,
    sha256: Sha256Digest,
    scratch: &Path,
) -> Result<LocalCopy, StoreError> {
    if let Some(path) = store.link_local(key).await? {
        let copy = LocalCopy { path, linked: true, _dir: None };
        let (path, at) = (copy.path.clone(), key.clone());
        let actual = tokio::task::spawn_blocking(move || hash_file(&path))
            .await
            .map_err(StoreError::join)?
            .map_err(|e| StoreError::io(&at, e))?;
        if actual != sha256 {
            return Err(StoreError::corrupt(
                key,
                format!("it has SHA-256 {actual} but {sha256} was expected; the stored bytes were altered or damaged"),
            ));
        }
        return Ok(copy);
    }
    let reader = store.get(key, Some(sha256)).await?;
    download(reader, key, scratch).await
}

/// Writes what `reader` returns to a file in a new private folder under
/// `scratch`; the reader's own check (a [`VerifyingReader`] fails at its
/// end on a mismatch) decides whether the copy is kept.
pub async fn download(reader: VerifyingReader, key: &ObjectKey, scratch: &Path) -> Result<LocalCopy, StoreError> {
    let (scratch, key) = (scratch.to_owned(), key.clone());
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::Builder::new()
            .prefix("copy-")
            .tempdir_in(&scratch)
            .map_err(|e| StoreError::io_at("making a private folder in", scratch.display().to_string(), e))?;
        let path = dir.path().join("content");
        let mut reader = reader;
        let written = File::create_new(&path).and_then(|mut file| {
            io::copy(&mut reader, &mut file)?;
            file.sync_all()
        });
        // On failure the folder, and the partial copy in it, go with `dir`.
        written.map_err(|e| match e.kind() {
            io::ErrorKind::InvalidData => StoreError::corrupt(&key, e.to_string()),
            _ => StoreError::io(&key, e),
        })?;
        Ok(LocalCopy { path, linked: false, _dir: Some(dir) })
    })
    .await
    .map_err(StoreError::join)?
}

fn hash_file(path: &Path) -> io::Result<Sha256Digest> {
    let mut file = File::open(path)?;
    let mut hasher = MultiHasher::new(HashSelection::SHA256_ONLY);
    let mut buf = vec![0u8; CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hasher.finish().sha256),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
