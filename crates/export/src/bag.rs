//! Writing a BagIt bag (RFC 8493, version 1.0) into an empty folder:
//! payload under `data/`, tag files beside it, `manifest-sha256.txt`,
//! `manifest-md5.txt`, `bag-info.txt` and the tag manifests last.
//!
//! Every file is created with `create_new`, so nothing is overwritten and
//! a symlink planted in the folder is never followed; every path comes
//! from [`crate::bag_paths`] or from this crate's own fixed names.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::error::ExportError;

/// One line of a manifest: a file's digests and its path in the bag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagFile {
    /// Path relative to the bag, `/`-separated.
    pub path: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// MD5, lowercase hex.
    pub md5: String,
    /// Size in bytes.
    pub size: u64,
}

/// A bag being written.
#[derive(Debug)]
pub struct BagWriter {
    root: PathBuf,
    payload: Vec<BagFile>,
    tags: Vec<BagFile>,
}

impl BagWriter {
    /// Starts a bag in `dir`, which must be missing (it is created; its
    /// parent must exist) or an empty folder.
    pub fn create(dir: &Path) -> Result<Self, ExportError> {
        match std::fs::symlink_metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(dir).map_err(|e| ExportError::io(dir, e))?;
            }
            Err(e) => return Err(ExportError::io(dir, e)),
            Ok(meta) if !meta.is_dir() => return Err(ExportError::NotEmpty(dir.to_owned())),
            Ok(_) => {
                let mut entries = std::fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))?;
                if entries.next().is_some() {
                    return Err(ExportError::NotEmpty(dir.to_owned()));
                }
            }
        }
        // RFC 8493 requires the payload folder even when it is empty.
        let data = dir.join("data");
        std::fs::create_dir(&data).map_err(|e| ExportError::io(&data, e))?;
        Ok(Self { root: dir.to_owned(), payload: Vec::new(), tags: Vec::new() })
    }

    /// The bag's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the payload file `rel` (from [`crate::bag_paths`]) and its
    /// folders, for the caller to fill and then [`BagWriter::add_payload`].
    pub fn create_file(&self, rel: &str) -> Result<File, ExportError> {
        let path = self.path_of(rel)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ExportError::io(parent, e))?;
        }
        OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| ExportError::io(&path, e))
    }

    /// Records a payload file written through [`BagWriter::create_file`].
    pub fn add_payload(&mut self, file: BagFile) {
        self.payload.push(file);
    }

    /// Writes a tag file (anything outside `data/`) and records it for the
    /// tag manifests.
    pub fn add_tag(&mut self, rel: &str, bytes: &[u8]) -> Result<(), ExportError> {
        let mut file = self.create_file(rel)?;
        file.write_all(bytes).map_err(|e| ExportError::io(&self.root.join(rel), e))?;
        self.tags.push(BagFile {
            path: rel.to_owned(),
            sha256: hex::encode(Sha256::digest(bytes)),
            md5: hex::encode(Md5::digest(bytes)),
            size: bytes.len() as u64,
        });
        Ok(())
    }

    /// Writes a tag file from `reader`, streaming and hashing it (a
    /// listing may be large).
    pub fn add_tag_from(&mut self, rel: &str, reader: &mut dyn std::io::Read) -> Result<(), ExportError> {
        let path = self.root.join(rel);
        let mut file = self.create_file(rel)?;
        let (mut sha, mut md5, mut size) = (Sha256::new(), Md5::new(), 0u64);
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ExportError::io(&path, e)),
            };
            sha.update(&buffer[..n]);
            md5.update(&buffer[..n]);
            file.write_all(&buffer[..n]).map_err(|e| ExportError::io(&path, e))?;
            size += n as u64;
        }
        let (sha256, md5) = (hex::encode(sha.finalize()), hex::encode(md5.finalize()));
        self.tags.push(BagFile { path: rel.to_owned(), sha256, md5, size });
        Ok(())
    }

    /// Total payload bytes and files: the `Payload-Oxum`.
    pub fn oxum(&self) -> (u64, u64) {
        (self.payload.iter().map(|f| f.size).sum(), self.payload.len() as u64)
    }

    /// Writes `bagit.txt`, `bag-info.txt` (from `info`, whose values are
    /// made single-line), the payload manifests, and the tag manifests.
    pub fn finish(mut self, info: &[(String, String)]) -> Result<Vec<BagFile>, ExportError> {
        self.add_tag("bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")?;
        self.add_tag("bag-info.txt", bag_info_text(info).as_bytes())?;
        self.payload.sort_by(|a, b| a.path.cmp(&b.path));
        let (sha, md5) = manifests(&self.payload);
        self.add_tag("manifest-sha256.txt", sha.as_bytes())?;
        self.add_tag("manifest-md5.txt", md5.as_bytes())?;
        self.tags.sort_by(|a, b| a.path.cmp(&b.path));
        let (tag_sha, tag_md5) = manifests(&self.tags);
        for (name, text) in [("tagmanifest-sha256.txt", tag_sha), ("tagmanifest-md5.txt", tag_md5)] {
            let path = self.root.join(name);
            let mut file = self.create_file(name)?;
            file.write_all(text.as_bytes()).map_err(|e| ExportError::io(&path, e))?;
            file.sync_all().map_err(|e| ExportError::io(&path, e))?;
        }
        Ok(self.payload)
    }

    fn path_of(&self, rel: &str) -> Result<PathBuf, ExportError> {
        let inside = !rel.is_empty()
            && !rel.starts_with('/')
            && rel.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains('\\'));
        if !inside {
            return Err(ExportError::Outside(rel.to_owned()));
        }
        Ok(self.root.join(rel))
    }
}

/// `bag-info.txt`: one `Label: value` per line, values made single-line.
fn bag_info_text(info: &[(String, String)]) -> String {
    let mut text = String::new();
    for (label, value) in info {
        let value: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        text.push_str(&format!("{label}: {}\n", value.trim()));
    }
    text
}

/// The SHA-256 and MD5 manifests of `files`.
fn manifests(files: &[BagFile]) -> (String, String) {
    let (mut sha, mut md5) = (String::new(), String::new());
    for f in files {
        let path = manifest_path(&f.path);
        sha.push_str(&format!("{}  {path}\n", f.sha256));
        md5.push_str(&format!("{}  {path}\n", f.md5));
    }
    (sha, md5)
}

/// A path as RFC 8493 section 2.1.3 writes it in a manifest: `%`, CR and
/// LF percent-encoded.
pub fn manifest_path(path: &str) -> String {
    path.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_non_empty_folder_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), b"").unwrap();
        assert!(matches!(BagWriter::create(dir.path()), Err(ExportError::NotEmpty(_))));
        assert!(matches!(BagWriter::create(&dir.path().join("x")), Err(ExportError::NotEmpty(_))));
    }

    #[test]
    fn refuses_paths_that_leave_the_bag() {
        let dir = tempfile::tempdir().unwrap();
        let bag = BagWriter::create(&dir.path().join("bag")).unwrap();
        for bad in ["../x", "/etc/x", "data/../../x", "data//x", "a\\..\\b", ""] {
            assert!(matches!(bag.create_file(bad), Err(ExportError::Outside(_))), "{bad}");
        }
    }

    #[test]
    fn writes_manifests_with_encoded_paths() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("bag");
        let mut bag = BagWriter::create(&root).unwrap();
        bag.create_file("data/100%").unwrap();
        let empty_sha = hex::encode(Sha256::digest(b""));
        bag.add_payload(BagFile { path: "data/100%".into(), sha256: empty_sha.clone(), md5: "d41d8".into(), size: 0 });
        bag.finish(&[("Payload-Oxum".into(), "0.1".into())]).unwrap();
        let manifest = std::fs::read_to_string(root.join("manifest-sha256.txt")).unwrap();
        assert_eq!(manifest, format!("{empty_sha}  data/100%25\n"));
        let tags = std::fs::read_to_string(root.join("tagmanifest-sha256.txt")).unwrap();
        assert!(tags.contains("  bag-info.txt\n") && tags.contains("  manifest-md5.txt\n"), "{tags}");
    }
}
