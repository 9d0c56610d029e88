//! `[transcode]`: the normalisation policy file and the caps on each
//! transcode job. The caps were fixed in code; a force with a 14-hour
//! interview recording or an 8K body-worn camera had no key to raise, and
//! its files read as content no decoder accepts. Each cap's refusal now
//! names its key (`transcode.max_duration` ...), and the summary reports it
//! as a limit.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// `[transcode]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranscodeConfig {
    /// Normalisation policy file; empty means the built-in copy of
    /// `config/normalisation.toml`.
    pub policy_file: Option<PathBuf>,
    /// Largest frame, width × height in pixels, declared or decoded.
    pub max_frame_pixels: u64,
    /// Longest media, in seconds, declared or decoded.
    pub max_duration: u64,
    /// Highest audio sample rate, in Hz.
    pub max_sample_rate: u32,
    /// Most audio channels.
    pub max_channels: u16,
    /// Wall-clock seconds before a transcode child is killed.
    pub timeout: u64,
    /// CPU seconds a transcode child may use.
    pub max_cpu: u64,
    /// Address space of a transcode child, in bytes.
    pub max_memory: u64,
}

impl Default for TranscodeConfig {
    fn default() -> Self {
        let limits = exhibit_transcode::Limits::default();
        Self {
            policy_file: None,
            max_frame_pixels: limits.max_frame_pixels,
            max_duration: limits.max_duration.as_secs(),
            max_sample_rate: limits.max_sample_rate,
            max_channels: limits.max_channels,
            timeout: limits.timeout.as_secs(),
            max_cpu: limits.max_cpu.as_secs(),
            max_memory: limits.max_address_space,
        }
    }
}

/// The least address space a child can decode in.
const MIN_MEMORY: u64 = 256 << 20;

impl TranscodeConfig {
    /// Checks the caps, naming the bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let zero = [
            ("max_frame_pixels", self.max_frame_pixels == 0),
            ("max_duration", self.max_duration == 0),
            ("max_sample_rate", self.max_sample_rate == 0),
            ("max_channels", self.max_channels == 0),
            ("timeout", self.timeout == 0),
            ("max_cpu", self.max_cpu == 0),
        ];
        if let Some((key, _)) = zero.iter().find(|(_, is_zero)| *is_zero) {
            return Err(ConfigError::Invalid(format!("[transcode] {key} is 0; it must be above 0")));
        }
        if self.max_memory < MIN_MEMORY {
            return Err(ConfigError::Invalid(format!(
                "[transcode] max_memory is {} bytes; it must be at least {MIN_MEMORY} (256 MiB)",
                self.max_memory
            )));
        }
        Ok(())
    }

    /// The caps on each transcode job.
    pub fn limits(&self) -> exhibit_transcode::Limits {
        exhibit_transcode::Limits {
            max_frame_pixels: self.max_frame_pixels,
            max_duration: Duration::from_secs(self.max_duration),
            max_sample_rate: self.max_sample_rate,
            max_channels: self.max_channels,
            timeout: Duration::from_secs(self.timeout),
            max_cpu: Duration::from_secs(self.max_cpu),
            max_address_space: self.max_memory,
            ..exhibit_transcode::Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_transcoders_own() {
        assert_eq!(TranscodeConfig::default().limits(), exhibit_transcode::Limits::default());
        TranscodeConfig::default().validate().unwrap();
    }

    #[test]
    fn a_zero_cap_or_a_tiny_memory_is_refused_naming_its_key() {
        let zero = TranscodeConfig { max_duration: 0, ..TranscodeConfig::default() };
        assert!(zero.validate().unwrap_err().to_string().contains("[transcode] max_duration"));
        let tiny = TranscodeConfig { max_memory: 1 << 20, ..TranscodeConfig::default() };
        assert!(tiny.validate().unwrap_err().to_string().contains("[transcode] max_memory"));
    }
}
