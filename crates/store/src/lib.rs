//! Object storage for exhibit: the [`ObjectStore`] trait, its backends, and
//! the conformance suite every backend must pass.
//!
//! Writes are create-only: nothing stored is ever overwritten. Reads re-hash
//! as they go and fail loudly when the bytes are not what was stored.
//!
//! Backends are chosen once, from a URI, by [`open_store`]:
//! `file:///path` (or a bare path) for the local folder store, and (with
//! the `s3` feature) `s3://BUCKET[/PREFIX]` for S3-compatible storage.

mod access;
mod batch;
mod content_body;
mod error;
mod local;
mod materialise;
mod object_at;
mod ranged;
mod rehash;
#[cfg(feature = "s3")]
pub mod s3;
pub mod temp_area;
mod verify_read;
pub mod view;

pub mod conformance;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use exhibit_core::digest::{Digests, HashSelection, Sha256Digest};
use exhibit_core::layout::ObjectKey;

pub use access::Access;
pub use batch::{Published, StageTarget, Staged, WriteBatch};
pub use content_body::{ContentBody, OnRead, RereadableFile};
pub use error::{StoreError, StoreErrorKind};
pub use local::LocalStore;
pub use materialise::{LocalCopy, download, materialise};
pub use object_at::{CacheConfig, CacheStats, ObjectAt};
pub use ranged::{MAX_RANGE, RangedAt, open_object_at, open_read_at};
pub use rehash::{Fixity, rehash_object};
pub use verify_read::VerifyingReader;

/// A body to store: any blocking reader. Backends read it in fixed-size
/// chunks on a blocking thread, so memory stays constant.
pub type Body = Box<dyn std::io::Read + Send>;

/// What a head or list returns about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: ObjectKey,
    /// Its size in bytes.
    pub size: u64,
}

/// What a put stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutReceipt {
    /// Where it is.
    pub key: ObjectKey,
    /// How many bytes were read from the body.
    pub size: u64,
    /// Digests of the bytes read.
    pub digests: Digests,
    /// False when identical content was already there (content puts only).
    pub created: bool,
}

/// Object storage with create-only writes and verifying reads.
#[async_trait]
pub trait ObjectStore: Send + Sync + Debug {
    /// The URI this store was opened from.
    fn uri(&self) -> String;

    /// Checks that this store enforces create-only writes, so that a ledger
    /// kept there cannot be overwritten silently; fails with
    /// [`StoreError::NotCreateOnly`] if it does not. Writers call it before
    /// their first write, so nothing is stored where no ledger can be kept.
    async fn check_create_only(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Stores `body` under `key`, which must not exist yet. Of several
    /// concurrent writers to one key exactly one wins; the others get
    /// [`StoreErrorKind::AlreadyExists`]. The object is durable on return.
    async fn put_new(&self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError>;

    /// Stores `body` content-addressed, under `prefix` followed by the hex
    /// SHA-256 of its bytes (`prefix` ends in `/`). If that object already
    /// exists it is left as it is and `created` is false.
    async fn put_content(&self, prefix: &str, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError>;

    /// [`ObjectStore::put_content`] of a body that may say it can be read
    /// twice ([`ContentBody::File`]). A backend that names an object before
    /// writing it (S3) then hashes the file first and uploads it once under
    /// its content key, instead of staging it and copying it; the second
    /// read is checked against the first. The default reads it once, as a
    /// stream, which is right for a backend that can rename (local).
    async fn put_content_from(
        &self,
        prefix: &str,
        body: ContentBody,
        hashes: HashSelection,
    ) -> Result<PutReceipt, StoreError> {
        let body = body.into_stream().map_err(|e| StoreError::io_at("rewinding the body for", prefix, e))?;
        self.put_content(prefix, body, hashes).await
    }

    /// Opens an object for reading. The reader re-hashes what it returns and
    /// fails with [`std::io::ErrorKind::InvalidData`] at the end if the
    /// SHA-256 is not `expect` (or, when `expect` is `None`, the SHA-256 the
    /// key names, for content-addressed keys).
    async fn get(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError>;

    /// Bytes `[offset, offset + len)` of an object, fewer where it ends
    /// first (none at or past its end). Not re-hashed: see
    /// [`ObjectStore::get`]. A `len` over [`MAX_RANGE`] is
    /// [`StoreErrorKind::TooLarge`]. The default streams the object from its
    /// start; backends with ranged reads override it.
    async fn get_range(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        ranged::get_range_by_streaming(self, key, offset, len).await
    }

    /// The backend's own positional reader over an object (`pread` on the
    /// local store), or `None` when it has none; [`open_read_at`] then
    /// serves positional reads by [`ObjectStore::get_range`].
    async fn open_positional(
        &self,
        _key: &ObjectKey,
    ) -> Result<Option<std::sync::Arc<dyn exhibit_core::ReadAt>>, StoreError> {
        Ok(None)
    }

    /// A handle on this same store that a reader may keep beyond the
    /// borrow (ranged reads run on blocking threads), or `None` (the
    /// default) when the store cannot give one. Callers that hold the store
    /// by reference (`verify`, `audit`) read a view's image through it where
    /// the store has no positional reader of its own (S3).
    fn to_shared(&self) -> Option<Arc<dyn ObjectStore>> {
        None
    }

    /// Size of an object, or [`StoreErrorKind::NotFound`].
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError>;

    /// Every object whose key starts with `prefix`, sorted by key.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError>;

    /// A new hard link to the object's file in this store's own temporary
    /// area, for [`materialise`] to hand a child process a path without a
    /// copy; the caller removes it. `None` when the store keeps no local
    /// files (then [`materialise`] downloads through a verifying reader).
    /// Readers never need this: they read through [`open_read_at`].
    async fn link_local(&self, _key: &ObjectKey) -> Result<Option<std::path::PathBuf>, StoreError> {
        Ok(None)
    }

    /// Group commit, first half: reads and hashes `body` for a later
    /// [`ObjectStore::publish`], which makes many such puts durable with one
    /// flush. Callers use it through [`WriteBatch`]. The [`Staged`] handle
    /// is opaque: a backend may hold the bytes where it likes (the local
    /// store: an unflushed temporary file). The default puts at once, which
    /// suits a backend whose every put is durable anyway (S3).
    async fn stage(&self, target: StageTarget, body: Body, hashes: HashSelection) -> Result<Staged, StoreError> {
        batch::stage_immediately(self, target, body, hashes).await
    }

    /// [`ObjectStore::stage`] of content under `prefix` from a body that
    /// may say it can be read twice (see [`ObjectStore::put_content_from`]).
    /// The default stages it read once, as a stream.
    async fn stage_content(
        &self,
        prefix: &str,
        body: ContentBody,
        hashes: HashSelection,
    ) -> Result<Staged, StoreError> {
        let body = body.into_stream().map_err(|e| StoreError::io_at("rewinding the body for", prefix, e))?;
        self.stage(StageTarget::Content(prefix.to_owned()), body, hashes).await
    }

    /// Group commit, second half: makes the staged puts durable, then
    /// visible under their keys. A key is then absent or complete, never
    /// torn. Returns what happened to each, in order.
    async fn publish(&self, staged: Vec<Staged>) -> Result<Vec<Published>, StoreError> {
        Ok(batch::publish_done(staged))
    }
}

/// Reads a whole small object (a manifest, a ledger entry) into memory,
/// refusing anything over `limit` bytes.
pub async fn read_small(store: &dyn ObjectStore, key: &ObjectKey, limit: u64) -> Result<Vec<u8>, StoreError> {
    let meta = store.head(key).await?;
    if meta.size > limit {
        return Err(StoreError::too_large(key, meta.size, limit));
    }
    let reader = store.get(key, None).await?;
    let key = key.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut buf = Vec::with_capacity(meta.size as usize);
        reader.take(limit + 1).read_to_end(&mut buf).map_err(|e| StoreError::io(&key, e))?;
        Ok(buf)
    })
    .await
    .map_err(StoreError::join)?
}

/// Opens the store a URI names: `file:///abs/path`, `file://rel/path`, or a
/// plain path.
pub fn open_store(uri: &str) -> Result<Arc<dyn ObjectStore>, StoreError> {
    open_store_with(uri, Access::owner_only())
}

/// [`open_store`], with the access a local store gives what it creates.
pub fn open_store_with(uri: &str, access: Access) -> Result<Arc<dyn ObjectStore>, StoreError> {
    match uri.split_once("://") {
        Some(("file", path)) => Ok(Arc::new(LocalStore::open_with(path, access)?)),
        #[cfg(feature = "s3")]
        Some(("s3", _)) => Ok(Arc::new(s3::S3Store::open(uri)?)),
        Some((scheme, _)) => Err(StoreError::unsupported_uri(uri, scheme)),
        None => Ok(Arc::new(LocalStore::open_with(uri, access)?)),
    }
}

/// Opens the store a URI names only if it exists, creating nothing: for
/// commands that only read (a mistyped `--store` must not leave a folder).
/// A missing store is [`StoreErrorKind::NotFound`].
pub fn open_existing_store(uri: &str, access: Access) -> Result<Arc<dyn ObjectStore>, StoreError> {
    match uri.split_once("://") {
        Some(("file", path)) => Ok(Arc::new(LocalStore::open_existing(path, access)?)),
        #[cfg(feature = "s3")]
        Some(("s3", _)) => Ok(Arc::new(s3::S3Store::open(uri)?)),
        Some((scheme, _)) => Err(StoreError::unsupported_uri(uri, scheme)),
        None => Ok(Arc::new(LocalStore::open_existing(uri, access)?)),
    }
}
