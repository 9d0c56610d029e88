//! The dashboard's state: config, hooks, sessions and the stylesheet for
//! this base path. One per server, shared by every request.

use std::sync::Arc;

use axum::http::HeaderMap;
use time::OffsetDateTime;

use crate::config::DashboardConfig;
use crate::cookies;
use crate::error::DashboardError;
use crate::hooks::{Authenticator, DashboardData, Principal};
use crate::session::{Clock, Session, SessionLimits, SessionStore};
use crate::throttle::{LoginThrottle, ThrottleLimits};

/// The dashboard: what [`router`](crate::router) serves.
pub struct Dashboard {
    pub(crate) config: DashboardConfig,
    pub(crate) auth: Arc<dyn Authenticator>,
    pub(crate) data: Arc<dyn DashboardData>,
    pub(crate) sessions: SessionStore,
    pub(crate) throttle: LoginThrottle,
    pub(crate) stylesheet: Vec<u8>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard").field("config", &self.config).field("sessions", &self.sessions).finish()
    }
}

impl Dashboard {
    /// A dashboard over the server's hooks; checks the config first.
    pub fn new(
        config: DashboardConfig,
        auth: Arc<dyn Authenticator>,
        data: Arc<dyn DashboardData>,
    ) -> Result<Self, DashboardError> {
        Self::with_clock(config, auth, data, Arc::new(OffsetDateTime::now_utc))
    }

    /// As [`new`](Self::new), with the sessions' clock given (for tests).
    pub fn with_clock(
        config: DashboardConfig,
        auth: Arc<dyn Authenticator>,
        data: Arc<dyn DashboardData>,
        clock: Clock,
    ) -> Result<Self, DashboardError> {
        config.validate()?;
        let limits =
            SessionLimits { idle: config.session_idle, lifetime: config.session_lifetime, max: config.max_sessions };
        let stylesheet = crate::assets::stylesheet(&config.base_path);
        let throttle = LoginThrottle::new(
            ThrottleLimits {
                per_user: config.login_failures_per_user,
                per_address: config.login_failures_per_address,
                lockout: config.login_lockout,
            },
            clock.clone(),
        );
        Ok(Self { sessions: SessionStore::new(limits, clock), throttle, config, auth, data, stylesheet })
    }

    /// The configuration.
    pub fn config(&self) -> &DashboardConfig {
        &self.config
    }

    /// The live sessions (for tests and metrics).
    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// The request's live session, if its cookie names one.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Option<Session> {
        cookies::session_values(&self.config, headers).iter().find_map(|value| self.sessions.get(value))
    }

    /// The request's signed-in session, after asking the authenticator
    /// whether its principal still may use the service. A principal no
    /// longer valid has their session ended here.
    pub(crate) async fn signed_in(&self, headers: &HeaderMap) -> Result<Option<(Session, Principal)>, DashboardError> {
        let Some(session) = self.session(headers) else { return Ok(None) };
        let Some(principal) = session.principal.clone() else { return Ok(None) };
        let valid = self
            .auth
            .still_valid(&principal)
            .await
            .map_err(|e| DashboardError::Hook { hook: "the authenticator", reason: e.to_string() })?;
        if !valid {
            tracing::info!(org = %principal.org, user = %principal.user, "principal no longer valid; session ended");
            self.sessions.remove(&session.cookie);
            return Ok(None);
        }
        Ok(Some((session, principal)))
    }
}
