//! Reading a source file without changing it: opened read-only, without
//! following a symlink, and without updating its access time where the OS
//! allows; its metadata taken before and after the read.

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use exhibit_core::manifest::{SourcedTime, Timestamps};
use time::OffsetDateTime;

/// Opens a file for reading with `O_NOFOLLOW` and, when permitted,
/// `O_NOATIME` (which needs ownership or CAP_FOWNER).
pub fn open_source(path: &Path) -> io::Result<File> {
    let open = |flags| OpenOptions::new().read(true).custom_flags(flags).open(path);
    match open(libc::O_NOFOLLOW | libc::O_NOATIME) {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(libc::O_NOFOLLOW),
        other => other,
    }
}

/// Identity of a source's state: path bytes, size and modification time.
/// A file whose key is already in the ledger need not be read again.
pub fn source_key(path_bytes: &[u8], meta: &Metadata) -> String {
    format!("{}:{}:{}.{:09}", hex::encode(path_bytes), meta.len(), meta.mtime(), meta.mtime_nsec())
}

/// Whether a file changed between two looks at it.
pub fn changed(before: &Metadata, after: &Metadata) -> Option<String> {
    if before.len() != after.len() {
        return Some(format!("its size changed from {} to {} bytes while it was read", before.len(), after.len()));
    }
    if (before.mtime(), before.mtime_nsec()) != (after.mtime(), after.mtime_nsec()) {
        return Some("its modification time changed while it was read".to_owned());
    }
    None
}

fn at(secs: i64, nanos: i64, from: &str) -> Option<SourcedTime> {
    let nanos = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some(SourcedTime { at, from: from.to_owned() })
}

/// The four timestamps of a file, each naming the field it came from.
pub fn timestamps(meta: &Metadata) -> Timestamps {
    let created = meta.created().ok().and_then(|t| {
        let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
        at(i64::try_from(d.as_secs()).ok()?, i64::from(d.subsec_nanos()), "statx.btime")
    });
    Timestamps {
        created,
        modified: at(meta.mtime(), meta.mtime_nsec(), "stat.mtime"),
        accessed: at(meta.atime(), meta.atime_nsec(), "stat.atime"),
        changed: at(meta.ctime(), meta.ctime_nsec(), "stat.ctime"),
    }
}
