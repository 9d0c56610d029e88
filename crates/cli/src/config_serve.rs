//! `[serve]`: how long and how much one connection of `exhibit serve` may
//! hold. These were fixed in code (a 30 s header timeout, a 30 s body
//! timeout, 256 connections per client address) and a download that was
//! never read had no limit at all; an operator behind a reverse proxy that
//! funnels every client through one address, or on a slow link, had no key
//! to change them.

use std::ops::RangeInclusive;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// `[serve]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Seconds a request's head may take to arrive (and a new connection
    /// its first byte).
    pub header_timeout_secs: u64,
    /// Seconds a JSON body, a manifest or a dashboard form may take to
    /// arrive whole (408 after).
    pub body_timeout_secs: u64,
    /// Seconds the client may take no byte of an answer being sent (a
    /// download it stopped reading) before its connection is closed.
    pub write_stall_secs: u64,
    /// Connections one client address may hold at once; more are closed.
    pub max_connections_per_client: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        let limits = exhibit_api::connections::ConnectionLimits::default();
        Self {
            header_timeout_secs: limits.header_timeout.as_secs(),
            body_timeout_secs: exhibit_api::DEFAULT_BODY_TIMEOUT.as_secs(),
            write_stall_secs: limits.write_stall.as_secs(),
            max_connections_per_client: limits.max_per_client as u64,
        }
    }
}

/// Seconds any of the timeouts may be: a day is already far past any
/// client that is still there.
const SECONDS: RangeInclusive<u64> = 1..=86_400;

/// Connections one address may hold: past this, file descriptors run out
/// before the cap bites.
const CONNECTIONS: RangeInclusive<u64> = 1..=65_536;

impl ServeConfig {
    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let keys = [
            ("header_timeout_secs", self.header_timeout_secs, &SECONDS),
            ("body_timeout_secs", self.body_timeout_secs, &SECONDS),
            ("write_stall_secs", self.write_stall_secs, &SECONDS),
            ("max_connections_per_client", self.max_connections_per_client, &CONNECTIONS),
        ];
        for (key, value, range) in keys {
            if !range.contains(&value) {
                return Err(ConfigError::Invalid(format!(
                    "[serve] {key} is {value}; it must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                )));
            }
        }
        Ok(())
    }

    /// The connection limits (call after [`ServeConfig::validate`]).
    pub fn connection_limits(&self) -> exhibit_api::connections::ConnectionLimits {
        exhibit_api::connections::ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            write_stall: Duration::from_secs(self.write_stall_secs),
            max_per_client: usize::try_from(self.max_connections_per_client).unwrap_or(usize::MAX),
        }
    }

    /// How long a JSON body, manifest or form may take to arrive.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid_and_each_bad_value_names_its_key() {
        ServeConfig::default().validate().unwrap();
        type Spoil = fn(&mut ServeConfig);
        let cases: [(&str, Spoil); 6] = [
            ("header_timeout_secs", |c| c.header_timeout_secs = 0),
            ("body_timeout_secs", |c| c.body_timeout_secs = 0),
            ("write_stall_secs", |c| c.write_stall_secs = 0),
            ("write_stall_secs", |c| c.write_stall_secs = u64::MAX),
            ("max_connections_per_client", |c| c.max_connections_per_client = 0),
            ("max_connections_per_client", |c| c.max_connections_per_client = 1 << 40),
        ];
        for (key, spoil) in cases {
            let mut config = ServeConfig::default();
            spoil(&mut config);
            let text = config.validate().unwrap_err().to_string();
            assert!(text.starts_with(&format!("[serve] {key} is ")), "{text}");
        }
    }
}
