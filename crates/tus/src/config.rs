//! Where uploads are staged and the limits they run under.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;

const GIB: u64 = 1 << 30;

/// Settings for the upload endpoint. Every limit is enforced per request
/// and has a test in `tests/it/limits.rs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TusConfig {
    /// The folder uploads are staged in: `<id>.bin` holds the bytes,
    /// `<id>.json` the offset and metadata. Local disk, not shared.
    pub staging_dir: PathBuf,
    /// The path the router is mounted at, used to build `Location`
    /// (`/v1/uploads` makes `/v1/uploads/<id>`).
    pub public_path: String,
    /// The largest `Upload-Length` accepted (advertised as `Tus-Max-Size`).
    pub max_upload_length: u64,
    /// The largest body one PATCH may carry.
    pub max_patch_body: u64,
    /// How many unfinished uploads one principal may have at once.
    pub max_uploads_per_principal: usize,
    /// How long an upload lives after its last accepted bytes.
    #[serde(with = "exhibit_core::serde_seconds")]
    pub expiry: Duration,
    /// How often expired uploads are removed from the staging folder.
    #[serde(with = "exhibit_core::serde_seconds")]
    pub sweep_interval: Duration,
    /// How long a request waits for another on the same upload to finish.
    #[serde(with = "exhibit_core::serde_seconds")]
    pub lock_wait: Duration,
    /// How long a PATCH body may send nothing before the server stops
    /// reading it (and keeps what arrived, if no checksum was sent).
    #[serde(with = "exhibit_core::serde_seconds")]
    pub body_idle_timeout: Duration,
}

impl Default for TusConfig {
    fn default() -> Self {
        Self {
            staging_dir: PathBuf::from("staging/uploads"),
            public_path: "/v1/uploads".to_owned(),
            max_upload_length: 64 * GIB,
            // Large enough for clients that send a whole file in one PATCH
            // (tuspy's default chunk size is unbounded).
            max_patch_body: 64 * GIB,
            max_uploads_per_principal: 32,
            expiry: Duration::from_secs(24 * 3600),
            sweep_interval: Duration::from_secs(600),
            lock_wait: Duration::from_secs(20),
            body_idle_timeout: Duration::from_secs(60),
        }
    }
}

impl TusConfig {
    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| Err(ConfigError { key, reason: reason.to_owned() });
        if self.staging_dir.as_os_str().is_empty() {
            return bad("staging_dir", "must name a folder");
        }
        if !self.public_path.starts_with('/') || self.public_path.ends_with('/') {
            return bad("public_path", "must start with '/' and not end with one, e.g. /v1/uploads");
        }
        if self.max_upload_length == 0 || self.max_upload_length > i64::MAX as u64 {
            return bad("max_upload_length", "must be between 1 and 2^63-1 bytes");
        }
        if self.max_patch_body == 0 {
            return bad("max_patch_body", "must be at least 1 byte");
        }
        if self.max_uploads_per_principal == 0 {
            return bad("max_uploads_per_principal", "must be at least 1");
        }
        for (key, value) in [
            ("expiry", self.expiry),
            ("sweep_interval", self.sweep_interval),
            ("lock_wait", self.lock_wait),
            ("body_idle_timeout", self.body_idle_timeout),
        ] {
            if value.is_zero() {
                return bad(key, "must be at least 1 second");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        TusConfig::default().validate().unwrap();
    }

    #[test]
    fn each_bad_value_names_its_key() {
        type Spoil = fn(&mut TusConfig);
        let cases: [(&str, Spoil); 5] = [
            ("public_path", |c| c.public_path = "v1/uploads/".into()),
            ("max_upload_length", |c| c.max_upload_length = 0),
            ("max_patch_body", |c| c.max_patch_body = 0),
            ("max_uploads_per_principal", |c| c.max_uploads_per_principal = 0),
            ("expiry", |c| c.expiry = Duration::ZERO),
        ];
        for (key, spoil) in cases {
            let mut config = TusConfig::default();
            spoil(&mut config);
            assert_eq!(config.validate().unwrap_err().key, key);
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<TusConfig>(r#"{"max_upload_lenght": 5}"#).unwrap_err();
        assert!(err.to_string().contains("max_upload_lenght"), "{err}");
    }
}
