//! Who may reach which case through the HTTP API: organisations (forces,
//! the prosecution, defence firms, archives), their users with one role
//! each, API tokens, the organisation that owns each case, and read-only
//! shares of a case with another organisation.
//!
//! Unlike the read model this state is not a cache of the ledger: it is the
//! only record of who may see what. Backends implement [`AccessState`] and
//! must pass [`conformance::run_all`]: SQLite beside the store on the
//! embedded default, PostgreSQL in the cluster.
//!
//! Tokens are never stored: only their SHA-256 ([`token::IssuedToken`]).

pub mod conformance;
pub mod names;
mod open;
pub mod password;
mod postgres;
mod sql;
mod sqlite;
pub mod token;

use async_trait::async_trait;
use exhibit_core::ids::CaseId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{AppError, Result};

pub use open::{default_access_path, open_access_state};
pub use password::PasswordRecord;
pub use postgres::PostgresAccessState;
pub use sqlite::SqliteAccessState;
pub use token::{IssuedToken, TokenHash};

/// An organisation's row ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct OrgId(pub i64);

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Org {
    /// Row ID.
    pub id: OrgId,
    /// Its name, as added.
    pub name: String,
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Creates cases and submits evidence; reads the organisation's cases.
    Submitter,
    /// Reads and downloads the cases the organisation can see.
    Reviewer,
    /// Reads and downloads, for audits.
    Auditor,
    /// Everything a submitter may, and shares cases with other organisations.
    Admin,
}

impl Role {
    /// Every role, in the order the help lists them.
    pub const ALL: [Role; 4] = [Role::Submitter, Role::Reviewer, Role::Auditor, Role::Admin];

    /// The stored and typed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitter => "submitter",
            Self::Reviewer => "reviewer",
            Self::Auditor => "auditor",
            Self::Admin => "admin",
        }
    }

    /// Whether this role may create cases and submit evidence.
    pub fn may_submit(self) -> bool {
        matches!(self, Self::Submitter | Self::Admin)
    }

    /// Whether this role may share the organisation's cases.
    pub fn may_share(self) -> bool {
        self == Self::Admin
    }
}

impl std::str::FromStr for Role {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| AppError::Invalid {
            what: "role".into(),
            reason: format!("{s:?} is not one of submitter, reviewer, auditor, admin"),
        })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Row ID.
    pub id: i64,
    /// Their organisation.
    pub org: Org,
    /// Their name, unique within the organisation.
    pub name: String,
    /// What they may do.
    pub role: Role,
}

/// A stored token: whose it is, and whether it still works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's public ID (the part after `exh_`, before the secret).
    pub id: String,
    /// Whose it is.
    pub user: User,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No token has that hash (or the text is not a token at all).
    Unknown,
    /// It expired.
    Expired,
    /// It was revoked.
    Revoked,
}

impl TokenRefusal {
    /// A stable code for machines (the API's `error` field).
    pub fn code(self) -> &'static str {
        match self {
            Self::Unknown => "unauthenticated",
            Self::Expired => "token_expired",
            Self::Revoked => "token_revoked",
        }
    }

    /// What the person holding the token is told, on every surface (the
    /// API, tus, the dashboard's sign-in).
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "the token is not valid",
            Self::Expired => "the token has expired; ask your administrator for a new one",
            Self::Revoked => "the token was revoked; ask your administrator for a new one",
        }
    }
}

/// How an organisation reaches a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseAccess {
    /// The organisation created it: read and write.
    Owner,
    /// Another organisation shared it: read only.
    Shared,
}

/// A case an organisation can see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisibleCase {
    /// Its storage ID: the store's, the ledger's, the read model's and the
    /// CLI's. Never shown to API clients, who know the case by `name`.
    pub case: CaseId,
    /// The name its owner gave it, unique among the owner's cases.
    pub name: CaseId,
    /// The organisation that owns it.
    pub owner: String,
    /// How this organisation reaches it.
    pub access: CaseAccess,
}

/// What adding a case did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseClaim {
    /// The case is new and now belongs to the organisation.
    Created,
    /// The organisation already owned it, under that name.
    AlreadyOwned,
    /// The organisation already names another case so.
    NameInUse,
    /// Some organisation's case has that storage ID.
    IdTaken,
}

/// The state behind the HTTP API's access control.
///
/// Each case has a storage ID (unique in the store) and a name (unique
/// among its owner's cases); see [`names`]. Both are compared as [`CaseId`]
/// compares them (letter case does not count). Organisation names are
/// unique without regard to letter case.
#[async_trait]
pub trait AccessState: Send + Sync + std::fmt::Debug {
    /// The journal of what the API received, kept in the same database.
    fn intake(&self) -> &dyn crate::intake::IntakeJournal;
    /// The user with this row ID.
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    /// Adds an organisation; [`AppError::Taken`] when the name is taken.
    async fn add_org(&self, name: &str) -> Result<Org>;
    /// The organisation of that name (letter case does not count).
    async fn org(&self, name: &str) -> Result<Option<Org>>;
    /// Every organisation, by name.
    async fn orgs(&self) -> Result<Vec<Org>>;
    /// The user `name` of `org`, made with `role` if new; [`AppError::Taken`]
    /// when the user exists with another role.
    async fn user(&self, org: &Org, name: &str, role: Role) -> Result<User>;
    /// Stores a token's hash for `user`.
    async fn add_token(&self, user: &User, token: &IssuedToken, expires_at: Option<OffsetDateTime>) -> Result<()>;
    /// The token with that hash, revoked and expired ones included.
    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>>;
    /// Every token (never its secret or hash), revoked and expired ones
    /// included, by organisation, user and ID.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;
    /// The token with public ID `id`, revoked and expired ones included.
    async fn token_by_id(&self, id: &str) -> Result<Option<TokenRecord>>;
    /// Sets `user`'s dashboard password to the hash `phc` (see
    /// [`password::hash`]), replacing any earlier one. They sign in with
    /// their user name, which must then be unique across organisations
    /// (letter case does not count): [`AppError::Taken`] otherwise.
    async fn set_password(&self, user: &User, phc: &str, at: OffsetDateTime) -> Result<()>;
    /// The password of the user who signs in as `login` (letter case does
    /// not count), if one was set.
    async fn password(&self, login: &str) -> Result<Option<PasswordRecord>>;
    /// Revokes the token with public ID `id` at `at`; false when there is
    /// no such token. Revoking twice keeps the first time.
    async fn revoke_token(&self, id: &str, at: OffsetDateTime) -> Result<bool>;
    /// Gives the case of storage ID `case` to `org` under `name`, if no
    /// case has that storage ID and `org` names no case so.
    async fn add_case(&self, case: &CaseId, name: &CaseId, org: OrgId) -> Result<CaseClaim>;
    /// The cases named `name` that `org` owns or was shared, its own first
    /// (at most one), then the shared ones by owner. Resolve them with
    /// [`names::resolve`].
    async fn cases_named(&self, name: &CaseId, org: OrgId) -> Result<Vec<VisibleCase>>;
    /// The cases `org` owns or has been shared, by name and owner.
    async fn visible_cases(&self, org: OrgId) -> Result<Vec<VisibleCase>>;
    /// Every case given to an organisation (as its owner sees it), by
    /// storage ID: for the operator, who knows cases by storage ID.
    async fn all_cases(&self) -> Result<Vec<VisibleCase>>;
    /// Shares `case` (owned by `owner`) read-only with `with`; false when
    /// `owner` does not own it. Sharing twice is one share.
    async fn share(&self, case: &CaseId, owner: OrgId, with: OrgId) -> Result<bool>;
    /// Ends a share; false when there was none (or `owner` does not own the case).
    async fn unshare(&self, case: &CaseId, owner: OrgId, with: OrgId) -> Result<bool>;
}

/// Finds the user a presented token belongs to, if it still works at `now`.
pub async fn authenticate(
    state: &dyn AccessState,
    presented: &str,
    now: OffsetDateTime,
) -> Result<std::result::Result<TokenRecord, TokenRefusal>> {
    let Some(hash) = TokenHash::of_presented(presented) else { return Ok(Err(TokenRefusal::Unknown)) };
    let Some(record) = state.token(&hash).await? else { return Ok(Err(TokenRefusal::Unknown)) };
    if record.revoked_at.is_some() {
        return Ok(Err(TokenRefusal::Revoked));
    }
    if record.expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(TokenRefusal::Expired));
    }
    Ok(Ok(record))
}
