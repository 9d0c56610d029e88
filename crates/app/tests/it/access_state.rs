//! The access state (organisations, tokens, cases, shares) passes one
//! conformance suite on SQLite (a file, and in memory) and on PostgreSQL
//! (a fresh schema per check), and is found where `open_access_state`
//! says.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use exhibit_app::access::{
    AccessState, PostgresAccessState, SqliteAccessState, conformance, default_access_path, open_access_state,
};

use crate::pg::{Schema, server};

#[tokio::test]
async fn sqlite_file_passes_the_access_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = AtomicU32::new(0);
    conformance::run_all(|| {
        let path = dir.path().join(format!("access{}.sqlite", counter.fetch_add(1, Ordering::SeqCst)));
        async move { Box::new(SqliteAccessState::open(&path).await.unwrap()) as Box<dyn AccessState> }
    })
    .await;
}

#[tokio::test]
async fn sqlite_in_memory_passes_the_access_suite() {
    conformance::run_all(|| async { Box::new(SqliteAccessState::in_memory().await.unwrap()) as Box<dyn AccessState> })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_access_suite() {
    let Some(base) = server().await else { return };
    let schemas = Mutex::new(Vec::new());
    conformance::run_all(|| async {
        let schema = Schema::new(&base).await;
        let state = PostgresAccessState::open(&schema.uri()).await.unwrap();
        schemas.lock().unwrap().push(schema);
        Box::new(state) as Box<dyn AccessState>
    })
    .await;
}

#[tokio::test]
async fn the_default_state_is_a_file_beside_the_store_that_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let state = open_access_state(None, store.to_str().unwrap()).await.unwrap();
    state.add_org("Force A").await.unwrap();
    drop(state);
    let path = default_access_path(store.to_str().unwrap()).unwrap();
    assert!(path.is_file(), "{}", path.display());
    let again = open_access_state(None, &format!("file://{}", store.display())).await.unwrap();
    assert_eq!(again.orgs().await.unwrap().len(), 1);
    assert!(open_access_state(None, "s3://bucket/prefix").await.is_err(), "no silent state in memory");
    assert!(open_access_state(Some("mysql://x"), "/tmp").await.is_err());
}
