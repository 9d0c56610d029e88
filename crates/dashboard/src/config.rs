//! Where the dashboard is mounted, how its cookie is set, and how long
//! sessions live.

use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;

/// Settings for the dashboard router.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// The path the router is nested at (`/dashboard`). Links, form
    /// actions, the assets and the cookie's `Path` use it. Not the root:
    /// axum nests only below it, and the API owns the other paths.
    pub base_path: String,
    /// Whether the server speaks TLS: the session cookie is then `Secure`.
    pub tls: bool,
    /// The name in the header and the page titles.
    pub service_name: String,
    /// The phase in the phase banner (`Alpha`, `Beta`).
    pub phase: String,
    /// A session ends after this long without a request.
    #[serde(with = "exhibit_core::serde_seconds")]
    pub session_idle: Duration,
    /// A session ends this long after sign-in, whatever its use.
    #[serde(with = "exhibit_core::serde_seconds")]
    pub session_lifetime: Duration,
    /// How many sessions (signed in or holding a login form's token) are
    /// kept at most; past it the oldest not signed in go first.
    pub max_sessions: usize,
    /// The largest form body read, in bytes.
    pub max_form_bytes: usize,
    /// How long a form's body may take to arrive whole (408 after).
    #[serde(with = "exhibit_core::serde_seconds")]
    pub form_timeout: Duration,
    /// Refused sign-ins for one user name before it is locked out.
    pub login_failures_per_user: u32,
    /// Refused sign-ins from one client address before it is locked out.
    pub login_failures_per_address: u32,
    /// How long a lockout lasts after the last refused sign-in.
    #[serde(with = "exhibit_core::serde_seconds")]
    pub login_lockout: Duration,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            base_path: "/dashboard".to_owned(),
            tls: false,
            service_name: "Exhibit".to_owned(),
            phase: "Alpha".to_owned(),
            session_idle: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            max_sessions: 10_000,
            max_form_bytes: 16 * 1024,
            form_timeout: crate::form::FORM_BODY_TIMEOUT,
            login_failures_per_user: 5,
            login_failures_per_address: 30,
            login_lockout: Duration::from_secs(15 * 60),
        }
    }
}

impl DashboardConfig {
    /// Checks every value, naming the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, reason: &str| Err(ConfigError { key, reason: reason.to_owned() });
        let path_ok = self.base_path.len() > 1
            && self.base_path.starts_with('/')
            && !self.base_path.ends_with('/')
            && !self.base_path.contains("//")
            && self.base_path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_".contains(&b));
        if !path_ok {
            return bad(
                "base_path",
                "must start with '/', not end with one, and use A-Z a-z 0-9 / - _ (e.g. /dashboard)",
            );
        }
        if self.service_name.trim().is_empty() {
            return bad("service_name", "must not be empty");
        }
        if self.session_idle.is_zero() {
            return bad("session_idle", "must be at least 1 second");
        }
        if self.session_lifetime < self.session_idle {
            return bad("session_lifetime", "must be at least session_idle");
        }
        if self.max_sessions == 0 {
            return bad("max_sessions", "must be at least 1");
        }
        if self.max_form_bytes < 1024 {
            return bad("max_form_bytes", "must be at least 1024");
        }
        if self.form_timeout.is_zero() {
            return bad("form_timeout", "must be at least 1 second");
        }
        if self.login_failures_per_user == 0 {
            return bad("login_failures_per_user", "must be at least 1");
        }
        if self.login_failures_per_address == 0 {
            return bad("login_failures_per_address", "must be at least 1");
        }
        if self.login_lockout.is_zero() {
            return bad("login_lockout", "must be at least 1 second");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        DashboardConfig::default().validate().unwrap();
    }

    #[test]
    fn each_bad_value_names_its_key() {
        type Spoil = fn(&mut DashboardConfig);
        let cases: [(&str, Spoil); 12] = [
            ("base_path", |c| c.base_path = "/dashboard/".into()),
            ("base_path", |c| c.base_path = String::new()),
            ("base_path", |c| c.base_path = "/".into()),
            ("base_path", |c| c.base_path = "/a\"><script>".into()),
            ("session_idle", |c| c.session_idle = Duration::ZERO),
            ("session_lifetime", |c| c.session_lifetime = Duration::from_secs(1)),
            ("max_sessions", |c| c.max_sessions = 0),
            ("max_form_bytes", |c| c.max_form_bytes = 10),
            ("form_timeout", |c| c.form_timeout = Duration::ZERO),
            ("login_failures_per_user", |c| c.login_failures_per_user = 0),
            ("login_failures_per_address", |c| c.login_failures_per_address = 0),
            ("login_lockout", |c| c.login_lockout = Duration::ZERO),
        ];
        for (key, spoil) in cases {
            let mut config = DashboardConfig::default();
            spoil(&mut config);
            assert_eq!(config.validate().unwrap_err().key, key);
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<DashboardConfig>(r#"{"tsl": true}"#).unwrap_err();
        assert!(err.to_string().contains("tsl"), "{err}");
    }
}
