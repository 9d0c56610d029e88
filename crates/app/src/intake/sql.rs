//! The intake journal's queries, one text for SQLite and PostgreSQL, as the
//! access state's ([`crate::access`]): written once by
//! [`intake_journal_impl`] for each backend's pool type.

use exhibit_core::Sha256Digest;
use exhibit_core::ids::{CaseId, ExhibitRef};
use time::OffsetDateTime;

use super::UploadState;
use crate::error::{AppError, Result};

/// A failed upload (`u`) whose file was ingested since, by another upload
/// of the same bytes into the same exhibit (a PUT sent again): resolved, so
/// neither listed nor counted as a failure.
pub(crate) const SUPERSEDED: &str = "u.state = 'failed' AND EXISTS (SELECT 1 FROM in_uploads d \
     WHERE d.case_key = u.case_key AND d.exhibit = u.exhibit AND d.sha256 = u.sha256 AND d.state = 'done')";

/// A refusal (`r`) whose bytes were stored since: its tus upload was
/// completed (the chunk sent again), or the same file of the same exhibit
/// was ingested after it, in a later second (a PUT sent again). Not
/// listed any more.
pub(crate) const REFUSAL_RESOLVED: &str = "EXISTS (SELECT 1 FROM in_uploads d \
     WHERE d.case_key = r.case_key AND d.state = 'done' AND (d.id = r.upload_id \
     OR (d.exhibit = r.exhibit AND d.filename = r.filename AND d.updated_at > r.at)))";

pub(crate) const UPLOAD_COLUMNS: &str =
    "id, case_id, org_id, operator, exhibit, filename, size, sha256, state, reason, updated_at";

fn corrupt(what: &str, reason: impl Into<String>) -> AppError {
    AppError::Corrupt { what: what.into(), reason: reason.into() }
}

pub(crate) fn parse_at(seconds: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| corrupt("intake time", format!("{seconds}")))
}

pub(crate) fn parse_case(text: &str) -> Result<CaseId> {
    text.parse().map_err(|e: exhibit_core::IdError| corrupt("intake case", e.to_string()))
}

pub(crate) fn parse_exhibit(text: &str) -> Result<ExhibitRef> {
    text.parse().map_err(|e: exhibit_core::IdError| corrupt("intake exhibit", e.to_string()))
}

pub(crate) fn parse_sha256(text: &str) -> Result<Sha256Digest> {
    text.parse().map_err(|_| corrupt("intake sha256", text.to_owned()))
}

pub(crate) fn parse_state(text: &str) -> Result<UploadState> {
    UploadState::parse(text).ok_or_else(|| corrupt("upload state", text.to_owned()))
}

pub(crate) fn parse_size(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| corrupt("upload size", value.to_string()))
}

pub(crate) fn stored_size(value: u64) -> Result<i64> {
    i64::try_from(value)
        .map_err(|_| AppError::Invalid { what: "upload size".into(), reason: format!("{value} is too large") })
}

/// Implements [`IntakeJournal`](super::IntakeJournal) for `$ty`, whose
/// `pool` field is a pool of SQLite or PostgreSQL whose rows are `$row`.
macro_rules! intake_journal_impl {
    ($ty:ty, $row:ty) => {
        #[async_trait::async_trait]
        impl $crate::intake::IntakeJournal for $ty {
            async fn record_upload(&self, e: &$crate::intake::UploadEntry) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO in_uploads (id, case_key, case_id, org_id, operator, exhibit, filename, size, \
                     sha256, state, reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                     ON CONFLICT (id) DO UPDATE SET state = excluded.state, reason = excluded.reason, \
                     updated_at = excluded.updated_at",
                )
                .bind(&e.id)
                .bind(e.case.normalised())
                .bind(e.case.as_str())
                .bind(e.org.0)
                .bind($crate::intake::storable(&e.operator))
                .bind(e.exhibit.as_str())
                .bind($crate::intake::storable(&e.filename))
                .bind($crate::intake::sql::stored_size(e.size)?)
                .bind(e.sha256.to_hex())
                .bind(e.state.as_str())
                .bind(e.reason.as_deref().map($crate::intake::storable))
                .bind(e.updated_at.unix_timestamp())
                .execute(&self.pool)
                .await
                .map_err($crate::AppError::db("record upload"))?;
                Ok(())
            }

            async fn set_upload_state(
                &self,
                id: &str,
                state: $crate::intake::UploadState,
                reason: Option<&str>,
                at: time::OffsetDateTime,
            ) -> $crate::Result<bool> {
                let done = sqlx::query("UPDATE in_uploads SET state = $2, reason = $3, updated_at = $4 WHERE id = $1")
                    .bind(id)
                    .bind(state.as_str())
                    .bind(reason.map($crate::intake::storable))
                    .bind(at.unix_timestamp())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::AppError::db("set upload state"))?;
                Ok(done.rows_affected() > 0)
            }

            async fn upload(
                &self,
                case: &exhibit_core::ids::CaseId,
                id: &str,
            ) -> $crate::Result<Option<$crate::intake::UploadEntry>> {
                let sql = format!(
                    "SELECT {} FROM in_uploads WHERE case_key = $1 AND id = $2",
                    $crate::intake::sql::UPLOAD_COLUMNS
                );
                let row = sqlx::query(&sql)
                    .bind(case.normalised())
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find upload"))?;
                row.map(|r| upload_entry(&r)).transpose()
            }

            async fn uploads_with_sha256(
                &self,
                case: &exhibit_core::ids::CaseId,
                sha256: &exhibit_core::Sha256Digest,
            ) -> $crate::Result<Vec<$crate::intake::UploadEntry>> {
                let sql = format!(
                    "SELECT {} FROM in_uploads WHERE case_key = $1 AND sha256 = $2 ORDER BY updated_at DESC, id",
                    $crate::intake::sql::UPLOAD_COLUMNS
                );
                let rows = sqlx::query(&sql)
                    .bind(case.normalised())
                    .bind(sha256.to_hex())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("find uploads by sha256"))?;
                rows.iter().map(upload_entry).collect()
            }

            async fn record_refusal(&self, r: &$crate::intake::Refusal) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO in_refusals (case_key, org_id, operator, exhibit, filename, upload_id, reason, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(r.case.normalised())
                .bind(r.org.0)
                .bind($crate::intake::storable(&r.operator))
                .bind(r.exhibit.as_deref().map($crate::intake::storable))
                .bind(r.filename.as_deref().map($crate::intake::storable))
                .bind(r.upload.as_deref())
                .bind($crate::intake::storable(&r.reason))
                .bind(r.at.unix_timestamp())
                .execute(&self.pool)
                .await
                .map_err($crate::AppError::db("record refusal"))?;
                Ok(())
            }

            async fn add_submission(
                &self,
                s: &$crate::intake::Submission,
                rows: &[$crate::intake::SubmissionRow],
            ) -> $crate::Result<()> {
                let mut tx = self.pool.begin().await.map_err($crate::AppError::db("begin submission"))?;
                sqlx::query(
                    "INSERT INTO in_submissions (id, case_key, org_id, operator, manifest_sha256, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&s.id)
                .bind(s.case.normalised())
                .bind(s.org.0)
                .bind($crate::intake::storable(&s.operator))
                .bind(s.manifest_sha256.to_hex())
                .bind(s.created_at.unix_timestamp())
                .execute(&mut *tx)
                .await
                .map_err($crate::AppError::db("add submission"))?;
                for (n, row) in rows.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO in_submission_rows (submission_id, n, place, exhibit, upload_id, accepted, reason) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&s.id)
                    .bind(n as i64)
                    .bind(&row.place)
                    .bind(row.exhibit.as_deref().map($crate::intake::storable))
                    .bind(row.upload.as_deref())
                    .bind(i64::from(row.accepted))
                    .bind(row.reason.as_deref().map($crate::intake::storable))
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::AppError::db("add submission row"))?;
                }
                tx.commit().await.map_err($crate::AppError::db("commit submission"))?;
                Ok(())
            }

            async fn submission(
                &self,
                case: &exhibit_core::ids::CaseId,
                id: &str,
            ) -> $crate::Result<Option<($crate::intake::Submission, Vec<$crate::intake::SubmissionRow>)>> {
                use sqlx::Row;
                use $crate::intake::sql as q;
                let found = sqlx::query(
                    "SELECT s.id, s.org_id, s.operator, s.manifest_sha256, s.created_at FROM in_submissions s \
                     WHERE s.id = $1 AND s.case_key = $2",
                )
                .bind(id)
                .bind(case.normalised())
                .fetch_optional(&self.pool)
                .await
                .map_err($crate::AppError::db("find submission"))?;
                let Some(s) = found else { return Ok(None) };
                let submission = $crate::intake::Submission {
                    id: s.get(0),
                    case: case.clone(),
                    org: $crate::access::OrgId(s.get(1)),
                    operator: s.get(2),
                    manifest_sha256: q::parse_sha256(s.get::<&str, _>(3))?,
                    created_at: q::parse_at(s.get(4))?,
                };
                let rows = sqlx::query(
                    "SELECT r.place, r.exhibit, r.upload_id, r.accepted, r.reason, u.state, u.reason \
                     FROM in_submission_rows r LEFT JOIN in_uploads u ON u.id = r.upload_id \
                     WHERE r.submission_id = $1 ORDER BY r.n",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await
                .map_err($crate::AppError::db("read submission rows"))?;
                let rows = rows
                    .iter()
                    .map(|r| {
                        Ok($crate::intake::SubmissionRow {
                            place: r.get(0),
                            exhibit: r.get(1),
                            upload: r.get(2),
                            accepted: r.get::<i64, _>(3) != 0,
                            reason: r.get(4),
                            upload_state: r.get::<Option<&str>, _>(5).map(q::parse_state).transpose()?,
                            upload_reason: r.get(6),
                        })
                    })
                    .collect::<$crate::Result<Vec<_>>>()?;
                Ok(Some((submission, rows)))
            }

            async fn case_intake(&self, case: &exhibit_core::ids::CaseId) -> $crate::Result<$crate::intake::CaseIntake> {
                use sqlx::Row;
                use $crate::intake::sql as q;
                let mut intake = $crate::intake::CaseIntake::default();
                let counts = sqlx::query(&format!(
                    "SELECT state, COUNT(*) FROM in_uploads u WHERE case_key = $1 AND NOT ({}) GROUP BY state",
                    q::SUPERSEDED
                ))
                        .bind(case.normalised())
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::AppError::db("count uploads"))?;
                for r in &counts {
                    intake.counts.add(q::parse_state(r.get::<&str, _>(0))?, q::parse_size(r.get(1))?);
                }
                let sql = format!(
                    "SELECT {} FROM in_uploads u WHERE case_key = $1 AND state = 'failed' AND NOT ({}) \
                     ORDER BY updated_at DESC, id LIMIT {}",
                    q::UPLOAD_COLUMNS,
                    q::SUPERSEDED,
                    $crate::intake::MAX_LISTED
                );
                let failed = sqlx::query(&sql)
                    .bind(case.normalised())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("list failed uploads"))?;
                intake.failed = failed.iter().map(upload_entry).collect::<$crate::Result<_>>()?;
                let sql = format!(
                    "SELECT org_id, operator, exhibit, filename, upload_id, reason, at FROM in_refusals r \
                     WHERE case_key = $1 AND NOT ({}) ORDER BY id DESC LIMIT {}",
                    q::REFUSAL_RESOLVED,
                    $crate::intake::MAX_LISTED
                );
                let refusals = sqlx::query(&sql)
                    .bind(case.normalised())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::AppError::db("list refusals"))?;
                intake.refusals = refusals
                    .iter()
                    .map(|r| {
                        Ok($crate::intake::Refusal {
                            case: case.clone(),
                            org: $crate::access::OrgId(r.get(0)),
                            operator: r.get(1),
                            exhibit: r.get(2),
                            filename: r.get(3),
                            upload: r.get(4),
                            reason: r.get(5),
                            at: q::parse_at(r.get(6))?,
                        })
                    })
                    .collect::<$crate::Result<_>>()?;
                Ok(intake)
            }
        }

        fn upload_entry(r: &$row) -> $crate::Result<$crate::intake::UploadEntry> {
            use sqlx::Row;
            use $crate::intake::sql as q;
            Ok($crate::intake::UploadEntry {
                id: r.get(0),
                case: q::parse_case(r.get::<&str, _>(1))?,
                org: $crate::access::OrgId(r.get(2)),
                operator: r.get(3),
                exhibit: q::parse_exhibit(r.get::<&str, _>(4))?,
                filename: r.get(5),
                size: q::parse_size(r.get(6))?,
                sha256: q::parse_sha256(r.get::<&str, _>(7))?,
                state: q::parse_state(r.get::<&str, _>(8))?,
                reason: r.get(9),
                updated_at: q::parse_at(r.get(10))?,
            })
        }
    };
}

pub(crate) use intake_journal_impl;
