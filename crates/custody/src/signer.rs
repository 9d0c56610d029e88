//! The Ed25519 key a worker signs ledger entries with, kept in OpenSSH
//! private-key format so that `ssh-keygen` can use and inspect it too.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use exhibit_core::regular_file::{self, OpenRegularError};
use rand_core::OsRng;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use tracing::info;

use crate::error::{CustodyError, Result};

/// The SSH signature namespace of ledger entries (`ssh-keygen -Y ... -n`).
pub const NAMESPACE: &str = "exhibit-ledger";

/// Comment put on every public key exhibit writes.
const KEY_COMMENT: &str = "exhibit";

/// Largest key file read; an Ed25519 key is about 400 bytes.
const KEY_FILE_LIMIT: u64 = 16 * 1024;

/// A loaded signing key.
pub struct Signer {
    key: PrivateKey,
    public: String,
    path: PathBuf,
    holder: Option<String>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("Signer").field("path", &self.path).field("public", &self.public).finish()
    }
}

impl Signer {
    /// Loads the key at `path`, or creates it (and its folder, mode 0700) on
    /// first use. The file is written with mode 0600 and never overwritten.
    /// A key file that grants group or other users any access is refused.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        match Self::load(path) {
            Err(CustodyError::KeyFile { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Self::create(path)
            }
            other => other,
        }
    }

    /// Loads an existing key file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut file = open_regular(path)?;
        let meta = file.metadata().map_err(|e| CustodyError::key_file("inspect", path, e))?;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CustodyError::KeyPermissions { path: path.to_owned(), mode });
        }
        let mut pem = Vec::new();
        (&mut file).take(KEY_FILE_LIMIT).read_to_end(&mut pem).map_err(|e| CustodyError::key_file("read", path, e))?;
        let key = PrivateKey::from_openssh(&pem).map_err(|e| CustodyError::key_format(path, e))?;
        if key.is_encrypted() {
            return Err(CustodyError::key_format(path, "it is passphrase-protected"));
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(CustodyError::key_format(path, format!("it is {}", key.algorithm())));
        }
        Self::from_key(key, path)
    }

    /// Generates a key and stores it create-only: written to a private
    /// temporary file, synced, then hard-linked into place, so a concurrent
    /// creator never sees a half-written key. If another process won, its key
    /// is loaded instead.
    fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| CustodyError::key_file("create the folder of", path, e))?;
        let mut key =
            PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(|e| CustodyError::Sign(e.to_string()))?;
        key.set_comment(KEY_COMMENT);
        let pem = key.to_openssh(LineEnding::LF).map_err(|e| CustodyError::Sign(e.to_string()))?;

        let tmp = dir.join(format!(".{}.tmp-{}", file_name(path), std::process::id()));
        let _ = fs::remove_file(&tmp);
        let written = write_private(&tmp, pem.as_bytes()).and_then(|()| fs::hard_link(&tmp, path));
        let _ = fs::remove_file(&tmp);
        match written {
            Ok(()) => {
                info!(path = %path.display(), "created signing key");
                Self::from_key(key, path)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
            Err(e) => Err(CustodyError::key_file("create", path, e)),
        }
    }

    fn from_key(key: PrivateKey, path: &Path) -> Result<Self> {
        let public = public_key_line(key.public_key()).map_err(|e| CustodyError::key_format(path, e))?;
        Ok(Self { key, public, path: path.to_owned(), holder: None })
    }

    /// The public key as one OpenSSH line: `ssh-ed25519 AAAA... exhibit`.
    pub fn public_key_openssh(&self) -> String {
        self.public.clone()
    }

    /// The key file this signer was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names who holds this key when that is not the operator of each
    /// event it signs: a server signing for its users. The `key-added`
    /// entry that brings the key into a case then names the holder, not
    /// the user whose event happened to be first.
    pub fn held_by(mut self, holder: impl Into<String>) -> Self {
        self.holder = Some(holder.into());
        self
    }

    /// Who holds this key, if set ([`Self::held_by`]).
    pub fn holder(&self) -> Option<&str> {
        self.holder.as_deref()
    }

    /// Signs `msg` in [`NAMESPACE`], returning an armored SSH signature
    /// (`-----BEGIN SSH SIGNATURE-----`) as `ssh-keygen -Y sign` writes it.
    pub fn sign(&self, msg: &[u8]) -> Result<String> {
        let sig = self.key.sign(NAMESPACE, HashAlg::Sha512, msg).map_err(|e| CustodyError::Sign(e.to_string()))?;
        sig.to_pem(LineEnding::LF).map_err(|e| CustodyError::Sign(e.to_string()))
    }
}

/// Whether `armored` is a valid signature by `public_key_openssh` over `msg`
/// in [`NAMESPACE`]. Any parse failure counts as invalid.
pub fn verify_signature(public_key_openssh: &str, msg: &[u8], armored: &str) -> bool {
    let Ok(key) = PublicKey::from_openssh(public_key_openssh) else {
        return false;
    };
    let Ok(sig) = SshSig::from_pem(armored) else {
        return false;
    };
    key.verify(NAMESPACE, msg, &sig).is_ok()
}

/// The key in its canonical text form with exhibit's comment, so that the
/// same key always reads the same whatever comment a file carries.
pub(crate) fn public_key_line(key: &PublicKey) -> ssh_key::Result<String> {
    let mut key = key.clone();
    key.set_comment(KEY_COMMENT);
    key.to_openssh()
}

/// The key of an OpenSSH public key line, ignoring its comment; `None` when
/// it is not a key.
pub(crate) fn normalise_public_key(line: &str) -> Option<String> {
    PublicKey::from_openssh(line).ok().and_then(|k| public_key_line(&k).ok())
}

/// Opens `path` only if it is a regular file, without blocking on a FIFO
/// (a named pipe as key file hung ingest).
fn open_regular(path: &Path) -> Result<File> {
    regular_file::open_regular(path).map_err(|e| match e {
        OpenRegularError::Io(e) => CustodyError::key_file("read", path, e),
        OpenRegularError::NotRegular { what } => CustodyError::KeyNotAFile { path: path.to_owned(), what },
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "key".to_owned())
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(data)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_bind_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let signer = Signer::load_or_create(&dir.path().join("k/key")).unwrap();
        let sig = signer.sign(b"hello").unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        assert!(verify_signature(&signer.public_key_openssh(), b"hello", &sig));
        assert!(!verify_signature(&signer.public_key_openssh(), b"hellO", &sig));
        assert!(!verify_signature("junk", b"hello", &sig));
        assert!(!verify_signature(&signer.public_key_openssh(), b"hello", "junk"));
    }

    #[test]
    fn a_key_loads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let a = Signer::load_or_create(&path).unwrap();
        let b = Signer::load_or_create(&path).unwrap();
        assert_eq!(a.public_key_openssh(), b.public_key_openssh());
        assert!(a.public_key_openssh().starts_with("ssh-ed25519 AAAA"));
        assert!(a.public_key_openssh().ends_with(" exhibit"));
    }
}
