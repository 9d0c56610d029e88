//! Group commit: many puts made durable together.
//!
//! A put that must be durable on return costs a disk flush (on the local
//! store, an fsync of the file and one of its folder). Extracting ten
//! thousand small files from a disk image would spend most of its time
//! waiting for those flushes. A [`WriteBatch`] stages puts instead: their
//! bytes are written and hashed but not yet visible under their keys. On
//! [`WriteBatch::commit`] the backend makes every staged byte durable with
//! one flush, then puts each object under its key, then flushes again. A
//! crash at any point leaves each key either absent or complete, never
//! torn, the same guarantee as a single put. Backends whose puts are
//! durable anyway (object stores with their own replication) put at once
//! when staging, and commit has nothing left to do.

use std::path::PathBuf;
use std::sync::Arc;

use exhibit_core::digest::HashSelection;
use exhibit_core::layout::ObjectKey;

use crate::{Body, ObjectStore, PutReceipt, StoreError};

/// Where a staged put goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageTarget {
    /// A new key (create-only, as [`ObjectStore::put_new`]).
    New(ObjectKey),
    /// Content-addressed under a prefix (as [`ObjectStore::put_content`]).
    Content(String),
}

/// A put written but perhaps not yet published under its key: an opaque
/// handle for [`ObjectStore::publish`].
#[derive(Debug)]
pub struct Staged {
    /// Where it goes.
    pub(crate) key: ObjectKey,
    /// What the put read and hashed (`created` is provisional until
    /// published); `None` when a create-only put found its key taken.
    pub(crate) receipt: Option<PutReceipt>,
    /// Whether the target was a new key (create-only).
    pub(crate) new_key: bool,
    /// Where it stands.
    pub(crate) state: StagedState,
}

impl Staged {
    /// Where it goes.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }

    /// What the put read and hashed; `None` when a create-only put found
    /// its key taken already while staging.
    pub fn receipt(&self) -> Option<&PutReceipt> {
        self.receipt.as_ref()
    }
}

/// How far a staged put has got.
#[derive(Debug)]
pub(crate) enum StagedState {
    /// Already under its key (backends that put at once).
    Done,
    /// A create-only put found its key taken while staging.
    Conflict,
    /// Written to a temporary file on this machine, not yet under its key.
    Pending(PendingFile),
}

/// What publishing did with one staged put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The object is now under its key.
    Stored,
    /// Identical content was already under its key (content puts).
    Existed,
    /// A create-only put found its key taken; the staged bytes were dropped.
    Conflict,
}

/// A backend's temporary file, removed when dropped unless it was published.
#[derive(Debug)]
pub(crate) struct PendingFile {
    path: PathBuf,
}

impl PendingFile {
    /// Takes ownership of the temporary file at `path`.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Where the file is.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = %self.path.display(), error = %e, "could not remove temporary file"),
        }
    }
}

/// Puts staged now and made durable together by [`WriteBatch::commit`].
pub struct WriteBatch {
    store: Arc<dyn ObjectStore>,
    staged: Vec<Staged>,
    bytes: u64,
}

impl WriteBatch {
    /// An empty batch on `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store, staged: Vec::new(), bytes: 0 }
    }

    /// Stages `body` content-addressed under `prefix`. The receipt's key and
    /// digests are final; the object is visible once the batch commits.
    pub async fn put_content(
        &mut self,
        prefix: &str,
        body: Body,
        hashes: HashSelection,
    ) -> Result<PutReceipt, StoreError> {
        let receipt = self.stage(StageTarget::Content(prefix.to_owned()), body, hashes).await?;
        receipt.ok_or_else(|| StoreError::invalid("content prefix", prefix, "a content put cannot conflict"))
    }

    /// Stages `body` under the new key `key`. Whether the key was free is
    /// known when the batch commits.
    pub async fn put_new(&mut self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<(), StoreError> {
        self.stage(StageTarget::New(key.clone()), body, hashes).await.map(|_| ())
    }

    async fn stage(
        &mut self,
        target: StageTarget,
        body: Body,
        hashes: HashSelection,
    ) -> Result<Option<PutReceipt>, StoreError> {
        let staged = self.store.stage(target, body, hashes).await?;
        let receipt = staged.receipt.clone();
        self.bytes += receipt.as_ref().map_or(0, |r| r.size);
        self.staged.push(staged);
        Ok(receipt)
    }

    /// How many puts are staged.
    pub fn len(&self) -> usize {
        self.staged.len()
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
    }

    /// Bytes staged so far.
    pub fn staged_bytes(&self) -> u64 {
        self.bytes
    }

    /// Makes every staged put durable and visible. Returns what happened to
    /// each, in staging order.
    pub async fn commit(self) -> Result<Vec<Published>, StoreError> {
        self.store.publish(self.staged).await
    }

    /// Adds puts staged elsewhere (by [`ObjectStore::stage`]) to this batch,
    /// so that several writers share one commit.
    pub fn adopt(&mut self, staged: Staged) {
        self.bytes += staged.receipt.as_ref().map_or(0, |r| r.size);
        self.staged.push(staged);
    }
}

/// The default staging: put at once, reporting a taken key as a conflict.
pub(crate) async fn stage_immediately<S: ObjectStore + ?Sized>(
    store: &S,
    target: StageTarget,
    body: Body,
    hashes: HashSelection,
) -> Result<Staged, StoreError> {
    let result = match &target {
        StageTarget::New(key) => store.put_new(key, body, hashes).await,
        StageTarget::Content(prefix) => store.put_content(prefix, body, hashes).await,
    };
    let new_key = matches!(target, StageTarget::New(_));
    match (result, target) {
        (Ok(receipt), _) => {
            Ok(Staged { key: receipt.key.clone(), receipt: Some(receipt), new_key, state: StagedState::Done })
        }
        (Err(e), StageTarget::New(key)) if e.kind() == crate::StoreErrorKind::AlreadyExists => {
            Ok(Staged { key, receipt: None, new_key, state: StagedState::Conflict })
        }
        (Err(e), _) => Err(e),
    }
}

/// A content put already done (backends that put at once), as staged.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub(crate) fn staged_done(receipt: PutReceipt) -> Staged {
    Staged { key: receipt.key.clone(), receipt: Some(receipt), new_key: false, state: StagedState::Done }
}

/// The default publishing, for puts staged by [`stage_immediately`].
pub(crate) fn publish_done(staged: Vec<Staged>) -> Vec<Published> {
    staged
        .into_iter()
        .map(|s| match s.state {
            StagedState::Conflict => Published::Conflict,
            _ if s.receipt.is_some_and(|r| r.created) => Published::Stored,
            _ => Published::Existed,
        })
        .collect()
}
