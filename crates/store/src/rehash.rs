//! Re-hashing a stored object in full, as `verify` and `audit` do. Where
//! the backend reads in place (the local store's `pread`) the object is
//! read on one thread and hashed on another (`ParallelHasher`), so a
//! two-core machine hashes while it reads; other stores go through their
//! verifying reader.

use std::io::{self, Read};

use bytes::Bytes;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::hashing::ParallelHasher;
use exhibit_core::layout::ObjectKey;
use exhibit_core::read_at::ReadAt;
use tracing::{instrument, warn};

use crate::{ObjectStore, StoreError, StoreErrorKind};

/// Read size: large reads keep the hash, not the system calls, the cost.
const READ_CHUNK: usize = 1 << 20;

/// What re-hashing an object found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixity {
    /// The content still has the SHA-256 its key names.
    Intact,
    /// The content differs, or something other than a regular file is
    /// stored there.
    Altered,
    /// Nothing is stored there.
    Missing,
}

/// Re-hashes the object at `key`, which must name its SHA-256.
#[instrument(skip(store), fields(key = %key))]
pub async fn rehash_object(store: &dyn ObjectStore, key: &ObjectKey) -> Result<Fixity, StoreError> {
    let Some(expected) = key.content_sha256() else {
        return Err(StoreError::invalid("object key", key.as_str(), "cases/<case>/objects/sha256/<hex>"));
    };
    let at = key.clone();
    // The backend's own positional reader refuses what is not a regular
    // file (a symlink, a FIFO) as corrupt, without opening it for a read.
    match store.open_positional(key).await {
        Ok(Some(file)) => {
            return tokio::task::spawn_blocking(move || {
                rehash_at(file.as_ref(), &expected).map_err(|e| StoreError::io(&at, e))
            })
            .await
            .map_err(StoreError::join)?;
        }
        Ok(None) => {}
        Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(Fixity::Missing),
        Err(e) if e.kind() == StoreErrorKind::Corrupt => return Ok(Fixity::Altered),
        Err(e) => return Err(e),
    }
    let reader = match store.get(key, None).await {
        Ok(r) => r,
        Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(Fixity::Missing),
        Err(e) if e.kind() == StoreErrorKind::Corrupt => return Ok(Fixity::Altered),
        Err(e) => return Err(e),
    };
    // The verifying reader fails with InvalidData at the end on a mismatch.
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(Fixity::Intact),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(Fixity::Altered),
                Err(e) => return Err(StoreError::io(&at, e)),
            }
        }
    })
    .await
    .map_err(StoreError::join)?
}

/// Reads `file` on this thread while another hashes it.
fn rehash_at(file: &dyn ReadAt, expected: &Sha256Digest) -> io::Result<Fixity> {
    let mut hasher = ParallelHasher::new(HashSelection::SHA256_ONLY);
    let mut offset = 0u64;
    loop {
        let mut chunk = vec![0u8; READ_CHUNK];
        let n = file.read_at(offset, &mut chunk)?;
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        offset += n as u64;
        hasher.update(Bytes::from(chunk));
    }
    let digests = hasher.finish().map_err(io::Error::other)?;
    if digests.sha256 == *expected && offset == file.size() {
        Ok(Fixity::Intact)
    } else {
        warn!("object content does not match its hash");
        Ok(Fixity::Altered)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::LocalStore;

    async fn stored(data: &'static [u8]) -> (tempfile::TempDir, LocalStore, ObjectKey, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path().join("data")).unwrap();
        let receipt =
            store.put_content("cases/C1/objects/sha256/", Box::new(data), HashSelection::SHA256_ONLY).await.unwrap();
        let path = store.path_of(&receipt.key).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        (dir, store, receipt.key, path)
    }

    #[tokio::test]
    async fn intact_altered_missing_and_planted_files_are_told_apart() {
        let big: &'static [u8] = Box::leak(vec![7u8; 3 * READ_CHUNK + 5].into_boxed_slice());
        let (_dir, store, key, path) = stored(big).await;
        assert_eq!(rehash_object(&store, &key).await.unwrap(), Fixity::Intact);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[2 * READ_CHUNK] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(rehash_object(&store, &key).await.unwrap(), Fixity::Altered);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(rehash_object(&store, &key).await.unwrap(), Fixity::Missing);
        // A FIFO is never opened for a blocking read, and a symlink is not
        // followed, even to a file with the right content.
        rustix::fs::mkfifoat(rustix::fs::CWD, &path, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
        assert_eq!(rehash_object(&store, &key).await.unwrap(), Fixity::Altered);
        std::fs::remove_file(&path).unwrap();
        let elsewhere = path.with_extension("copy");
        std::fs::write(&elsewhere, big).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert_eq!(rehash_object(&store, &key).await.unwrap(), Fixity::Altered);
    }
}
