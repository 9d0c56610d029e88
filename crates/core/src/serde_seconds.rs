//! A `Duration` written in configuration as whole seconds:
//! `#[serde(with = "exhibit_core::serde_seconds")]`.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// Reads a whole number of seconds.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    Ok(Duration::from_secs(u64::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        wait: std::time::Duration,
    }

    #[test]
    fn whole_seconds_read_and_anything_else_is_refused() {
        let held: Holder = serde_json::from_str(r#"{"wait": 90}"#).unwrap();
        assert_eq!(held.wait, std::time::Duration::from_secs(90));
        assert!(serde_json::from_str::<Holder>(r#"{"wait": -1}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"wait": "90"}"#).is_err());
    }
}
