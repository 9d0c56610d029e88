//! What a submission has sent so far, kept in a small JSON file beside the
//! manifest, so that the same command run again resumes each upload where
//! the server holds it instead of starting over, and sends no finished
//! file again. Written atomically (a temporary file, then a rename) after
//! every change, so a run killed at any point leaves the old or the new.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One file's upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SentFile {
    /// The upload's URL on the server.
    pub url: String,
    /// Whether every byte arrived and the server took the file.
    pub complete: bool,
}

/// The state of one manifest's submission to one server.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ResumeState {
    /// The server it was sent to; another server starts over.
    pub server: String,
    /// Uploads by file key (see [`file_key`]), case and exhibit.
    pub files: BTreeMap<String, SentFile>,
    #[serde(skip)]
    path: PathBuf,
}

impl ResumeState {
    /// The state at `path` for `server`; empty when there is none, or it
    /// was for another server, or it cannot be read (a warning: the
    /// uploads then start over, which costs time, not evidence).
    pub fn load(path: &Path, server: &str) -> Self {
        let fresh = || Self { server: server.to_owned(), files: BTreeMap::new(), path: path.to_owned() };
        let Ok(text) = std::fs::read_to_string(path) else { return fresh() };
        match serde_json::from_str::<Self>(&text) {
            Ok(state) if state.server == server => Self { path: path.to_owned(), ..state },
            Ok(_) => fresh(),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "the resume state is unreadable; starting the uploads over");
                fresh()
            }
        }
    }

    /// Records `sent` for `key` and writes the file.
    pub fn record(&mut self, key: String, sent: SentFile) -> std::io::Result<()> {
        self.files.insert(key, sent);
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)
    }
}

/// The key of a local file: its canonical path, size and modification
/// time, so a file changed since it was sent is sent again.
pub fn file_key(path: &Path) -> std::io::Result<String> {
    let canonical = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&canonical)?;
    Ok(format!("{}|{}|{}.{}", canonical.display(), meta.len(), meta.mtime(), meta.mtime_nsec()))
}

/// Where the state of `manifest`'s submission is kept by default.
pub fn default_path(manifest: &Path) -> PathBuf {
    let mut name = manifest.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".exhibit-submit.json");
    manifest.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_a_reload_and_another_server_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.csv.exhibit-submit.json");
        let mut state = ResumeState::load(&path, "http://a");
        state.record("k".into(), SentFile { url: "http://a/v1/uploads/1".into(), complete: true }).unwrap();
        assert_eq!(ResumeState::load(&path, "http://a").files.len(), 1);
        assert!(ResumeState::load(&path, "http://b").files.is_empty());
        std::fs::write(&path, b"{not json").unwrap();
        assert!(ResumeState::load(&path, "http://a").files.is_empty(), "unreadable: start over");
        assert_eq!(default_path(Path::new("desk/items.csv")), Path::new("desk/items.csv.exhibit-submit.json"));
    }
}
