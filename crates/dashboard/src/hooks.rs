//! What the server supplies: who is signing in ([`Authenticator`]) and
//! what they may see ([`DashboardData`]).

use async_trait::async_trait;
use exhibit_core::CaseId;
use serde::{Deserialize, Serialize};

use crate::model::{CaseDetail, CaseSummary};

/// A signed-in user. Everything the dashboard shows is asked for on their
/// behalf; `org` decides which cases they see.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// The organisation the user acts for.
    pub org: String,
    /// The user (or token) within it.
    pub user: String,
    /// Their role, shown beside their name (e.g. `reviewer`).
    pub role: String,
    /// What they signed in with, in the authenticator's own terms (a
    /// token's ID, a password's version), for [`Authenticator::still_valid`].
    /// Never shown; empty when the authenticator needs none.
    #[serde(default)]
    pub credential: String,
}

/// What the login form sent: an API token, or a user name and password.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An API token, as issued by `exhibit admin token add`.
    Token(String),
    /// A user name and password.
    Password {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Credentials {
    // Never print a secret, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(..)"),
            Self::Password { username, .. } => f.debug_struct("Password").field("username", username).finish(),
        }
    }
}

/// Why a hook gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// The credentials are wrong, expired or revoked (the login page says
    /// so, without saying which).
    #[error("credentials refused: {0}")]
    Refused(String),
    /// The hook itself failed (answered with the error page, 500).
    #[error("{0}")]
    Failed(String),
}

/// Checks credentials from the login form, and whether a signed-in
/// principal still may use the service.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// The principal these credentials belong to, or
    /// [`HookError::Refused`].
    async fn authenticate(&self, credentials: &Credentials) -> Result<Principal, HookError>;

    /// Whether `principal` still may use the service (their token or user
    /// not revoked or expired). Asked on every request, so revoking ends a
    /// session at once; `false` signs the session out.
    async fn still_valid(&self, principal: &Principal) -> Result<bool, HookError>;
}

/// The cases a principal may see. Implementations decide visibility: a
/// case of another organisation that is not shared with the principal's
/// is `None`, exactly as a case that does not exist (the dashboard answers
/// 404 for both).
#[async_trait]
pub trait DashboardData: Send + Sync + 'static {
    /// Every case the principal may see, in the order to list them.
    async fn cases(&self, principal: &Principal) -> Result<Vec<CaseSummary>, HookError>;

    /// One case, or `None` when the principal may not see it or it does
    /// not exist. `owner` (an organisation's name, from the page's
    /// `?owner=`) picks among cases of one name that several
    /// organisations own.
    async fn case(
        &self,
        principal: &Principal,
        case: &CaseId,
        owner: Option<&str>,
    ) -> Result<Option<CaseDetail>, HookError>;

    /// The organisations whose cases named `case` the principal may see,
    /// when the name alone picks none of them (several organisations
    /// shared a case of that name, and the principal's owns none): the
    /// page then asks which, linking each with `?owner=`. Empty when the
    /// name picks a case or none is visible. The default knows of no
    /// owners, and such a page is then not found.
    async fn owners_of_name(&self, principal: &Principal, case: &CaseId) -> Result<Vec<String>, HookError> {
        let _ = (principal, case);
        Ok(Vec::new())
    }
}
