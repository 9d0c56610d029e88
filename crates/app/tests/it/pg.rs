//! A PostgreSQL schema of its own for each test: made fresh, reached
//! through the URI's `search_path`, and dropped afterwards, so runs never
//! collide. Without a server at 127.0.0.1:5432 the tests skip with a
//! message, and fail under `CI=true`.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Users tried on the test server (trust auth, database `test`).
const USERS: [&str; 2] = ["postgres", "root"];

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The server's base URI (`$EXHIBIT_TEST_POSTGRES`, or the first user
/// that connects), or `None` (skip) when there is none outside CI.
pub async fn server() -> Option<String> {
    let candidates: Vec<String> = match std::env::var("EXHIBIT_TEST_POSTGRES") {
        Ok(uri) => vec![uri],
        Err(_) => USERS.iter().map(|u| format!("postgres://{u}@127.0.0.1:5432/test")).collect(),
    };
    let mut errors = Vec::new();
    for uri in candidates {
        match PgConnection::connect(&uri).await {
            Ok(conn) => {
                conn.close().await.ok();
                return Some(uri);
            }
            Err(e) => errors.push(format!("{uri}: {e}")),
        }
    }
    let message = format!("no PostgreSQL for the read-model tests: {}", errors.join("; "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

/// A fresh schema, dropped (with everything in it) when this goes.
pub struct Schema {
    base: String,
    pub name: String,
}

impl Schema {
    /// Makes a schema no other run uses.
    pub async fn new(base: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("rm_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let mut conn = PgConnection::connect(base).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {name}")).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        Self { base: base.to_owned(), name }
    }

    /// The read-model URI of this schema.
    pub fn uri(&self) -> String {
        format!("{}?options[search_path]={}", self.base, self.name)
    }

    /// A connection of its own, in this schema, to alter it behind the
    /// read model's back.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.uri()).await.unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut conn = PgConnection::connect(&base).await?;
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).execute(&mut conn).await?;
                conn.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test schema {}: {dropped:?}", self.name);
        }
    }
}
