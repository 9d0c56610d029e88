//! Making the PostgreSQL read model's schema and tables, at open and again
//! when someone dropped them: it is a cache, so a dropped table means
//! "rebuild", not "fail". Done on one connection holding an advisory lock,
//! so processes that notice at once make the tables once.

use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tracing::warn;

use super::CASE_TABLES;
use crate::error::{AppError, Result};

/// Advisory lock key that serialises making the tables ("exhibit-rm").
const TABLES_LOCK: i64 = 0x6578_6869_6269_746d;

/// Creates the schema the connection's `search_path` names (if missing),
/// then the tables; if the cursor table is gone, every table of the read
/// model is dropped and made again, so the next refresh rebuilds it.
pub(super) async fn ensure_tables(pool: &PgPool) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(AppError::db("connect"))?;
    let made = make_under_lock(&mut conn).await;
    if made.is_err() {
        // The session lock must not go back to the pool with the connection.
        conn.close().await.ok();
    }
    made
}

async fn make_under_lock(conn: &mut PoolConnection<Postgres>) -> Result<()> {
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TABLES_LOCK)
        .execute(&mut **conn)
        .await
        .map_err(AppError::db("lock"))?;
    create_schema(conn).await?;
    let present: bool = sqlx::query_scalar("SELECT to_regclass('rm_cases') IS NOT NULL")
        .fetch_one(&mut **conn)
        .await
        .map_err(AppError::db("look for the tables"))?;
    if !present {
        // sqlx's record of the migrations applied goes too, so they run again.
        for table in CASE_TABLES.iter().chain(&["_sqlx_migrations"]) {
            sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                .execute(&mut **conn)
                .await
                .map_err(AppError::db("drop a partial read model"))?;
        }
    }
    // `run_direct`, not `run(&mut conn)`: sqlx's own way around `Acquire`
    // not being general enough for a future that must be `Send`.
    sqlx::migrate!("migrations/postgres").run_direct(&mut **conn).await?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TABLES_LOCK)
        .execute(&mut **conn)
        .await
        .map_err(AppError::db("unlock"))?;
    Ok(())
}

/// Creates the first schema of `search_path` when none of it exists yet.
pub(crate) async fn create_schema(conn: &mut PoolConnection<Postgres>) -> Result<()> {
    let current: Option<String> = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut **conn)
        .await
        .map_err(AppError::db("read the schema"))?;
    if current.is_some() {
        return Ok(());
    }
    let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
        .fetch_one(&mut **conn)
        .await
        .map_err(AppError::db("read search_path"))?;
    let first = path.split(',').next().unwrap_or_default().trim().trim_matches('"');
    if first.is_empty() || first.starts_with('$') {
        return Err(AppError::db("choose a schema")(sqlx::Error::Configuration(
            format!("search_path {path:?} names no schema to create").into(),
        )));
    }
    warn!(schema = first, "creating the read model's schema");
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", first.replace('"', "\"\"")))
        .execute(&mut **conn)
        .await
        .map_err(AppError::db("create the schema"))?;
    Ok(())
}

/// Whether `e` says a table does not exist (`undefined_table`).
pub(super) fn is_undefined_table(e: &AppError) -> bool {
    match e {
        AppError::ReadModel { source, .. } => {
            source.as_database_error().and_then(|d| d.code()).is_some_and(|code| code == "42P01")
        }
        _ => false,
    }
}
