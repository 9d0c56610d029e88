//! Ranged and positional reads of stored objects, so a disk image can be
//! read in place: by `pread` where the backend has local files, by ranged
//! gets anywhere else. Neither re-hashes: callers that need the bytes
//! checked read them through a view or a [`crate::VerifyingReader`].

use std::io::{self, Read};
use std::sync::Arc;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::layout::ObjectKey;
use exhibit_core::read_at::ReadAt;

use crate::{CacheConfig, ObjectAt, ObjectStore, StoreError};

/// The most bytes one ranged get returns, so memory stays bounded whatever
/// a caller (or a hostile view) asks for.
pub const MAX_RANGE: u64 = 16 << 20;

/// Reads `[offset, offset + len)` of `key` by streaming the object and
/// skipping to `offset`: what [`ObjectStore::get_range`] does on a backend
/// without ranged reads of its own.
pub(crate) async fn get_range_by_streaming(
    store: &(impl ObjectStore + ?Sized),
    key: &ObjectKey,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>, StoreError> {
    let len = check_len(key, len)?;
    let reader = store.get(key, None).await?;
    let key = key.clone();
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        io::copy(&mut (&mut reader).take(offset), &mut io::sink()).map_err(|e| StoreError::io(&key, e))?;
        let mut out = Vec::with_capacity(len as usize);
        reader.take(len).read_to_end(&mut out).map_err(|e| StoreError::io(&key, e))?;
        Ok(out)
    })
    .await
    .map_err(StoreError::join)?
}

/// Refuses a range longer than [`MAX_RANGE`].
pub(crate) fn check_len(key: &ObjectKey, len: u64) -> Result<u64, StoreError> {
    if len > MAX_RANGE {
        return Err(StoreError::too_large(key, len, MAX_RANGE));
    }
    Ok(len)
}

/// Positional reads served by ranged gets, for backends without local
/// files. Each read blocks on the runtime it was opened on, so it must be
/// called from a blocking thread (`spawn_blocking`, `block_in_place`).
pub struct RangedAt {
    store: Arc<dyn ObjectStore>,
    key: ObjectKey,
    size: u64,
    runtime: tokio::runtime::Handle,
}

impl ReadAt for RangedAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let len = (buf.len() as u64).min(self.size - offset).min(MAX_RANGE);
        let bytes = self.runtime.block_on(self.store.get_range(&self.key, offset, len)).map_err(io::Error::other)?;
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

/// A positional reader over a stored object on any backend: an
/// [`ObjectAt`] (block cache, read-ahead, SHA-256 checked where the whole
/// object is read) over the backend's own positional reader
/// ([`ObjectStore::open_positional`], `pread` on the local store) or over
/// ranged gets. Content-addressed keys are checked against the SHA-256
/// they name. Call from within a runtime.
pub async fn open_read_at(store: &Arc<dyn ObjectStore>, key: &ObjectKey) -> Result<Arc<dyn ReadAt>, StoreError> {
    Ok(open_object_at(store, key, key.content_sha256(), CacheConfig::DEFAULT).await?)
}

/// [`open_read_at`] with the expected SHA-256 and the cache given.
pub async fn open_object_at(
    store: &Arc<dyn ObjectStore>,
    key: &ObjectKey,
    expect: Option<Sha256Digest>,
    config: CacheConfig,
) -> Result<Arc<ObjectAt>, StoreError> {
    let (inner, size): (Arc<dyn ReadAt>, u64) = match store.open_positional(key).await? {
        Some(native) => {
            let size = native.size();
            (native, size)
        }
        None => {
            let size = store.head(key).await?.size;
            let runtime = tokio::runtime::Handle::current();
            (Arc::new(RangedAt { store: store.clone(), key: key.clone(), size, runtime }), size)
        }
    };
    Ok(Arc::new(ObjectAt::new(inner, key.clone(), size, expect, config)))
}
