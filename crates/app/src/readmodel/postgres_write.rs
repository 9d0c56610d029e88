//! Writing a projection to PostgreSQL inside an apply's transaction. An
//! artefact, exhibit item, event or job already there is replaced, as in
//! SQLite. PostgreSQL text cannot hold NUL, which a hostile file name or a
//! job ID in the ledger may: sorted paths are stored as bytes, and free
//! text has NUL shown as U+FFFD (the JSON columns escape it already).

use std::borrow::Cow;

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ArtefactManifest;
use sqlx::{Postgres, Transaction};

use super::rows::{corrupt, to_i64};
use super::{Cursor, Projection};
use crate::error::{AppError, Result};

type Tx<'c> = Transaction<'c, Postgres>;

/// Moves the cursor from `expected` to `next`, or fails with a conflict
/// when another writer moved it first. The statement locks the cursor row
/// until commit; a writer racing it waits, then finds the row changed.
pub(super) async fn move_cursor(
    tx: &mut Tx<'_>,
    case: &CaseId,
    expected: Option<&Cursor>,
    next: &Cursor,
) -> Result<()> {
    let moved = match expected {
        Some(at) => sqlx::query(
            "UPDATE rm_cases SET last_seq = $1, entry_sha256 = $2 \
             WHERE case_id = $3 AND last_seq = $4 AND entry_sha256 = $5",
        )
        .bind(to_i64(next.seq)?)
        .bind(&next.entry_sha256)
        .bind(case.as_str())
        .bind(to_i64(at.seq)?)
        .bind(&at.entry_sha256),
        None => sqlx::query(
            "INSERT INTO rm_cases (case_id, last_seq, entry_sha256) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(case.as_str())
        .bind(to_i64(next.seq)?)
        .bind(&next.entry_sha256),
    }
    .execute(&mut **tx)
    .await
    .map_err(AppError::db("move cursor"))?;
    if moved.rows_affected() == 1 { Ok(()) } else { Err(AppError::Conflict { case: case.to_string() }) }
}

/// Writes every part of `p` for `case`.
pub(super) async fn write_projection(tx: &mut Tx<'_>, case: &str, p: &Projection) -> Result<()> {
    for m in &p.artefacts {
        write_artefact(tx, case, m).await?;
    }
    for (exhibit, item) in &p.exhibits {
        sqlx::query(
            "INSERT INTO rm_exhibits (case_id, exhibit, item) VALUES ($1, $2, $3) \
             ON CONFLICT (case_id, exhibit) DO UPDATE SET item = COALESCE(excluded.item, rm_exhibits.item)",
        )
        .bind(case)
        .bind(exhibit.as_str())
        .bind(item.as_ref().map(serde_json::Value::to_string))
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write exhibit"))?;
    }
    write_events(tx, case, p).await?;
    write_jobs_and_problems(tx, case, p).await
}

async fn write_events(tx: &mut Tx<'_>, case: &str, p: &Projection) -> Result<()> {
    for n in &p.notable {
        let event = serde_json::to_string(&n.event).map_err(|e| corrupt("event", &e.to_string()))?;
        sqlx::query(
            "INSERT INTO rm_events (case_id, seq, pos, exhibit, event) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (case_id, seq, pos) DO UPDATE SET exhibit = excluded.exhibit, event = excluded.event",
        )
        .bind(case)
        .bind(to_i64(n.seq)?)
        .bind(i64::from(n.pos))
        .bind(n.event.exhibit.as_ref().map(ExhibitRef::as_str))
        .bind(event)
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write event"))?;
    }
    Ok(())
}

async fn write_jobs_and_problems(tx: &mut Tx<'_>, case: &str, p: &Projection) -> Result<()> {
    for j in &p.jobs {
        sqlx::query(
            "INSERT INTO rm_jobs (case_id, job_id, exhibit, action, status) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (case_id, job_id) DO UPDATE SET exhibit = excluded.exhibit, action = excluded.action, \
             status = excluded.status",
        )
        .bind(case)
        .bind(text(&j.job_id))
        .bind(j.exhibit.as_ref().map(ExhibitRef::as_str))
        .bind(text(&j.action))
        .bind(j.status.as_str())
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write job"))?;
    }
    for problem in &p.problems {
        sqlx::query("INSERT INTO rm_problems (case_id, seq, text) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(case)
            .bind(to_i64(problem.seq)?)
            .bind(text(&problem.text))
            .execute(&mut **tx)
            .await
            .map_err(AppError::db("write problem"))?;
    }
    Ok(())
}

async fn write_artefact(tx: &mut Tx<'_>, case: &str, m: &ArtefactManifest) -> Result<()> {
    let json = serde_json::to_string(m).map_err(|e| corrupt("artefact manifest", &e.to_string()))?;
    let path = m.source.as_ref().map(|s| s.path.display.as_bytes());
    sqlx::query(
        "INSERT INTO rm_artefacts (case_id, id, exhibit, has_source, sort_path, manifest) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (case_id, id) DO UPDATE SET exhibit = excluded.exhibit, \
         has_source = excluded.has_source, sort_path = excluded.sort_path, manifest = excluded.manifest",
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
    sqlx::query("DELETE FROM rm_flags WHERE case_id = $1 AND id = $2")
        .bind(case)
        .bind(m.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(AppError::db("write flags"))?;
    for flag in &m.flags {
        sqlx::query("INSERT INTO rm_flags (case_id, id, flag) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(case)
            .bind(m.id.as_str())
            .bind(text(flag))
            .execute(&mut **tx)
            .await
            .map_err(AppError::db("write flag"))?;
    }
    Ok(())
}

/// `s` as PostgreSQL text can hold it: NUL becomes U+FFFD.
fn text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') { Cow::Owned(s.replace('\0', "\u{FFFD}")) } else { Cow::Borrowed(s) }
}
