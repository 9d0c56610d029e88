//! Configuration, layered: built-in defaults, then the TOML file
//! (`--config` or `$EXHIBIT_CONFIG`), then `EXHIBIT__SECTION__KEY`
//! environment variables, then command-line flags. Unknown keys are errors
//! that name the key. `config/exhibit.toml` documents every key.

use std::path::{Path, PathBuf};

use exhibit_core::HashSelection;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::config_serve::ServeConfig;
pub use crate::config_transcode::TranscodeConfig;

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
    /// Which identification steps run.
    pub identify: exhibit_intake::IdentifyPolicy,
    /// Whether files found in images are kept as views or copies.
    pub explore: exhibit_intake::ExplorePolicy,
    /// Audio and video normalisation.
    pub transcode: TranscodeConfig,
    /// OCR of scans: languages, review threshold, limits.
    pub ocr: exhibit_ocr::OcrPolicy,
    /// RFC 3161 timestamps of ledger heads.
    pub anchoring: AnchoringConfig,
    /// Log output.
    pub log: LogConfig,
    /// Which signing keys verify (and ingest) trust.
    pub verify: VerifyConfig,
    /// Where `show` and `status` keep their projection of the ledgers.
    pub read_model: ReadModelConfig,
    /// The HTTP API (`exhibit serve`, `exhibit admin`).
    pub api: ApiConfig,
    /// Evidence sent to `exhibit serve`: tus uploads, PUT, submissions.
    pub uploads: UploadsConfig,
    /// What one connection of `exhibit serve` may hold, and for how long.
    pub serve: ServeConfig,
}

/// `[uploads]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadsConfig {
    /// Local folder where uploads are staged until ingested. Unset:
    /// `.exhibit/uploads` inside a local store; a store with no local
    /// folder (S3) then takes no uploads until this is set.
    pub staging_dir: Option<PathBuf>,
    /// The largest tus upload, in bytes.
    pub max_upload_bytes: u64,
    /// The largest plain PUT body, in bytes (larger files go by tus).
    pub max_put_bytes: u64,
    /// Seconds an unfinished upload lives after its last bytes.
    pub expiry_secs: u64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        Self {
            staging_dir: None,
            max_upload_bytes: 64 << 30,
            max_put_bytes: exhibit_api::intake::DEFAULT_MAX_PUT_BYTES,
            expiry_secs: 24 * 3600,
        }
    }
}

/// `[api]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Where organisations, tokens, case ownership and shares are kept:
    /// `postgres://USER@HOST/DB?options[search_path]=SCHEMA` (not the read
    /// model's schema), `sqlite://PATH`. Unset: `.exhibit/access.sqlite`
    /// inside a local store. Not a cache: back it up.
    pub state_uri: Option<String>,
    /// Address `exhibit serve` listens on.
    pub listen: String,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// PEM certificate chain (leaf first): with `tls_key`, the server
    /// speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`, readable by its owner only.
    pub tls_key: Option<PathBuf>,
    /// Requests one API token may make per minute, on average.
    pub token_requests_per_minute: u32,
    /// Requests one API token may make at once after being idle.
    pub token_burst: u32,
    /// Uploads one API token may have running at once.
    pub token_concurrent_uploads: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        let limits = exhibit_api::limits::TokenLimitConfig::default();
        Self {
            state_uri: None,
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: exhibit_api::DEFAULT_MAX_BODY_BYTES,
            tls_cert: None,
            tls_key: None,
            token_requests_per_minute: limits.requests_per_minute,
            token_burst: limits.burst,
            token_concurrent_uploads: limits.concurrent_uploads,
        }
    }
}

impl ApiConfig {
    /// The per-token limits, or the name of a key that is 0.
    pub fn token_limits(&self) -> Result<exhibit_api::limits::TokenLimitConfig, &'static str> {
        let pairs = [
            ("api.token_requests_per_minute", self.token_requests_per_minute),
            ("api.token_burst", self.token_burst),
            ("api.token_concurrent_uploads", self.token_concurrent_uploads),
        ];
        if let Some((key, _)) = pairs.iter().find(|(_, v)| *v == 0) {
            return Err(key);
        }
        Ok(exhibit_api::limits::TokenLimitConfig {
            requests_per_minute: self.token_requests_per_minute,
            burst: self.token_burst,
            concurrent_uploads: self.token_concurrent_uploads,
        })
    }
}

/// `[read_model]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReadModelConfig {
    /// `postgres://USER@HOST/DB[?options[search_path]=SCHEMA]` (the
    /// cluster), `sqlite://PATH` or `sqlite::memory:`. Unset: the file
    /// `.exhibit/readmodel.sqlite` inside a local store. A cache of the
    /// ledger: delete it and it is rebuilt.
    pub uri: Option<String>,
}

/// `[verify]`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// The organisation's pinned keys, in OpenSSH allowed_signers format.
    /// Unset: verify lists signers but cannot say whether they are trusted.
    pub trusted_keys: Option<PathBuf>,
}

/// `[anchoring]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnchoringConfig {
    /// The TSA's `http://` URL; unset turns anchoring off.
    pub tsa_url: Option<String>,
    /// PEM CA certificate(s) the TSA's certificate must chain to; verify
    /// checks anchors only when this is set.
    pub ca_file: Option<PathBuf>,
    /// PEM intermediates to build the chain with, never trusted as roots.
    pub untrusted_file: Option<PathBuf>,
    /// TSA policy OID to ask for; unset takes the TSA's default.
    pub policy: Option<String>,
    /// Seconds one TSA exchange may take.
    pub timeout_secs: u64,
    /// Largest TSA response accepted, in bytes.
    pub max_response_bytes: u64,
    /// During a long ingest, anchor the head again after this many seconds.
    pub interval_secs: u64,
}

impl Default for AnchoringConfig {
    fn default() -> Self {
        Self {
            tsa_url: None,
            ca_file: None,
            untrusted_file: None,
            policy: None,
            timeout_secs: 10,
            max_response_bytes: exhibit_timestamp::DEFAULT_MAX_RESPONSE,
            interval_secs: 300,
        }
    }
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
    /// Unused since the queue became long-running (issue 12): the
    /// in-process queue holds every job, since jobs of a later phase wait
    /// in it. Still read, so that existing config files load.
    pub capacity: usize,
    /// With a shared queue: seconds between an ingest's heartbeats on its
    /// run (a run unheard of for 3 of them, not yet handed to the
    /// workers, is abandoned) and between its "still waiting" lines.
    pub heartbeat_secs: u64,
    /// With amqp://: deliveries of one job without a settle before the
    /// broker moves it to the dead-letter queue, 1 to 1000.
    pub delivery_limit: crate::config_limit::DeliveryLimit,
}

impl QueueConfig {
    /// What the queue URI does not say.
    pub fn options(&self) -> exhibit_queue::QueueOptions {
        let delivery_limit = self.delivery_limit.number().unwrap_or(exhibit_queue::DEFAULT_DELIVERY_LIMIT);
        exhibit_queue::QueueOptions { delivery_limit }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.delivery_limit.number().is_some_and(|n| exhibit_queue::DELIVERY_LIMITS.contains(&n)) {
            return Err(ConfigError::Invalid(format!(
                "[queue] delivery_limit is {}; it must be a whole number from {} to {} (deliveries of one job its workers die on \
                 before RabbitMQ moves it to the dead-letter queue; the default is {})",
                self.delivery_limit,
                exhibit_queue::DELIVERY_LIMITS.start(),
                exhibit_queue::DELIVERY_LIMITS.end(),
                exhibit_queue::DEFAULT_DELIVERY_LIMIT,
            )));
        }
        Ok(())
    }

    /// `heartbeat_secs` as a duration (at least a second).
    pub fn heartbeat(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.heartbeat_secs.clamp(1, 3600))
    }
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

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `warn` or `exhibit=debug`. Unset, commands
    /// a person runs log errors only (their report says each problem once)
    /// and `serve` and `worker` warnings too.
    pub level: Option<String>,
    /// `text` or `json` (one JSON object per line).
    pub format: crate::logging::LogFormat,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            uri: "memory://".into(),
            capacity: 1024,
            heartbeat_secs: 30,
            delivery_limit: crate::config_limit::DeliveryLimit::new(exhibit_queue::DEFAULT_DELIVERY_LIMIT),
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self { workers: 2, max_attempts: 3 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: None, format: crate::logging::LogFormat::Text }
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
        // The XDG spec: an empty or relative XDG_CONFIG_HOME is ignored, so a
        // private key never lands under the current folder.
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        Self { key_file: base.join("exhibit").join("signing_ed25519") }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file path itself is unusable.
    #[error("{0}")]
    Path(String),
    /// A key or value in a layer is wrong.
    #[error(transparent)]
    Keys(Box<figment::Error>),
    /// A value parses but is out of its range; the message names the key.
    #[error("{0}")]
    Invalid(String),
}

/// Loads the layers. `file` is the `--config` flag.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    let file = file.map(Path::to_owned).or_else(|| std::env::var_os("EXHIBIT_CONFIG").map(PathBuf::from));
    if let Some(file) = file {
        if file.is_dir() {
            return Err(ConfigError::Path(format!("config file {} is a directory; name a TOML file", file.display())));
        }
        if !file.exists() {
            return Err(ConfigError::Path(format!("config file {} does not exist", file.display())));
        }
        if !file.is_file() {
            return Err(ConfigError::Path(format!(
                "config file {} is not a regular file (a FIFO, socket or device); name a TOML file",
                file.display()
            )));
        }
        figment = figment.merge(Toml::file_exact(file));
    }
    let config: Config =
        figment.merge(Env::prefixed("EXHIBIT__").split("__")).extract().map_err(|e| ConfigError::Keys(Box::new(e)))?;
    config.queue.validate()?;
    config.transcode.validate()?;
    config.serve.validate()?;
    Ok(config)
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

    /// Every section and key the config struct has is in the shipped file,
    /// set (to its default) or shown commented out where the default
    /// depends on the machine, and nothing else is there.
    #[test]
    fn shipped_config_file_documents_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/exhibit.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let shipped: toml::Table = text.parse().unwrap();
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        let commented = |section: &str, key: &str| {
            let header = format!("[{section}]");
            let body = text.split(&header).nth(1).unwrap_or_default().split("\n[").next().unwrap_or_default();
            body.lines().any(|l| {
                l.trim_start().strip_prefix('#').is_some_and(|r| r.trim_start().starts_with(&format!("{key} =")))
            })
        };
        let sections: Vec<String> = defaults.keys().cloned().collect();
        for section in &sections {
            let Some(shipped_section) = shipped.get(section.as_str()).and_then(toml::Value::as_table) else {
                panic!("config/exhibit.toml has no [{section}] section");
            };
            let default_section =
                defaults.get(section.as_str()).and_then(toml::Value::as_table).cloned().unwrap_or_default();
            for (key, value) in &default_section {
                match shipped_section.get(key) {
                    Some(shipped) => assert_eq!(shipped, value, "[{section}] {key} differs from the default"),
                    None => assert!(commented(section, key), "[{section}] {key} is not documented"),
                }
            }
            for key in shipped_section.keys() {
                assert!(default_section.contains_key(key), "[{section}] {key} is not a key the program accepts");
            }
        }
        for section in shipped.keys() {
            assert!(sections.contains(section), "[{section}] is not a section");
        }
        assert!(commented("transcode", "policy_file"));
    }

    #[test]
    fn a_delivery_limit_out_of_range_is_refused_with_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("limit.toml");
        let cases = [("0", false), ("1", true), ("10", true), ("1000", true), ("1001", false), ("-1", false)];
        let cases =
            cases.into_iter().chain([("\"abc\"", false), ("2.5", false), ("true", false), ("4294967296", false)]);
        for (limit, ok) in cases {
            std::fs::write(&file, format!("[queue]\ndelivery_limit = {limit}\n")).unwrap();
            match load(Some(&file)) {
                Ok(config) => {
                    assert!(ok, "{limit} was taken");
                    assert_eq!(config.queue.options().delivery_limit.to_string(), limit);
                }
                Err(e) => {
                    assert!(!ok, "{limit} was refused: {e}");
                    assert!(matches!(e, ConfigError::Invalid(_)), "{e:?}");
                    let text = e.to_string();
                    assert!(text.contains("[queue] delivery_limit") && text.contains("1 to 1000"), "{text}");
                }
            }
        }
        assert_eq!(Config::default().queue.options().delivery_limit, 10, "the broker's limit stays 10 by default");
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
