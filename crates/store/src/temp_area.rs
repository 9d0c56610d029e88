//! Temporary folders that a killed writer cannot leak for ever, and that a
//! cleaner never takes from a live writer.
//!
//! Each writer process claims its own folder `<parent>/<token>/` and holds
//! an exclusive `flock` on `<parent>/<token>.lock` for as long as it lives.
//! The kernel drops the lock when the process dies, however it dies, so
//! [`remove_stale`] removes exactly the folders whose lock it can take: their
//! writer is gone. The lock file is made under another name, locked, and
//! only then renamed to `.lock`, so a cleaner never sees a lock file that is
//! not yet held.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{FlockOperation, flock};

const LOCK_SUFFIX: &str = ".lock";
const CLAIMING_SUFFIX: &str = ".claiming";

/// A temporary folder owned by this process; removed when dropped.
#[derive(Debug)]
pub struct TempArea {
    dir: PathBuf,
    lock_path: PathBuf,
    /// Holds the `flock` while this process lives.
    _lock: File,
}

impl TempArea {
    /// Claims a new folder under `parent` (which must exist).
    pub fn claim(parent: &Path) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let token = format!("w{}-{nanos}-{n}", std::process::id());
        let claiming = parent.join(format!("{token}{CLAIMING_SUFFIX}"));
        let lock = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&claiming)?;
        flock(&lock, FlockOperation::NonBlockingLockExclusive)?;
        let lock_path = parent.join(format!("{token}{LOCK_SUFFIX}"));
        fs::rename(&claiming, &lock_path)?;
        let dir = parent.join(&token);
        fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(Self { dir, lock_path, _lock: lock })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempArea {
    fn drop(&mut self) {
        // Folder first: while the lock file exists, no cleaner touches it.
        for result in [fs::remove_dir_all(&self.dir), fs::remove_file(&self.lock_path)] {
            if let Err(e) = result.or_else(ignore_not_found) {
                tracing::warn!(path = %self.dir.display(), error = %e, "could not remove temporary folder");
            }
        }
    }
}

fn ignore_not_found(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::NotFound { Ok(()) } else { Err(e) }
}

/// Opens a lock file without blocking and without following a symlink, and
/// only if it is a regular file: a FIFO planted under the lock name would
/// otherwise block the open for ever. `None` for anything to skip.
fn open_lock_file(lock_path: &Path) -> io::Result<Option<File>> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32 | rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(lock_path);
    let lock = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            tracing::warn!(path = %lock_path.display(), "skipping a lock file that is a symlink");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    if !lock.metadata()?.is_file() {
        tracing::warn!(path = %lock_path.display(), "skipping a lock file that is not a regular file");
        return Ok(None);
    }
    Ok(Some(lock))
}

/// Removes the folders under `parent` whose writer has died, and their lock
/// files. Folders of live writers are left alone. Returns how many were
/// removed.
pub fn remove_stale(parent: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(parent)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(token) = name.to_str().and_then(|n| n.strip_suffix(LOCK_SUFFIX)) else { continue };
        let lock_path = entry.path();
        let Some(lock) = open_lock_file(&lock_path)? else { continue };
        match flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => continue,
            Err(e) => return Err(e.into()),
        }
        fs::remove_dir_all(parent.join(token)).or_else(ignore_not_found)?;
        fs::remove_file(&lock_path).or_else(ignore_not_found)?;
        removed += 1;
    }
    Ok(removed)
}
