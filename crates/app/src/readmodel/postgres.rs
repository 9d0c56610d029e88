//! The read model in PostgreSQL (sqlx), for the cluster: one database that
//! every worker and API process shares. `postgres://...` chooses it; the
//! schema is the URI's `search_path` (`?options[search_path]=NAME`), made
//! if missing. Compare-and-set on the cursor is the first statement of an
//! apply: a conditional `UPDATE` (or `INSERT ... ON CONFLICT DO NOTHING`)
//! that locks the case's cursor row, so a concurrent writer waits on that
//! lock, then sees the moved cursor and gets `Conflict`.

use std::str::FromStr;

use async_trait::async_trait;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ArtefactManifest;
use sqlx::PgPool;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tracing::{instrument, warn};

use super::CASE_TABLES;
use super::postgres_schema::{ensure_tables, is_undefined_table};
use super::postgres_write::{move_cursor, write_projection};
use super::rows::{corrupt, counted_exhibit, parse_id, parse_json, to_u64};
use super::{CaseSummary, Cursor, ExhibitRow, JobCount, JobStatus, NotableEvent, Problem, Projection, ReadModel};
use crate::error::{AppError, Result};

/// Connections per process: refreshes are short transactions.
const MAX_CONNECTIONS: u32 = 4;

/// A read model in one PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct PostgresReadModel {
    pool: PgPool,
}

impl PostgresReadModel {
    /// Connects to `uri` (`postgres://` or `postgresql://`), creates the
    /// schema its `search_path` names if missing, and runs the migrations.
    #[instrument(skip_all)]
    pub async fn open(uri: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(uri).map_err(AppError::db("parse the PostgreSQL URI"))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(AppError::db("connect"))?;
        ensure_tables(&pool).await?;
        Ok(Self { pool })
    }

    async fn read_cursor(&self, case: &CaseId) -> Result<Option<Cursor>> {
        let row = sqlx::query("SELECT last_seq, entry_sha256 FROM rm_cases WHERE case_id = $1")
            .bind(case.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(AppError::db("read cursor"))?;
        row.map(|r| Ok(Cursor { seq: to_u64(r.get::<i64, _>(0), "cursor")?, entry_sha256: r.get(1) })).transpose()
    }
}

#[async_trait]
impl ReadModel for PostgresReadModel {
    async fn cursor(&self, case: &CaseId) -> Result<Option<Cursor>> {
        match self.read_cursor(case).await {
            // Every refresh starts here: tables someone dropped are made
            // again, empty, and the case is rebuilt from the ledger.
            Err(e) if is_undefined_table(&e) => {
                warn!("the read model's tables are gone; making them again, to rebuild from the ledger");
                ensure_tables(&self.pool).await?;
                self.read_cursor(case).await
            }
            other => other,
        }
    }

    async fn apply(
        &self,
        case: &CaseId,
        expected: Option<&Cursor>,
        next: &Cursor,
        projection: &Projection,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(AppError::db("begin"))?;
        move_cursor(&mut tx, case, expected, next).await?;
        write_projection(&mut tx, case.as_str(), projection).await?;
        tx.commit().await.map_err(AppError::db("commit"))
    }

    async fn drop_case(&self, case: &CaseId) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(AppError::db("begin"))?;
        // The cursor row first: it waits for an apply in flight to finish.
        for table in CASE_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE case_id = $1"))
                .bind(case.as_str())
                .execute(&mut *tx)
                .await
                .map_err(AppError::db("drop case"))?;
        }
        tx.commit().await.map_err(AppError::db("commit"))
    }

    async fn cases(&self) -> Result<Vec<CaseSummary>> {
        let rows = sqlx::query(
            "SELECT c.case_id, c.last_seq, \
             (SELECT COUNT(*) FROM rm_artefacts a WHERE a.case_id = c.case_id), \
             (SELECT COUNT(*) FROM rm_exhibits e WHERE e.case_id = c.case_id) \
             FROM rm_cases c ORDER BY c.case_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(AppError::db("list cases"))?;
        rows.iter()
            .map(|r| {
                Ok(CaseSummary {
                    case: parse_id(r.get(0), "case")?,
                    head_seq: to_u64(r.get(1), "case head")?,
                    artefacts: to_u64(r.get(2), "artefact count")?,
                    exhibits: to_u64(r.get(3), "exhibit count")?,
                })
            })
            .collect()
    }

    async fn artefacts(&self, case: &CaseId, exhibit: Option<&ExhibitRef>) -> Result<Vec<ArtefactManifest>> {
        let sql = "SELECT manifest FROM rm_artefacts WHERE case_id = $1 AND ($2::text IS NULL OR exhibit = $2) \
                   ORDER BY exhibit, has_source, sort_path, id";
        let rows = sqlx::query(sql)
            .bind(case.as_str())
            .bind(exhibit.map(ExhibitRef::as_str))
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list artefacts"))?;
        rows.iter().map(|r| parse_json(r.get::<&str, _>(0), "artefact manifest")).collect()
    }

    async fn flags(&self, case: &CaseId) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query("SELECT flag, COUNT(*) FROM rm_flags WHERE case_id = $1 GROUP BY flag ORDER BY flag")
            .bind(case.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list flags"))?;
        rows.iter().map(|r| Ok((r.get(0), to_u64(r.get(1), "flag count")?))).collect()
    }

    async fn exhibits(&self, case: &CaseId) -> Result<Vec<ExhibitRow>> {
        let rows = sqlx::query("SELECT exhibit, item FROM rm_exhibits WHERE case_id = $1 ORDER BY exhibit")
            .bind(case.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list exhibits"))?;
        rows.iter()
            .map(|r| {
                let item: Option<&str> = r.get(1);
                Ok(ExhibitRow {
                    exhibit: parse_id(r.get(0), "exhibit")?,
                    item: item.map(|i| parse_json(i, "exhibit item")).transpose()?,
                })
            })
            .collect()
    }

    async fn notable_events(&self, case: &CaseId, exhibit: Option<&ExhibitRef>) -> Result<Vec<NotableEvent>> {
        let rows = sqlx::query(
            "SELECT seq, pos, event FROM rm_events WHERE case_id = $1 AND ($2::text IS NULL OR exhibit = $2) \
             ORDER BY seq, pos",
        )
        .bind(case.as_str())
        .bind(exhibit.map(ExhibitRef::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(AppError::db("list events"))?;
        rows.iter()
            .map(|r| {
                Ok(NotableEvent {
                    seq: to_u64(r.get(0), "event seq")?,
                    pos: u32::try_from(r.get::<i64, _>(1)).map_err(|_| corrupt("event pos", "out of range"))?,
                    event: parse_json(r.get::<&str, _>(2), "event")?,
                })
            })
            .collect()
    }

    async fn job_counts(&self, case: &CaseId) -> Result<Vec<JobCount>> {
        let rows = sqlx::query(
            "SELECT exhibit, action, status, count FROM rm_job_counts WHERE case_id = $1 AND count > 0 \
             ORDER BY exhibit, action, status",
        )
        .bind(case.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(AppError::db("count jobs"))?;
        rows.iter()
            .map(|r| {
                let exhibit: &str = r.get(0);
                let status: &str = r.get(2);
                Ok(JobCount {
                    exhibit: counted_exhibit(exhibit)?,
                    action: r.get(1),
                    status: JobStatus::parse(status).ok_or_else(|| corrupt("job status", status))?,
                    count: to_u64(r.get(3), "job count")?,
                })
            })
            .collect()
    }

    async fn job_status(&self, case: &CaseId, job_id: &str) -> Result<Option<JobStatus>> {
        let row = sqlx::query("SELECT status FROM rm_jobs WHERE case_id = $1 AND job_id = $2")
            .bind(case.as_str())
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(AppError::db("read a job's status"))?;
        row.map(|r| {
            let status: &str = r.get(0);
            JobStatus::parse(status).ok_or_else(|| corrupt("job status", status))
        })
        .transpose()
    }

    async fn problems(&self, case: &CaseId) -> Result<Vec<Problem>> {
        let rows = sqlx::query("SELECT seq, text FROM rm_problems WHERE case_id = $1 ORDER BY seq, text")
            .bind(case.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list problems"))?;
        rows.iter().map(|r| Ok(Problem { seq: to_u64(r.get(0), "problem seq")?, text: r.get(1) })).collect()
    }
}
