//! The staging folder: each upload's bytes in `<id>.bin` and its state in a
//! small JSON sidecar `<id>.json`, replaced atomically (write a temporary
//! file, fsync it, rename it over, fsync the folder), so a crash leaves the
//! old state or the new, never a torn one.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use exhibit_core::Sha256Digest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::TusError;
use crate::hooks::Principal;
use crate::metadata::UploadTarget;
use crate::upload_id::UploadId;

const RECORD_VERSION: u32 = 1;
const REHASH_BUFFER: usize = 1 << 20;

/// What the sidecar holds about one upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadRecord {
    /// Format version of this record.
    pub version: u32,
    /// The upload's ID.
    pub id: UploadId,
    /// Who created it; its organisation owns it.
    pub principal: Principal,
    /// Where it goes.
    pub target: UploadTarget,
    /// Every `Upload-Metadata` pair as sent.
    pub metadata: BTreeMap<String, Option<String>>,
    /// `Upload-Length`.
    pub length: u64,
    /// How many bytes are durably received.
    pub offset: u64,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it expires unless more bytes arrive.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// SHA-256 of all the bytes, once `offset == length`.
    pub sha256: Option<Sha256Digest>,
    /// Whether the completion hook has taken it.
    pub handed_over: bool,
}

impl UploadRecord {
    /// Whether every byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.offset == self.length
    }
}

/// Staged files are evidence not yet in the store: readable by the
/// server's user only, as the store's own files are.
pub const OWNER_ONLY_FILE: u32 = 0o600;

/// Creates `dir` (and its parents) for the server's user only, and takes
/// group and other access away from it if it was there already.
pub fn owner_only_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

/// The staging folder.
#[derive(Debug, Clone)]
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Opens (creating if need be) the staging folder, removing temporary
    /// files a crash left behind.
    pub fn open(dir: &Path) -> Result<Self, TusError> {
        owner_only_dir(dir).map_err(|e| TusError::io(format!("creating {}", dir.display()), e))?;
        let staging = Self { dir: dir.to_owned() };
        for entry in staging.entries()? {
            if entry.extension().is_some_and(|e| e == "tmp") {
                let _ = fs::remove_file(&entry);
            }
        }
        Ok(staging)
    }

    fn entries(&self) -> Result<Vec<PathBuf>, TusError> {
        let read = fs::read_dir(&self.dir).map_err(|e| TusError::io(format!("listing {}", self.dir.display()), e))?;
        Ok(read.filter_map(|e| e.ok().map(|e| e.path())).collect())
    }

    /// The file holding an upload's bytes.
    pub fn data_path(&self, id: &UploadId) -> PathBuf {
        self.dir.join(format!("{id}.bin"))
    }

    fn record_path(&self, id: &UploadId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Every record in the folder. A damaged sidecar is logged and skipped
    /// (with its bytes left for an operator), not fatal to the server.
    pub fn load_all(&self) -> Result<Vec<UploadRecord>, TusError> {
        let mut records = Vec::new();
        for path in self.entries()? {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match read_record(&path) {
                Ok(record) => records.push(record),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "skipping a damaged upload record"),
            }
        }
        Ok(records)
    }

    /// An upload's record as last saved (its offset is that of the last
    /// chunk kept), if there is one.
    pub fn load(&self, id: &UploadId) -> Result<Option<UploadRecord>, TusError> {
        let path = self.record_path(id);
        if !path.exists() {
            return Ok(None);
        }
        read_record(&path).map(Some)
    }

    /// Creates an empty data file and the first record.
    pub fn create(&self, record: &UploadRecord) -> Result<(), TusError> {
        let path = self.data_path(&record.id);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(OWNER_ONLY_FILE)
            .open(&path)
            .map_err(|e| TusError::io(format!("creating {}", path.display()), e))?;
        file.sync_all().map_err(|e| TusError::io("fsync of a new data file", e))?;
        self.save(record)
    }

    /// Replaces an upload's record atomically and durably.
    pub fn save(&self, record: &UploadRecord) -> Result<(), TusError> {
        let path = self.record_path(&record.id);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| TusError::io("encoding an upload record", io::Error::other(e)))?;
        let write = || -> io::Result<()> {
            let mut file =
                OpenOptions::new().write(true).create(true).truncate(true).mode(OWNER_ONLY_FILE).open(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| TusError::io(format!("saving {}", path.display()), e))
    }

    /// Removes an upload's bytes and record.
    pub fn remove(&self, id: &UploadId) -> Result<(), TusError> {
        for path in [self.record_path(id), self.data_path(id)] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(TusError::io(format!("removing {}", path.display()), e)),
            }
        }
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| TusError::io(format!("fsync of {}", self.dir.display()), e))
    }

    /// Removes an upload's bytes only, keeping its record (once handed over).
    pub fn remove_data(&self, id: &UploadId) -> Result<(), TusError> {
        let path = self.data_path(id);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(TusError::io(format!("removing {}", path.display()), e)),
        }
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| TusError::io(format!("fsync of {}", self.dir.display()), e))
    }

    /// SHA-256 state over the first `len` bytes of an upload: used when the
    /// process holds no hasher for it (after a restart).
    pub fn rehash_prefix(&self, id: &UploadId, len: u64) -> Result<Sha256, TusError> {
        let path = self.data_path(id);
        let context = || format!("re-hashing the first {len} bytes of {}", path.display());
        let file = File::open(&path).map_err(|e| TusError::io(context(), e))?;
        let mut reader = file.take(len);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; REHASH_BUFFER];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|e| TusError::io(context(), e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            total += n as u64;
        }
        if total != len {
            return Err(TusError::CorruptRecord {
                path: path.display().to_string(),
                reason: format!("holds {total} bytes where its record says {len}"),
            });
        }
        Ok(hasher)
    }
}

fn read_record(path: &Path) -> Result<UploadRecord, TusError> {
    let bytes = fs::read(path).map_err(|e| TusError::io(format!("reading {}", path.display()), e))?;
    let record: UploadRecord = serde_json::from_slice(&bytes)
        .map_err(|e| TusError::CorruptRecord { path: path.display().to_string(), reason: e.to_string() })?;
    let named = path.file_stem().and_then(|s| s.to_str()) == Some(record.id.as_str());
    if record.version != RECORD_VERSION || !named || record.offset > record.length {
        return Err(TusError::CorruptRecord {
            path: path.display().to_string(),
            reason: "wrong version, name or offset".into(),
        });
    }
    Ok(record)
}

/// The version new records are written with.
pub fn record_version() -> u32 {
    RECORD_VERSION
}
