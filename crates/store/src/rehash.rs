//! Re-hashing a stored object in full, as `verify` and `audit` do. On the
//! local store the file is read on one thread and hashed on another
//! (`ParallelHasher`), so a two-core machine hashes while it reads; other
//! stores go through their verifying reader.

use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use bytes::Bytes;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::hashing::ParallelHasher;
use exhibit_core::layout::ObjectKey;
use exhibit_core::regular_file::{OpenRegularError, open_regular};
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
    if let Some(path) = store.local_path(key) {
        return tokio::task::spawn_blocking(move || rehash_file(&path, &expected).map_err(|e| StoreError::io(&at, e)))
            .await
            .map_err(StoreError::join)?;
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

/// A symlink, FIFO or anything but a regular file is never opened for a
/// blocking read: it counts as altered, as the store's reader treats it.
fn rehash_file(path: &Path, expected: &Sha256Digest) -> io::Result<Fixity> {
    let inode = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Fixity::Missing),
        Err(e) => return Err(e),
        Ok(meta) if !meta.file_type().is_file() => return Ok(Fixity::Altered),
        Ok(meta) => meta.ino(),
    };
    let mut file = match open_regular(path) {
        Ok(f) => f,
        Err(OpenRegularError::NotRegular { .. }) => return Ok(Fixity::Altered),
        Err(OpenRegularError::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(Fixity::Missing),
        Err(OpenRegularError::Io(e)) => return Err(e),
    };
    // A symlink swapped in between the two looks leads elsewhere.
    if file.metadata()?.ino() != inode {
        return Ok(Fixity::Altered);
    }
    let mut hasher = ParallelHasher::new(HashSelection::SHA256_ONLY);
    loop {
        let mut chunk = Vec::with_capacity(READ_CHUNK);
        if (&mut file).take(READ_CHUNK as u64).read_to_end(&mut chunk)? == 0 {
            break;
        }
        hasher.update(Bytes::from(chunk));
    }
    let digests = hasher.finish().map_err(io::Error::other)?;
    if digests.sha256 == *expected {
        Ok(Fixity::Intact)
    } else {
        warn!(path = %path.display(), "object content does not match its hash");
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
        let path = store.local_path(&receipt.key).unwrap();
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
