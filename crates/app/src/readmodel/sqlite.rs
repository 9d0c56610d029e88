//! The read model in SQLite (sqlx): a file beside the store on the embedded
//! default, or in memory. WAL mode and a busy timeout let several processes
//! share one file; the cursor update is the first write of every apply, so
//! a writer takes the lock before it reads anything it relies on.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ArtefactManifest;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

use super::CASE_TABLES;
use super::rows::{corrupt, counted_exhibit, parse_id, parse_json, to_i64, to_u64};
use super::{CaseSummary, Cursor, ExhibitRow, JobCount, JobStatus, NotableEvent, Problem, Projection, ReadModel};
use crate::error::{AppError, Result};

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A read model in one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteReadModel {
    pool: SqlitePool,
}

impl SqliteReadModel {
    /// Opens (creating if needed) the database file at `path` and runs the
    /// migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        Self::connect(options, 4).await
    }

    /// A read model that lives in this process only (one connection, so
    /// every query sees the same database).
    pub async fn in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").map_err(AppError::db("open in memory"))?;
        Self::connect(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions, connections: u32) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .map_err(AppError::db("open"))?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl ReadModel for SqliteReadModel {
    async fn cursor(&self, case: &CaseId) -> Result<Option<Cursor>> {
        let row = sqlx::query("SELECT last_seq, entry_sha256 FROM rm_cases WHERE case_id = ?")
            .bind(case.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(AppError::db("read cursor"))?;
        row.map(|r| Ok(Cursor { seq: to_u64(r.get::<i64, _>(0), "cursor")?, entry_sha256: r.get(1) })).transpose()
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
        for table in CASE_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE case_id = ?"))
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
        let sql = "SELECT manifest FROM rm_artefacts WHERE case_id = ? AND (? IS NULL OR exhibit = ?) \
                   ORDER BY exhibit, has_source, sort_path, id";
        let exhibit = exhibit.map(ExhibitRef::as_str);
        let rows = sqlx::query(sql)
            .bind(case.as_str())
            .bind(exhibit)
            .bind(exhibit)
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list artefacts"))?;
        rows.iter().map(|r| parse_json(r.get::<&str, _>(0), "artefact manifest")).collect()
    }

    async fn flags(&self, case: &CaseId) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query("SELECT flag, COUNT(*) FROM rm_flags WHERE case_id = ? GROUP BY flag ORDER BY flag")
            .bind(case.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list flags"))?;
        rows.iter().map(|r| Ok((r.get(0), to_u64(r.get(1), "flag count")?))).collect()
    }

    async fn exhibits(&self, case: &CaseId) -> Result<Vec<ExhibitRow>> {
        let rows = sqlx::query("SELECT exhibit, item FROM rm_exhibits WHERE case_id = ? ORDER BY exhibit")
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
        let exhibit = exhibit.map(ExhibitRef::as_str);
        let rows = sqlx::query(
            "SELECT seq, pos, event FROM rm_events WHERE case_id = ? AND (? IS NULL OR exhibit = ?) ORDER BY seq, pos",
        )
        .bind(case.as_str())
        .bind(exhibit)
        .bind(exhibit)
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
            "SELECT exhibit, action, status, count FROM rm_job_counts WHERE case_id = ? AND count > 0 \
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
        let row = sqlx::query("SELECT status FROM rm_jobs WHERE case_id = ? AND job_id = ?")
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
        let rows = sqlx::query("SELECT seq, text FROM rm_problems WHERE case_id = ? ORDER BY seq, text")
            .bind(case.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(AppError::db("list problems"))?;
        rows.iter().map(|r| Ok(Problem { seq: to_u64(r.get(0), "problem seq")?, text: r.get(1) })).collect()
    }
}

/// Moves the cursor from `expected` to `next`, or fails with a conflict
/// when another writer moved it first.
async fn move_cursor(
    tx: &mut Transaction<'_, Sqlite>,
    case: &CaseId,
    expected: Option<&Cursor>,
    next: &Cursor,
) -> Result<()> {
    let moved = match expected {
        Some(at) => sqlx::query(
            "UPDATE rm_cases SET last_seq = ?, entry_sha256 = ? WHERE case_id = ? AND last_seq = ? AND entry_sha256 = ?",
        )
        .bind(to_i64(next.seq)?)
        .bind(&next.entry_sha256)
        .bind(case.as_str())
        .bind(to_i64(at.seq)?)
        .bind(&at.entry_sha256),
        None => sqlx::query("INSERT INTO rm_cases (case_id, last_seq, entry_sha256) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(case.as_str())
            .bind(to_i64(next.seq)?)
            .bind(&next.entry_sha256),
    }
    .execute(&mut **tx)
    .await
    .map_err(AppError::db("move cursor"))?;
    if moved.rows_affected() == 1 { Ok(()) } else { Err(AppError::Conflict { case: case.to_string() }) }
}

async fn write_projection(tx: &mut Transaction<'_, Sqlite>, case: &str, p: &Projection) -> Result<()> {
    for m in &p.artefacts {
        write_artefact(tx, case, m).await?;
    }
    for (exhibit, item) in &p.exhibits {
        let item = item.as_ref().map(serde_json::Value::to_string);
        sqlx::query(
            "INSERT INTO rm_exhibits (case_id, exhibit, item) VALUES (?, ?, ?) \
             ON CONFLICT (case_id, exhibit) DO UPDATE SET item = COALESCE(excluded.item, rm_exhibits.item)",
        )
        .bind(case)
        .bind(exhibit.as_str())
        .bind(item)
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write exhibit"))?;
    }
    for n in &p.notable {
        let event = serde_json::to_string(&n.event).map_err(|e| corrupt("event", &e.to_string()))?;
        sqlx::query("INSERT OR REPLACE INTO rm_events (case_id, seq, pos, exhibit, event) VALUES (?, ?, ?, ?, ?)")
            .bind(case)
            .bind(to_i64(n.seq)?)
            .bind(i64::from(n.pos))
            .bind(n.event.exhibit.as_ref().map(ExhibitRef::as_str))
            .bind(event)
            .execute(&mut **tx)
            .await
            .map_err(AppError::db("write event"))?;
    }
    for j in &p.jobs {
        sqlx::query(
            "INSERT INTO rm_jobs (case_id, job_id, exhibit, action, status) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (case_id, job_id) DO UPDATE SET exhibit = excluded.exhibit, action = excluded.action, \
             status = excluded.status",
        )
        .bind(case)
        .bind(&j.job_id)
        .bind(j.exhibit.as_ref().map(ExhibitRef::as_str))
        .bind(&j.action)
        .bind(j.status.as_str())
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write job"))?;
    }
    for problem in &p.problems {
        sqlx::query("INSERT OR IGNORE INTO rm_problems (case_id, seq, text) VALUES (?, ?, ?)")
            .bind(case)
            .bind(to_i64(problem.seq)?)
            .bind(&problem.text)
            .execute(&mut **tx)
            .await
            .map_err(AppError::db("write problem"))?;
    }
    Ok(())
}

async fn write_artefact(tx: &mut Transaction<'_, Sqlite>, case: &str, m: &ArtefactManifest) -> Result<()> {
    let json = serde_json::to_string(m).map_err(|e| corrupt("artefact manifest", &e.to_string()))?;
    let path = m.source.as_ref().map(|s| s.path.display.as_str());
    sqlx::query(
        "INSERT OR REPLACE INTO rm_artefacts (case_id, id, exhibit, has_source, sort_path, manifest) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(case)
    .bind(m.id.as_str())
    .bind(m.exhibit.as_str())
    .bind(path.is_some())
    .bind(path.unwrap_or_default())
    .bind(json)
    .execute(&mut **tx)
    .await
    .map_err(AppError::db("write artefact"))?;
    sqlx::query("DELETE FROM rm_flags WHERE case_id = ? AND id = ?")
        .bind(case)
        .bind(m.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write flags"))?;
    for flag in &m.flags {
        sqlx::query("INSERT OR IGNORE INTO rm_flags (case_id, id, flag) VALUES (?, ?, ?)")
            .bind(case)
            .bind(m.id.as_str())
            .bind(flag)
            .execute(&mut **tx)
            .await
            .map_err(AppError::db("write flag"))?;
    }
    Ok(())
}
