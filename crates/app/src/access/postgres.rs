//! The access state in PostgreSQL, for the cluster: every API process
//! shares it. `[api] state_uri = "postgres://...?options[search_path]=SCHEMA"`;
//! the schema must not be the read model's (each keeps its own sqlx
//! migration record), and is made if missing. Migrations run at open
//! under sqlx's advisory lock.

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tracing::instrument;

use crate::error::{AppError, Result};

/// Connections per process: each request makes one or two short queries.
const MAX_CONNECTIONS: u32 = 8;

/// The access state in one PostgreSQL schema.
#[derive(Debug, Clone)]
pub struct PostgresAccessState {
    pool: PgPool,
}

impl PostgresAccessState {
    /// Connects to `uri`, creates the schema its `search_path` names if
    /// missing, and runs the migrations.
    #[instrument(skip_all)]
    pub async fn open(uri: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(uri).map_err(AppError::db("parse the PostgreSQL URI"))?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(AppError::db("connect"))?;
        let mut conn = pool.acquire().await.map_err(AppError::db("connect"))?;
        crate::readmodel::create_schema(&mut conn).await?;
        sqlx::migrate!("migrations/access-postgres").run_direct(&mut *conn).await?;
        drop(conn);
        Ok(Self { pool })
    }
}

super::sql::access_state_impl!(PostgresAccessState);
crate::intake::intake_journal_impl!(PostgresAccessState, sqlx::postgres::PgRow);
