//! The local folder store: each key is a file under the root, at the key's
//! relative path. Writes go to this process's own folder under
//! `<root>/.tmp/` (see [`crate::temp_area`]), are fsynced and made
//! read-only, then hard-linked into place. A hard link never replaces an
//! existing file, so concurrent writers to one key have exactly one winner,
//! and a crash leaves at worst a stray temporary file, never a partial object;
//! the next writer removes it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use exhibit_core::digest::{Digests, HashSelection, Sha256Digest};
use exhibit_core::hashing::{MultiHasher, ParallelHasher};
use exhibit_core::layout::ObjectKey;
use tracing::Span;

use crate::access::Access;
use crate::batch::{PendingFile, Published, StageTarget, Staged, StagedState};
use crate::temp_area::{TempArea, remove_stale};
use crate::{Body, ObjectMeta, ObjectStore, PutReceipt, StoreError, VerifyingReader};

/// Bytes read from a body at a time; large enough for the parallel hasher.
const CHUNK: usize = 1 << 20;
/// The first piece [`copy_hashing`] reads: a body that ends within it is
/// hashed on the calling thread.
const FIRST_CHUNK: usize = 64 << 10;
/// The root-level directory for temporary files. No key may start with it.
const TMP_DIR: &str = ".tmp";

/// An [`ObjectStore`] in a local folder.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    /// Modes (and group) of what the store creates: see [`Access`].
    access: Access,
    /// This process's own folder under `.tmp/`, claimed on the first write
    /// (so a read-only copy of a store can still be verified).
    temp: Arc<Mutex<Option<Arc<TempArea>>>>,
}

impl LocalStore {
    /// Opens (creating if needed) the store rooted at `path`; only its
    /// owner can read what it creates.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, Access::owner_only())
    }

    /// Opens (creating if needed) the store rooted at `path`, giving what it
    /// creates `access`. An existing data folder keeps its own mode.
    pub fn open_with(path: impl AsRef<Path>, access: Access) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        access.create_root(path).map_err(|e| StoreError::io_at("creating the store folder", &shown, e))?;
        let root = fs::canonicalize(path).map_err(|e| StoreError::io_at("resolving the store folder", &shown, e))?;
        let tmp = root.join(TMP_DIR);
        // Temporary files are the writer's alone, whatever the access.
        Access::owner_only()
            .create_root(&tmp)
            .map_err(|e| StoreError::io_at("creating", tmp.display().to_string(), e))?;
        refuse_symlinked_folder(&tmp)?;
        // A run that writes nothing (a rerun with all its work done) still
        // clears what killed writers left, so they never outlive the next run.
        remove_stale_logged(&tmp);
        Ok(Self { root, access, temp: Arc::default() })
    }

    /// This process's temporary folder. The first call also removes what
    /// killed writers left in `.tmp/`, never touching a live writer's files.
    fn temp_area(&self) -> Result<Arc<TempArea>, StoreError> {
        let mut slot = self.temp.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(area) = slot.as_ref() {
            return Ok(area.clone());
        }
        let parent = self.root.join(TMP_DIR);
        // A store opened as existing (or copied by a tool that drops empty
        // folders) may have none yet; the first write makes it.
        Access::owner_only()
            .create_root(&parent)
            .map_err(|e| StoreError::io_at("creating", parent.display().to_string(), e))?;
        refuse_symlinked_folder(&parent)?;
        remove_stale_logged(&parent);
        let area = TempArea::claim(&parent)
            .map_err(|e| StoreError::io_at("claiming a temporary folder in", parent.display().to_string(), e))?;
        Ok(slot.insert(Arc::new(area)).clone())
    }

    /// Opens the store rooted at `path` if that folder exists; creates
    /// nothing. Writes still work, but a store that never had one has no
    /// temporary folder until `open` makes it.
    pub fn open_existing(path: impl AsRef<Path>, access: Access) -> Result<Self, StoreError> {
        let shown = path.as_ref().display().to_string();
        match fs::canonicalize(path.as_ref()) {
            Ok(root) if root.is_dir() => Ok(Self { root, access, temp: Arc::default() }),
            Ok(_) => Err(StoreError::NoStore { path: shown }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NoStore { path: shown }),
            Err(e) => Err(StoreError::io_at("opening the store folder", shown, e)),
        }
    }

    /// The folder the store lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where `key` is stored. Only validated keys become paths; the temporary
    /// folder is refused so no key can reach into it.
    pub fn path_of(&self, key: &ObjectKey) -> Result<PathBuf, StoreError> {
        let mut segments = key.as_str().split('/');
        if segments.next() == Some(TMP_DIR) {
            return Err(StoreError::invalid(
                "key",
                key.as_str(),
                format!("keys may not start with {TMP_DIR}/, which the local store keeps for temporary files"),
            ));
        }
        let mut path = self.root.clone();
        path.extend(key.as_str().split('/'));
        Ok(path)
    }

    /// Streams `body` into a new temporary file and hashes it, on the
    /// calling (blocking) thread.
    /// With `sync`, the file is durable on return; a staged write leaves
    /// that to the batch's one flush.
    fn write_temp(
        &self,
        body: Body,
        hashes: HashSelection,
        sync: bool,
    ) -> Result<(TempFile, u64, Digests), StoreError> {
        let area = self.temp_area()?;
        let mut tmp = TempFile::create(area.path())?;
        let (size, digests) = copy_hashing(body, &mut tmp.file, hashes)
            .map_err(|(action, e)| StoreError::io_at(action, tmp.path.display().to_string(), e))?;
        if sync {
            tmp.file.sync_all().map_err(|e| StoreError::io_at("syncing", tmp.path.display().to_string(), e))?;
        }
        self.access
            .finish_file(&tmp.file)
            .map_err(|e| StoreError::io_at("making read-only", tmp.path.display().to_string(), e))?;
        Ok((tmp, size, digests))
    }

    /// Links the finished temporary file to `key`. `Ok(false)` when `key`
    /// already exists (the existing object is left as it is). With `sync`,
    /// the new folder entries are durable on return.
    fn link(&self, tmp: &Path, key: &ObjectKey, sync: bool) -> Result<bool, StoreError> {
        let path = self.path_of(key)?;
        let mut attempt = fs::hard_link(tmp, &path);
        if attempt.as_ref().is_err_and(|e| matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)) {
            // The first object below a new folder: make the folders (or say
            // why they cannot be made), then retry.
            self.create_parents(key, &path, sync)?;
            attempt = fs::hard_link(tmp, &path);
        }
        let created = match attempt {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => {
                return Err(StoreError::io_at("linking the new object into place at", path.display().to_string(), e));
            }
        };
        if created && sync {
            sync_dir(path.parent().unwrap_or(&self.root))?;
        }
        Ok(created)
    }

    /// Creates the folders above `path` (with `sync`, fsyncing each new
    /// folder's parent so the new entries survive a crash).
    fn create_parents(&self, key: &ObjectKey, path: &Path, sync: bool) -> Result<(), StoreError> {
        let mut dir = self.root.clone();
        let segments: Vec<&str> = key.as_str().split('/').collect();
        for seg in &segments[..segments.len().saturating_sub(1)] {
            let above = dir.clone();
            dir.push(seg);
            match self.access.create_folder(&dir) {
                Ok(()) if sync => sync_dir(&above)?,
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(StoreError::invalid(
                        "key",
                        key.as_str(),
                        format!("an object already exists at {}, so nothing can be stored below it", dir.display()),
                    ));
                }
                Err(e) => {
                    return Err(StoreError::io_at("creating folder", dir.display().to_string(), e));
                }
            }
        }
        debug_assert_eq!(Some(dir.as_path()), path.parent());
        Ok(())
    }

    /// The blocking half of both puts: write, hash, sync, then link under the
    /// target key (for a content put, `prefix` + the SHA-256).
    fn put_blocking(&self, target: StageTarget, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        let (tmp, size, digests) = self.write_temp(body, hashes, true)?;
        let key = match &target {
            StageTarget::New(key) => key.clone(),
            StageTarget::Content(prefix) => content_key(prefix, &digests.sha256)?,
        };
        let created = self.link(&tmp.path, &key, true)?;
        drop(tmp);
        if !created {
            match target {
                StageTarget::New(_) => return Err(StoreError::already_exists(&key)),
                StageTarget::Content(_) => self.check_existing(&key, size)?,
            }
        }
        tracing::debug!(key = %key, size, created, "stored");
        Ok(PutReceipt { key, size, digests, created })
    }

    /// Writes and hashes `body` for a later publish, without flushing.
    fn stage_blocking(&self, target: StageTarget, body: Body, hashes: HashSelection) -> Result<Staged, StoreError> {
        let (tmp, size, digests) = self.write_temp(body, hashes, false)?;
        let (key, new_key) = match &target {
            StageTarget::New(key) => (key.clone(), true),
            StageTarget::Content(prefix) => (content_key(prefix, &digests.sha256)?, false),
        };
        tracing::debug!(key = %key, size, "staged");
        let receipt = PutReceipt { key: key.clone(), size, digests, created: true };
        Ok(Staged { key, receipt: Some(receipt), new_key, state: StagedState::Pending(tmp.into_pending()) })
    }

    /// One flush makes every staged file durable; then each is linked under
    /// its key; a second flush makes the links durable. A crash leaves each
    /// key absent or complete.
    fn publish_blocking(&self, staged: Vec<Staged>) -> Result<Vec<Published>, StoreError> {
        self.sync_filesystem()?;
        let mut outcomes = Vec::with_capacity(staged.len());
        for item in staged {
            outcomes.push(self.publish_one(item)?);
        }
        if outcomes.contains(&Published::Stored) {
            self.sync_filesystem()?;
        }
        tracing::debug!(puts = outcomes.len(), "published");
        Ok(outcomes)
    }

    fn publish_one(&self, item: Staged) -> Result<Published, StoreError> {
        let file = match item.state {
            StagedState::Pending(file) => file,
            StagedState::Conflict => return Ok(Published::Conflict),
            StagedState::Done => {
                return Ok(if item.receipt.is_some_and(|r| r.created) {
                    Published::Stored
                } else {
                    Published::Existed
                });
            }
        };
        if self.link(file.path(), &item.key, false)? {
            return Ok(Published::Stored);
        }
        if item.new_key {
            return Ok(Published::Conflict);
        }
        self.check_existing(&item.key, item.receipt.map_or(0, |r| r.size))?;
        Ok(Published::Existed)
    }

    /// Flushes everything written to the store's file system.
    fn sync_filesystem(&self) -> Result<(), StoreError> {
        File::open(&self.root)
            .and_then(|root| rustix::fs::syncfs(&root).map_err(io::Error::from))
            .map_err(|e| StoreError::io_at("flushing the file system of", self.root.display().to_string(), e))
    }

    /// A content put found its key taken: the content is the same unless the
    /// stored object was damaged, which a size check catches cheaply.
    fn check_existing(&self, key: &ObjectKey, size: u64) -> Result<(), StoreError> {
        let meta = fs::metadata(self.path_of(key)?).map_err(|e| StoreError::io(key, e))?;
        if !meta.is_file() {
            return Err(StoreError::invalid("key", key.as_str(), "a folder of other objects already has this name"));
        }
        if meta.len() != size {
            return Err(StoreError::corrupt(
                key,
                format!("it is {} bytes but content with its SHA-256 is {size} bytes", meta.len()),
            ));
        }
        Ok(())
    }

    fn head_blocking(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let meta = fs::metadata(self.path_of(key)?).map_err(|e| StoreError::io(key, e))?;
        if meta.is_dir() {
            return Err(StoreError::not_found(key));
        }
        if !meta.is_file() {
            return Err(StoreError::corrupt(key, "it is not a regular file (a FIFO, socket or device)"));
        }
        Ok(ObjectMeta { key: key.clone(), size: meta.len() })
    }

    fn get_blocking(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError> {
        let (file, size) = self.open_regular(key)?;
        let expect = expect.or_else(|| key.content_sha256());
        Ok(VerifyingReader::new(key.clone(), Box::new(file)).expect_sha256(expect).expect_size(Some(size)))
    }

    /// Hard-links the regular file under `key` into this process's
    /// temporary folder. `None` when no link can be made there (a read-only
    /// store): the caller then copies instead.
    fn link_local_blocking(&self, key: &ObjectKey) -> Result<Option<PathBuf>, StoreError> {
        use std::os::unix::fs::MetadataExt;
        static COPIES: AtomicU64 = AtomicU64::new(0);
        let (file, _) = self.open_regular(key)?;
        let inode = file.metadata().map_err(|e| StoreError::io(key, e))?.ino();
        let area = match self.temp_area() {
            Ok(area) => area,
            Err(e) => {
                tracing::debug!(error = %e, "no temporary folder for a hard link; copying instead");
                return Ok(None);
            }
        };
        let link = area.path().join(format!("copy-{}", COPIES.fetch_add(1, Ordering::Relaxed)));
        if let Err(e) = fs::hard_link(self.path_of(key)?, &link) {
            tracing::debug!(error = %e, "cannot hard-link the object; copying instead");
            return Ok(None);
        }
        // A symlink or another file swapped in after the open would be
        // linked instead (link(2) does not follow symlinks): refuse it.
        match fs::symlink_metadata(&link) {
            Ok(meta) if meta.is_file() && meta.ino() == inode => Ok(Some(link)),
            _ => {
                let _ = fs::remove_file(&link);
                Err(StoreError::corrupt(key, "it was replaced while a local copy was being made"))
            }
        }
    }

    /// Opens the regular file stored under `key`, with its size.
    fn open_regular(&self, key: &ObjectKey) -> Result<(File, u64), StoreError> {
        // Without blocking or following a symlink: opening a planted FIFO
        // would wait for a writer for ever.
        let opened = fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32 | rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(self.path_of(key)?);
        let file = match opened {
            Ok(file) => file,
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                return Err(StoreError::corrupt(key, "it is a symlink, not a stored file"));
            }
            Err(e) => return Err(StoreError::io(key, e)),
        };
        let meta = file.metadata().map_err(|e| StoreError::io(key, e))?;
        if meta.is_dir() {
            return Err(StoreError::not_found(key));
        }
        if !meta.is_file() {
            return Err(StoreError::corrupt(key, "it is not a regular file (a FIFO, socket or device)"));
        }
        Ok((file, meta.len()))
    }

    fn get_range_blocking(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let len = crate::ranged::check_len(key, len)?;
        let (file, size) = self.open_regular(key)?;
        let len = len.min(size.saturating_sub(offset));
        let mut out = vec![0u8; len as usize];
        exhibit_core::read_exact_at(
            &exhibit_core::FileAt::new(file).map_err(|e| StoreError::io(key, e))?,
            offset,
            &mut out,
        )
        .map_err(|e| StoreError::io(key, e))?;
        Ok(out)
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let (dir_part, name_part) = match prefix.rsplit_once('/') {
            Some((dir, name)) => (Some(dir), name),
            None => (None, prefix),
        };
        let mut dir = self.root.clone();
        let mut key_prefix = String::new();
        if let Some(dir_part) = dir_part {
            // No valid key lies under a prefix whose folders are not valid.
            let Some(dir_key) = ObjectKey::new(dir_part) else {
                return Ok(Vec::new());
            };
            // Nothing is listed inside the temporary folder.
            let Ok(path) = self.path_of(&dir_key) else {
                return Ok(Vec::new());
            };
            dir = path;
            key_prefix = format!("{dir_part}/");
        }
        let mut out = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => {
                return Ok(out);
            }
            Err(e) => return Err(StoreError::io_at("listing", dir.display().to_string(), e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io_at("listing", dir.display().to_string(), e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with(name_part) || (dir_part.is_none() && name == TMP_DIR) {
                continue;
            }
            walk(&entry.path(), &format!("{key_prefix}{name}"), &mut out)?;
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

/// [`remove_stale`], logged: a failure to clear only leaves files behind.
fn remove_stale_logged(parent: &Path) {
    match remove_stale(parent) {
        Ok(0) => {}
        Ok(n) => tracing::info!(folders = n, "removed temporary files of killed writers"),
        Err(e) => tracing::warn!(error = %e, "could not clear stale temporary files"),
    }
}

/// Refuses a store folder that is a symbolic link (or not a folder):
/// staged writes would land wherever it points, outside the data folder.
fn refuse_symlinked_folder(path: &Path) -> Result<(), StoreError> {
    let shown = path.display().to_string();
    let meta = fs::symlink_metadata(path).map_err(|e| StoreError::io_at("checking", shown.clone(), e))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        return Err(StoreError::invalid(
            "store folder",
            &shown,
            "it is a symbolic link or not a folder; the store writes only inside its own folder, so remove it",
        ));
    }
    Ok(())
}

/// Adds `path` (named `key`) to `out` if it is a file, or everything below it
/// if it is a folder. Walks with an explicit stack, so depth costs no stack.
fn walk(path: &Path, key: &str, out: &mut Vec<ObjectMeta>) -> Result<(), StoreError> {
    let mut stack = vec![(path.to_path_buf(), key.to_owned())];
    while let Some((path, key)) = stack.pop() {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Removed while listing: it is simply not there any more.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io_at("listing", path.display().to_string(), e)),
        };
        if meta.is_file() {
            match ObjectKey::new(key.as_str()) {
                Some(key) => out.push(ObjectMeta { key, size: meta.len() }),
                None => {
                    tracing::warn!(path = %path.display(), "skipping a file whose name is not a valid key")
                }
            }
        } else if !meta.is_dir() && !meta.file_type().is_symlink() {
            // A FIFO, socket or device: listed (size 0) so that callers
            // report it; reading it fails as corrupt without blocking.
            if let Some(key) = ObjectKey::new(key.as_str()) {
                out.push(ObjectMeta { key, size: 0 });
            }
        } else if meta.is_dir() {
            let entries =
                fs::read_dir(&path).map_err(|e| StoreError::io_at("listing", path.display().to_string(), e))?;
            for entry in entries {
                let entry = entry.map_err(|e| StoreError::io_at("listing", path.display().to_string(), e))?;
                match entry.file_name().to_str() {
                    Some(name) => stack.push((entry.path(), format!("{key}/{name}"))),
                    None => {
                        tracing::warn!(path = %entry.path().display(), "skipping a file whose name is not UTF-8")
                    }
                }
            }
        }
    }
    Ok(())
}

/// The key of content with SHA-256 `sha256` under `prefix`.
fn content_key(prefix: &str, sha256: &Sha256Digest) -> Result<ObjectKey, StoreError> {
    ObjectKey::new(format!("{prefix}{sha256}"))
        .ok_or_else(|| StoreError::invalid("content prefix", prefix, PREFIX_RULE))
}

const PREFIX_RULE: &str = "a key prefix ending in '/', e.g. cases/<case>/objects/sha256/";

/// Checks a content prefix before any bytes are read.
fn check_prefix(prefix: &str) -> Result<(), StoreError> {
    if prefix.ends_with('/') && ObjectKey::new(format!("{prefix}x")).is_some() {
        Ok(())
    } else {
        Err(StoreError::invalid("content prefix", prefix, PREFIX_RULE))
    }
}

/// Copies `body` to `out` in [`CHUNK`]-sized pieces while hashing. On error
/// says which side failed.
///
/// The first piece is [`FIRST_CHUNK`]: a body that ends within it (most
/// files of a folder) is hashed on this thread, since handing it to the
/// hashing threads costs more than hashing it; a longer body goes to
/// [`ParallelHasher`] in [`CHUNK`]s. A piece shorter than asked for is the
/// end (`read_to_end` reads until the limit or the end), so no read and no
/// buffer is spent on finding it.
fn copy_hashing(
    mut body: Body,
    out: &mut File,
    hashes: HashSelection,
) -> Result<(u64, Digests), (&'static str, io::Error)> {
    let mut first = Vec::with_capacity(FIRST_CHUNK);
    let n = (&mut body)
        .take(FIRST_CHUNK as u64)
        .read_to_end(&mut first)
        .map_err(|e| ("reading the body to store into", e))?;
    if n < FIRST_CHUNK {
        let mut hasher = MultiHasher::new(hashes);
        hasher.update(&first);
        out.write_all(&first).map_err(|e| ("writing", e))?;
        return Ok((n as u64, hasher.finish()));
    }
    let mut hasher = ParallelHasher::new(hashes);
    let (mut chunk, mut asked, mut size) = (Bytes::from(first), FIRST_CHUNK, 0u64);
    loop {
        if !chunk.is_empty() {
            // Hashing runs on its own threads while this one writes.
            hasher.update(chunk.clone());
            out.write_all(&chunk).map_err(|e| ("writing", e))?;
            size += chunk.len() as u64;
        }
        if chunk.len() < asked {
            break;
        }
        // Read into spare capacity: only the bytes read are initialised.
        let mut buf = Vec::with_capacity(CHUNK);
        (&mut body).take(CHUNK as u64).read_to_end(&mut buf).map_err(|e| ("reading the body to store into", e))?;
        (chunk, asked) = (Bytes::from(buf), CHUNK);
    }
    let digests = hasher.finish().map_err(|e| ("hashing", io::Error::other(e)))?;
    Ok((size, digests))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io_at("syncing folder", dir.display().to_string(), e))
}

/// A temporary file in `.tmp/`, removed when dropped.
struct TempFile {
    path: PathBuf,
    file: File,
    owner: PendingFile,
}

impl TempFile {
    fn create(dir: &Path) -> Result<Self, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(format!("put-{}-{nanos}-{n}", std::process::id()));
            // create_new: never reuse a name another process may be writing.
            match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
                Ok(file) => return Ok(Self { owner: PendingFile::new(path.clone()), path, file }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(StoreError::io_at("creating temporary file", path.display().to_string(), e));
                }
            }
        }
    }
}

impl TempFile {
    /// Closes the file, keeping it (and its removal on drop) for a publish.
    fn into_pending(self) -> PendingFile {
        self.owner
    }
}

/// Runs `f` on a blocking thread inside the current span.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let span = Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f)).await.map_err(StoreError::join)?
}

#[async_trait]
impl ObjectStore for LocalStore {
    fn uri(&self) -> String {
        format!("file://{}", self.root.display())
    }

    #[tracing::instrument(skip(self, body), fields(key = %key))]
    async fn put_new(&self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.path_of(key)?;
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.put_blocking(StageTarget::New(key), body, hashes)).await
    }

    #[tracing::instrument(skip(self, body))]
    async fn put_content(&self, prefix: &str, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        check_prefix(prefix)?;
        let (store, prefix) = (self.clone(), prefix.to_owned());
        blocking(move || store.put_blocking(StageTarget::Content(prefix), body, hashes)).await
    }

    #[tracing::instrument(level = "debug", skip(self, body))]
    async fn stage(&self, target: StageTarget, body: Body, hashes: HashSelection) -> Result<Staged, StoreError> {
        match &target {
            StageTarget::New(key) => drop(self.path_of(key)?),
            StageTarget::Content(prefix) => check_prefix(prefix)?,
        }
        let store = self.clone();
        blocking(move || store.stage_blocking(target, body, hashes)).await
    }

    #[tracing::instrument(skip(self, staged), fields(puts = staged.len()))]
    async fn publish(&self, staged: Vec<Staged>) -> Result<Vec<Published>, StoreError> {
        let store = self.clone();
        blocking(move || store.publish_blocking(staged)).await
    }

    #[tracing::instrument(skip(self), fields(key = %key))]
    async fn get(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.get_blocking(&key, expect)).await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(key = %key))]
    async fn get_range(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.get_range_blocking(&key, offset, len)).await
    }

    async fn open_positional(&self, key: &ObjectKey) -> Result<Option<Arc<dyn exhibit_core::ReadAt>>, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || {
            let (file, _) = store.open_regular(&key)?;
            let at = exhibit_core::FileAt::new(file).map_err(|e| StoreError::io(&key, e))?;
            Ok(Some(Arc::new(at) as Arc<dyn exhibit_core::ReadAt>))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(key = %key))]
    async fn link_local(&self, key: &ObjectKey) -> Result<Option<PathBuf>, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.link_local_blocking(&key)).await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(key = %key))]
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let (store, key) = (self.clone(), key.clone());
        blocking(move || store.head_blocking(&key)).await
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let (store, prefix) = (self.clone(), prefix.to_owned());
        blocking(move || store.list_blocking(&prefix)).await
    }
}
