//! The access state (organisations, tokens, cases, shares) passes one
//! conformance suite on SQLite (a file, and in memory) and on PostgreSQL
//! (a fresh schema per check), and is found where `open_access_state`
//! says.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use exhibit_app::access::{
    AccessState, CaseAccess, CaseClaim, PostgresAccessState, SqliteAccessState, conformance, default_access_path,
    names, open_access_state,
};
use exhibit_core::ids::CaseId;

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

/// A copy of the access migrations of `backend` before case names (1 to 3).
fn migrations_before_names(backend: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if !name.contains("case_names") {
            std::fs::copy(&path, dir.path().join(name)).unwrap();
        }
    }
    dir
}

/// Rows an access state of before case names held: two organisations,
/// a case of each, one shared.
/// `@OVERRIDE@` is where PostgreSQL needs `OVERRIDING SYSTEM VALUE`.
const OLD_ROWS: &str = "INSERT INTO ac_orgs (id, name, name_key, created_at) @OVERRIDE@ VALUES (1, 'Force A', 'force a', 0), (2, 'Defence', 'defence', 0); \
     INSERT INTO ac_cases (case_key, case_id, org_id, created_at) VALUES ('2024/00123/POL', '2024/00123/pol', 1, 0), ('X1', 'X1', 2, 0); \
     INSERT INTO ac_shares (case_key, org_id, created_at) VALUES ('2024/00123/POL', 2, 0);";

/// The cases of an access state made before case names resolve by their
/// IDs, named as first typed, and a new name of the same text is refused.
async fn old_cases_resolve_by_their_ids(state: &dyn AccessState) {
    let force = state.org("Force A").await.unwrap().unwrap();
    let defence = state.org("Defence").await.unwrap().unwrap();
    let id: CaseId = "2024/00123/POL".parse().unwrap();
    for (org, access) in [(force.id, CaseAccess::Owner), (defence.id, CaseAccess::Shared)] {
        match names::resolve_case(state, &id, org, None).await.unwrap() {
            names::Resolved::Found(c) => {
                assert_eq!((c.case.as_str(), c.name.as_str(), c.access), ("2024/00123/pol", "2024/00123/pol", access))
            }
            other => panic!("{other:?}"),
        }
    }
    let other: CaseId = "NEW-1".parse().unwrap();
    assert_eq!(state.add_case(&other, &id, force.id).await.unwrap(), CaseClaim::NameInUse);
    assert_eq!(state.visible_cases(defence.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_sqlite_access_state_made_before_case_names_opens_and_resolves_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let old = migrations_before_names("access-sqlite");
    sqlx::migrate::Migrator::new(old.path()).await.unwrap().run(&pool).await.unwrap();
    sqlx::raw_sql(&OLD_ROWS.replace("@OVERRIDE@", "")).execute(&pool).await.unwrap();
    pool.close().await;
    old_cases_resolve_by_their_ids(&SqliteAccessState::open(&path).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_access_state_made_before_case_names_opens_and_resolves_its_cases() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let mut conn = schema.connect().await;
    let old = migrations_before_names("access-postgres");
    sqlx::migrate::Migrator::new(old.path()).await.unwrap().run_direct(&mut conn).await.unwrap();
    let rows = OLD_ROWS.replace("@OVERRIDE@", "OVERRIDING SYSTEM VALUE");
    sqlx::raw_sql(&rows).execute(&mut conn).await.unwrap();
    drop(conn);
    old_cases_resolve_by_their_ids(&PostgresAccessState::open(&schema.uri()).await.unwrap()).await;
}
