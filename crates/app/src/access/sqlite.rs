//! The access state in SQLite: `<store>/.exhibit/access.sqlite` on the
//! embedded default (a file of its own, not the read model's: the read
//! model is a cache that may be deleted, this is not), or in memory for
//! tests. WAL and a busy timeout, as the read model.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{AppError, Result};

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The access state in one SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteAccessState {
    pool: SqlitePool,
}

impl SqliteAccessState {
    /// Opens (creating if needed) the database file at `path` and runs the
    /// migrations. `synchronous=FULL`: a token or share must survive a
    /// power cut once the command that made it returned.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        Self::connect(options, 4).await
    }

    /// A state that lives in this process only (one connection).
    pub async fn in_memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(AppError::db("open in memory"))?
            .foreign_keys(true);
        Self::connect(options, 1).await
    }

    async fn connect(options: SqliteConnectOptions, connections: u32) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(connections)
            .connect_with(options)
            .await
            .map_err(AppError::db("open the access state"))?;
        sqlx::migrate!("migrations/access-sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

super::sql::access_state_impl!(SqliteAccessState);
crate::intake::intake_journal_impl!(SqliteAccessState, sqlx::sqlite::SqliteRow);
