//! The access state's queries, one text for SQLite and PostgreSQL (both take
//! `$N` placeholders, `RETURNING` and `ON CONFLICT DO NOTHING`), written
//! once by [`access_state_impl`] for each backend's pool type.

use exhibit_core::ids::CaseId;
use time::OffsetDateTime;

use super::{CaseAccess, Org, OrgId, Role, TokenRecord, User};
use crate::error::{AppError, Result};

pub(super) fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

pub(super) fn from_unix(seconds: Option<i64>, what: &str) -> Result<Option<OffsetDateTime>> {
    seconds
        .map(|s| {
            OffsetDateTime::from_unix_timestamp(s)
                .map_err(|_| AppError::Corrupt { what: what.into(), reason: format!("time {s} out of range") })
        })
        .transpose()
}

pub(super) fn role(text: &str) -> Result<Role> {
    text.parse().map_err(|_| AppError::Corrupt { what: "user role".into(), reason: format!("{text:?}") })
}

pub(super) fn case_id(text: &str) -> Result<CaseId> {
    text.parse().map_err(|e: exhibit_core::IdError| AppError::Corrupt { what: "case".into(), reason: e.to_string() })
}

pub(super) fn access(text: &str) -> Result<CaseAccess> {
    match text {
        "owner" => Ok(CaseAccess::Owner),
        "shared" => Ok(CaseAccess::Shared),
        other => Err(AppError::Corrupt { what: "case access".into(), reason: format!("{other:?}") }),
    }
}

/// The key organisation names are unique by.
pub(super) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Checks an organisation or user name: 1 to 200 printable characters,
/// no surrounding spaces.
pub(super) fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.len() <= 200 && name.trim() == name && !name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid {
            what: what.into(),
            reason: format!("{name:?}: give 1 to 200 printable characters, without spaces around them"),
        })
    }
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

pub(super) const USER_COLUMNS: &str = "u.id, u.name, u.role, o.id, o.name";

/// The token query, selecting by `column` = `$1`.
pub(super) fn token_query(column: &str) -> String {
    format!(
        "SELECT {USER_COLUMNS}, t.id, t.expires_at, t.revoked_at FROM ac_tokens t \
         JOIN ac_users u ON u.id = t.user_id JOIN ac_orgs o ON o.id = u.org_id WHERE {column} = $1"
    )
}

/// Every token, as [`token_query`]'s rows, by organisation, user and ID.
pub(super) fn token_list_query() -> String {
    format!(
        "SELECT {USER_COLUMNS}, t.id, t.expires_at, t.revoked_at FROM ac_tokens t \
         JOIN ac_users u ON u.id = t.user_id JOIN ac_orgs o ON o.id = u.org_id ORDER BY o.name, u.name, t.id"
    )
}

/// The user of a row that starts with [`USER_COLUMNS`].
pub(super) fn user_of<R: sqlx::Row>(r: &R) -> Result<User>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    for<'a> &'a str: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let org = Org { id: OrgId(r.try_get(3).map_err(col)?), name: r.try_get(4).map_err(col)? };
    let role_text: String = r.try_get(2).map_err(col)?;
    Ok(User { id: r.try_get(0).map_err(col)?, name: r.try_get(1).map_err(col)?, role: role(&role_text)?, org })
}

/// A token row of [`token_query`].
pub(super) fn token_record<R: sqlx::Row>(r: &R) -> Result<TokenRecord>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    usize: sqlx::ColumnIndex<R>,
    for<'a> &'a str: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(TokenRecord {
        id: r.try_get(5).map_err(col)?,
        user: user_of(r)?,
        expires_at: from_unix(r.try_get(6).map_err(col)?, "token expiry")?,
        revoked_at: from_unix(r.try_get(7).map_err(col)?, "token revocation")?,
    })
}

fn col(e: sqlx::Error) -> AppError {
    AppError::Corrupt { what: "access row".into(), reason: e.to_string() }
}

/// The columns of a [`VisibleCase`](super::VisibleCase) row: storage ID,
/// name, owner's name, access.
const CASE_OWNED: &str = "SELECT c.case_id, c.name, o.name, 'owner' FROM ac_cases c JOIN ac_orgs o ON o.id = c.org_id";
const CASE_SHARED: &str = "SELECT c.case_id, c.name, o.name, 'shared' FROM ac_shares s \
     JOIN ac_cases c ON c.case_key = s.case_key JOIN ac_orgs o ON o.id = c.org_id";

/// The cases organisation `$1` owns or was shared, by name and owner.
pub(super) fn visible_cases_query() -> String {
    format!("{CASE_OWNED} WHERE c.org_id = $1 UNION ALL {CASE_SHARED} WHERE s.org_id = $1 ORDER BY 2, 3")
}

/// The cases named `$1` (name key) that organisation `$2` owns or was
/// shared: its own first, then by owner.
pub(super) fn cases_named_query() -> String {
    format!(
        "{CASE_OWNED} WHERE c.org_id = $2 AND c.name_key = $1 \
         UNION ALL {CASE_SHARED} WHERE s.org_id = $2 AND c.name_key = $1 ORDER BY 4, 3"
    )
}

/// Every case given to an organisation, by storage ID.
pub(super) fn all_cases_query() -> String {
    format!("{CASE_OWNED} ORDER BY c.case_key")
}

/// A row of the case queries above.
pub(super) fn visible_case<R: sqlx::Row>(r: &R) -> Result<super::VisibleCase>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let text = |i: usize| -> Result<String> { r.try_get(i).map_err(col) };
    Ok(super::VisibleCase {
        case: case_id(&text(0)?)?,
        name: case_id(&text(1)?)?,
        owner: text(2)?,
        access: access(&text(3)?)?,
    })
}

/// Implements [`AccessState`](super::AccessState) for `$ty`, whose `pool`
/// field is a pool of database `$db`.
macro_rules! access_state_impl {
    ($ty:ty) => {
        #[async_trait::async_trait]
        impl $crate::access::AccessState for $ty {
            fn intake(&self) -> &dyn $crate::intake::IntakeJournal {
                self
            }

            async fn user_by_id(&self, id: i64) -> $crate::Result<Option<$crate::access::User>> {
                let sql = format!(
                    "SELECT {} FROM ac_users u JOIN ac_orgs o ON o.id = u.org_id WHERE u.id = $1",
                    $crate::access::sql::USER_COLUMNS
                );
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find user"))?;
                row.map(|r| $crate::access::sql::user_of(&r)).transpose()
            }

            async fn add_org(&self, name: &str) -> $crate::Result<$crate::access::Org> {
                use $crate::access::sql::*;
                check_name("organisation name", name)?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO ac_orgs (name, name_key, created_at) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(name)
                .bind(name_key(name))
                .bind(unix(time::OffsetDateTime::now_utc()))
                .fetch_one(&self.pool)
                .await
                .map_err(|e| match is_unique_violation(&e) {
                    true => $crate::AppError::Taken { what: format!("organisation {name:?}") },
                    false => $crate::AppError::db("add organisation")(e),
                })?;
                Ok($crate::access::Org { id: $crate::access::OrgId(id), name: name.to_owned() })
            }

            async fn org(&self, name: &str) -> $crate::Result<Option<$crate::access::Org>> {
                use sqlx::Row;
                let row = sqlx::query("SELECT id, name FROM ac_orgs WHERE name_key = $1")
                    .bind($crate::access::sql::name_key(name))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find organisation"))?;
                Ok(row.map(|r| $crate::access::Org { id: $crate::access::OrgId(r.get(0)), name: r.get(1) }))
            }

            async fn orgs(&self) -> $crate::Result<Vec<$crate::access::Org>> {
                use sqlx::Row;
                let rows = sqlx::query("SELECT id, name FROM ac_orgs ORDER BY name_key")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("list organisations"))?;
                Ok(rows
                    .iter()
                    .map(|r| $crate::access::Org { id: $crate::access::OrgId(r.get(0)), name: r.get(1) })
                    .collect())
            }

            async fn user(
                &self,
                org: &$crate::access::Org,
                name: &str,
                role: $crate::access::Role,
            ) -> $crate::Result<$crate::access::User> {
                use sqlx::Row;
                $crate::access::sql::check_name("user name", name)?;
                sqlx::query("INSERT INTO ac_users (org_id, name, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(org.id.0)
                    .bind(name)
                    .bind(role.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::AppError::db("add user"))?;
                let row = sqlx::query("SELECT id, role FROM ac_users WHERE org_id = $1 AND name = $2")
                    .bind(org.id.0)
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find user"))?;
                let stored = $crate::access::sql::role(row.get::<&str, _>(1))?;
                if stored != role {
                    return Err($crate::AppError::Taken {
                        what: format!("the user name {name:?} of {:?} (role {stored}; {role} was asked for)", org.name),
                    });
                }
                Ok($crate::access::User { id: row.get(0), org: org.clone(), name: name.to_owned(), role })
            }

            async fn add_token(
                &self,
                user: &$crate::access::User,
                token: &$crate::access::IssuedToken,
                expires_at: Option<time::OffsetDateTime>,
            ) -> $crate::Result<()> {
                use $crate::access::sql::unix;
                sqlx::query(
                    "INSERT INTO ac_tokens (id, sha256, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&token.id)
                .bind(&token.hash.0)
                .bind(user.id)
                .bind(unix(time::OffsetDateTime::now_utc()))
                .bind(expires_at.map(unix))
                .execute(&self.pool)
                .await
                .map_err($crate::AppError::db("add token"))?;
                Ok(())
            }

            async fn token(
                &self,
                hash: &$crate::access::TokenHash,
            ) -> $crate::Result<Option<$crate::access::TokenRecord>> {
                let sql = $crate::access::sql::token_query("t.sha256");
                let row = sqlx::query(&sql)
                    .bind(&hash.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find token"))?;
                row.map(|r| $crate::access::sql::token_record(&r)).transpose()
            }

            async fn tokens(&self) -> $crate::Result<Vec<$crate::access::TokenRecord>> {
                let sql = $crate::access::sql::token_list_query();
                let rows =
                    sqlx::query(&sql).fetch_all(&self.pool).await.map_err($crate::AppError::db("list tokens"))?;
                rows.iter().map(|r| $crate::access::sql::token_record(r)).collect()
            }

            async fn token_by_id(&self, id: &str) -> $crate::Result<Option<$crate::access::TokenRecord>> {
                let sql = $crate::access::sql::token_query("t.id");
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find token"))?;
                row.map(|r| $crate::access::sql::token_record(&r)).transpose()
            }

            async fn set_password(
                &self,
                user: &$crate::access::User,
                phc: &str,
                at: time::OffsetDateTime,
            ) -> $crate::Result<()> {
                use $crate::access::sql::*;
                sqlx::query(
                    "INSERT INTO ac_passwords (user_id, login_key, phc, set_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET login_key = $2, phc = $3, set_at = $4",
                )
                .bind(user.id)
                .bind($crate::access::password::login_key(&user.name))
                .bind(phc)
                .bind(unix(at))
                .execute(&self.pool)
                .await
                .map_err(|e| match is_unique_violation(&e) {
                    true => $crate::AppError::Taken {
                        what: format!("the sign-in name {:?} (another organisation's user has it)", user.name),
                    },
                    false => $crate::AppError::db("set password")(e),
                })?;
                Ok(())
            }

            async fn password(&self, login: &str) -> $crate::Result<Option<$crate::access::PasswordRecord>> {
                use sqlx::Row;
                use $crate::access::sql::*;
                let sql = format!(
                    "SELECT {USER_COLUMNS}, p.phc, p.set_at FROM ac_passwords p \
                     JOIN ac_users u ON u.id = p.user_id JOIN ac_orgs o ON o.id = u.org_id WHERE p.login_key = $1"
                );
                let row = sqlx::query(&sql)
                    .bind($crate::access::password::login_key(login))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find password"))?;
                let Some(r) = row else { return Ok(None) };
                let set_at = from_unix(Some(r.get(6)), "password time")?.unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                Ok(Some($crate::access::PasswordRecord { user: user_of(&r)?, phc: r.get(5), set_at }))
            }

            async fn revoke_token(&self, id: &str, at: time::OffsetDateTime) -> $crate::Result<bool> {
                let found = sqlx::query("UPDATE ac_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                    .bind(id)
                    .bind($crate::access::sql::unix(at))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::AppError::db("revoke token"))?;
                Ok(found.rows_affected() > 0)
            }

            async fn add_case(
                &self,
                case: &exhibit_core::ids::CaseId,
                name: &exhibit_core::ids::CaseId,
                org: $crate::access::OrgId,
            ) -> $crate::Result<$crate::access::CaseClaim> {
                use $crate::access::CaseClaim;
                let inserted = sqlx::query(
                    "INSERT INTO ac_cases (case_key, case_id, org_id, created_at, name, name_key) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(case.normalised())
                .bind(case.as_str())
                .bind(org.0)
                .bind($crate::access::sql::unix(time::OffsetDateTime::now_utc()))
                .bind(name.as_str())
                .bind(name.normalised())
                .execute(&self.pool)
                .await
                .map_err($crate::AppError::db("add case"))?;
                if inserted.rows_affected() > 0 {
                    return Ok(CaseClaim::Created);
                }
                let named: Option<String> =
                    sqlx::query_scalar("SELECT case_key FROM ac_cases WHERE org_id = $1 AND name_key = $2")
                        .bind(org.0)
                        .bind(name.normalised())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err($crate::AppError::db("find case"))?;
                Ok(match named {
                    Some(key) if key == case.normalised() => CaseClaim::AlreadyOwned,
                    Some(_) => CaseClaim::NameInUse,
                    None => CaseClaim::IdTaken,
                })
            }

            async fn cases_named(
                &self,
                name: &exhibit_core::ids::CaseId,
                org: $crate::access::OrgId,
            ) -> $crate::Result<Vec<$crate::access::VisibleCase>> {
                let rows = sqlx::query(&$crate::access::sql::cases_named_query())
                    .bind(name.normalised())
                    .bind(org.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find case access"))?;
                rows.iter().map(|r| $crate::access::sql::visible_case(r)).collect()
            }

            async fn visible_cases(
                &self,
                org: $crate::access::OrgId,
            ) -> $crate::Result<Vec<$crate::access::VisibleCase>> {
                let rows = sqlx::query(&$crate::access::sql::visible_cases_query())
                    .bind(org.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("list cases"))?;
                rows.iter().map(|r| $crate::access::sql::visible_case(r)).collect()
            }

            async fn all_cases(&self) -> $crate::Result<Vec<$crate::access::VisibleCase>> {
                let rows = sqlx::query(&$crate::access::sql::all_cases_query())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("list cases"))?;
                rows.iter().map(|r| $crate::access::sql::visible_case(r)).collect()
            }

            async fn share(
                &self,
                case: &exhibit_core::ids::CaseId,
                owner: $crate::access::OrgId,
                with: $crate::access::OrgId,
            ) -> $crate::Result<bool> {
                if owner == with {
                    return Err($crate::AppError::Invalid {
                        what: "share".into(),
                        reason: "an organisation cannot share a case with itself".into(),
                    });
                }
                let owned = sqlx::query("SELECT 1 FROM ac_cases WHERE case_key = $1 AND org_id = $2")
                    .bind(case.normalised())
                    .bind(owner.0)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find case"))?;
                if owned.is_none() {
                    return Ok(false);
                }
                sqlx::query(
                    "INSERT INTO ac_shares (case_key, org_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(case.normalised())
                .bind(with.0)
                .bind($crate::access::sql::unix(time::OffsetDateTime::now_utc()))
                .execute(&self.pool)
                .await
                .map_err($crate::AppError::db("share case"))?;
                Ok(true)
            }

            async fn unshare(
                &self,
                case: &exhibit_core::ids::CaseId,
                owner: $crate::access::OrgId,
                with: $crate::access::OrgId,
            ) -> $crate::Result<bool> {
                let gone = sqlx::query(
                    "DELETE FROM ac_shares WHERE case_key = $1 AND org_id = $3 AND EXISTS \
                     (SELECT 1 FROM ac_cases c WHERE c.case_key = $1 AND c.org_id = $2)",
                )
                .bind(case.normalised())
                .bind(owner.0)
                .bind(with.0)
                .execute(&self.pool)
                .await
                .map_err($crate::AppError::db("unshare case"))?;
                Ok(gone.rows_affected() > 0)
            }
        }
    };
}

pub(super) use access_state_impl;
