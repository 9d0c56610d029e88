//! Configuration, layered: built-in defaults, then the TOML file
//! (`--config` or `$EXHIBIT_CONFIG`), then `EXHIBIT__SECTION__KEY`
//! environment variables, then command-line flags. Unknown keys are errors
//! that name the key. `config/exhibit.toml` documents every key.

use std::path::{Path, PathBuf};

use exhibit_core::HashSelection;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// All settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where artefacts, manifests and ledgers are kept.
    pub store: StoreConfig,
    /// How jobs move between stages.
    pub queue: QueueConfig,
    /// Which digests to compute besides SHA-256.
    pub hashing: HashSelection,
    /// The key that signs ledger entries.
    pub signing: SigningConfig,
    /// Ingest behaviour.
    pub ingest: IngestConfig,
    /// Caps against hostile media.
    pub limits: exhibit_media_core::Limits,
    /// Audio and video normalisation.
    pub transcode: TranscodeConfig,
    /// OCR of scans: languages, review threshold, limits.
    pub ocr: exhibit_ocr::OcrPolicy,
    /// Log output.
    pub log: LogConfig,
}

/// `[store]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `file://PATH` (or a bare path). Default: `$EXHIBIT_DATA`, else
    /// `./exhibit-data`.
    pub uri: String,
    /// A group that may read the evidence (folders 0750, files 0440);
    /// unset, only the owner can (0700, 0400).
    pub group: Option<String>,
}

/// `[queue]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// `memory://` runs every stage in this process.
    pub uri: String,
    /// Jobs waiting per stage before publishers wait.
    pub capacity: usize,
}

/// `[signing]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningConfig {
    /// OpenSSH Ed25519 private key, made on first use with mode 0600.
    pub key_file: PathBuf,
}

/// `[ingest]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Files acquired at once.
    pub workers: usize,
    /// Tries for a job that fails for a transient reason.
    pub max_attempts: u32,
}

/// `[transcode]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscodeConfig {
    /// Normalisation policy file; empty means the built-in copy of
    /// `config/normalisation.toml`.
    pub policy_file: Option<PathBuf>,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `warn` or `exhibit=debug`.
    pub level: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self { uri: "memory://".into(), capacity: 1024 }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { workers: 2, max_attempts: 3 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "warn".into() }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        let dir = std::env::var("EXHIBIT_DATA").unwrap_or_else(|_| "./exhibit-data".into());
        Self { uri: format!("file://{dir}"), group: None }
    }
}

impl Default for SigningConfig {
    fn default() -> Self {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        Self { key_file: base.join("exhibit").join("signing_ed25519") }
    }
}

/// Loads the layers. `file` is the `--config` flag.
pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    let file = file.map(Path::to_owned).or_else(|| std::env::var_os("EXHIBIT_CONFIG").map(PathBuf::from));
    if let Some(file) = file {
        if file.is_dir() {
            return Err(Box::new(figment::Error::from(format!(
                "config file {} is a directory; name a TOML file",
                file.display()
            ))));
        }
        if !file.is_file() {
            return Err(Box::new(figment::Error::from(format!("config file {} does not exist", file.display()))));
        }
        figment = figment.merge(Toml::file_exact(file));
    }
    figment.merge(Env::prefixed("EXHIBIT__").split("__")).extract().map_err(Box::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_file_parses_and_matches_defaults() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/exhibit.toml");
        let config = load(Some(&shipped)).unwrap();
        let defaults = Config::default();
        assert_eq!(config.queue.capacity, defaults.queue.capacity);
        assert_eq!(config.ingest.workers, defaults.ingest.workers);
        assert_eq!(config.hashing, defaults.hashing);
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "[ingest]\nworkerz = 3\n").unwrap();
        let err = load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("workerz"), "{err}");
    }
}
