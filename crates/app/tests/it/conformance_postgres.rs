//! The PostgreSQL read model passes the conformance suite, is rebuilt the
//! same after its tables are dropped, never applies an entry twice when
//! two refreshers race, stores hostile text, and tampering with it never
//! changes what verify says. Each test has a fresh schema of its own.

use std::sync::{Arc, Mutex};

use exhibit_app::CaseReader;
use exhibit_app::readmodel::{
    Cursor, PostgresReadModel, Projection, ReadModel, SqliteReadModel, conformance, open_read_model, refresh,
};
use exhibit_store::{LocalStore, ObjectStore};

use crate::common::{case, folder, ingest};
use crate::pg::{Schema, server};

async fn model(schema: &Schema) -> Arc<dyn ReadModel> {
    Arc::new(PostgresReadModel::open(&schema.uri()).await.unwrap())
}

/// A store holding case 42AB1234520 with `files` files acquired and identified.
async fn ingested(dir: &std::path::Path, files: usize) -> Arc<dyn ObjectStore> {
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.join("store")).unwrap());
    ingest(store.clone(), &dir.join("key"), &folder(dir, files)).await;
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_read_model_suite() {
    let Some(base) = server().await else { return };
    let schemas = Mutex::new(Vec::new());
    conformance::run_all(|| async {
        let schema = Schema::new(&base).await;
        let model = PostgresReadModel::open(&schema.uri()).await.unwrap();
        schemas.lock().unwrap().push(schema);
        Box::new(model) as Box<dyn ReadModel>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_uri_opens_postgres_and_a_missing_schema_is_made() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let mut conn = schema.connect().await;
    sqlx::query(&format!("DROP SCHEMA {}", schema.name)).execute(&mut conn).await.unwrap();
    let model = open_read_model(Some(&schema.uri()), "/nonexistent").await.unwrap();
    assert!(format!("{model:?}").starts_with("PostgresReadModel"), "{model:?}");
    model.apply(&case(), None, &cursor(1), &Projection::default()).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'rm_cases'",
    )
    .bind(&schema.name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 1, "the read model lives in the URI's schema");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_tables_are_made_again_and_the_projection_rebuilt_the_same() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let store = ingested(dir.path(), 6).await;
    let reader = CaseReader::new(store.clone(), model(&schema).await);
    let before = reader.show(&case(), None).await.unwrap();
    assert_eq!(before.artefacts.len(), 6);
    // The same projection as SQLite makes of the same ledger.
    let sqlite = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    assert_eq!(sqlite.show(&case(), None).await.unwrap().artefacts, before.artefacts);
    assert_eq!(sqlite.status(&case()).await.unwrap().jobs, reader.status(&case()).await.unwrap().jobs);

    let mut conn = schema.connect().await;
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1")
            .bind(&schema.name)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert!(tables.len() >= 8, "{tables:?}");
    for table in &tables {
        sqlx::query(&format!("DROP TABLE {table}")).execute(&mut conn).await.unwrap();
    }
    // The same process, with its pool's connections still open.
    let again = reader.refresh(&case()).await.unwrap();
    assert!(again.rebuilt);
    assert_eq!(again.applied, again.head, "every entry projected again");
    let after = reader.show(&case(), None).await.unwrap();
    assert_eq!(after.artefacts, before.artefacts);
    assert_eq!(reader.status(&case()).await.unwrap().jobs, sqlite.status(&case()).await.unwrap().jobs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_refreshers_racing_on_one_case_apply_each_entry_once() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let store = ingested(dir.path(), 30).await;
    // Two processes' worth: each its own pool.
    let (one, two) = (model(&schema).await, model(&schema).await);
    for round in 0..5 {
        one.drop_case(&case()).await.unwrap();
        let (a, b) = tokio::join!(
            tokio::spawn({
                let (store, one) = (store.clone(), one.clone());
                async move { refresh(store.as_ref(), one.as_ref(), &case()).await.unwrap() }
            }),
            tokio::spawn({
                let (store, two) = (store.clone(), two.clone());
                async move { refresh(store.as_ref(), two.as_ref(), &case()).await.unwrap() }
            })
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a.head > 0, "round {round}: {a:?}");
        assert_eq!(a.head, b.head, "round {round}");
        assert_eq!(a.applied + b.applied, a.head, "round {round}: each entry applied once: {a:?} {b:?}");
        let view = CaseReader::new(store.clone(), two.clone());
        assert_eq!(view.show(&case(), None).await.unwrap().artefacts.len(), 30);
        let jobs: u64 = view.status(&case()).await.unwrap().jobs.iter().map(|j| j.count).sum();
        assert_eq!(jobs, 60, "round {round}: no job counted twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_with_nul_bytes_is_stored_and_the_manifest_comes_back_whole() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let model = model(&schema).await;
    let c = conformance::case("NUL1");
    let hostile = conformance::manifest(&c, "A/1", Some("evil\0name.txt"), &["odd\0flag"]);
    let plain = conformance::manifest(&c, "A/1", Some("evil"), &[]);
    let job = exhibit_app::readmodel::JobRecord {
        job_id: "job\0id".into(),
        exhibit: None,
        action: "identified".into(),
        status: exhibit_app::readmodel::JobStatus::Done,
    };
    let problems = vec![exhibit_app::readmodel::Problem { seq: 1, text: "entry\0 1".into() }];
    let p =
        Projection { artefacts: vec![hostile.clone(), plain.clone()], jobs: vec![job], problems, ..Default::default() };
    model.apply(&c, None, &cursor(1), &p).await.unwrap();
    // Byte order, as in SQLite: "evil" sorts before "evil\0...".
    assert_eq!(model.artefacts(&c, None).await.unwrap(), vec![plain, hostile]);
    assert_eq!(model.flags(&c).await.unwrap(), vec![("odd\u{FFFD}flag".to_owned(), 1)]);
    assert_eq!(model.problems(&c).await.unwrap()[0].text, "entry\u{FFFD} 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_postgres_rows_does_not_change_what_verify_says() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let dir = tempfile::tempdir().unwrap();
    let store = ingested(dir.path(), 3).await;
    let reader = CaseReader::new(store.clone(), model(&schema).await);
    reader.show(&case(), None).await.unwrap();
    let before = exhibit_custody::verify_case(store.as_ref(), &case()).await.unwrap();
    assert!(before.is_clean());

    let mut conn = schema.connect().await;
    for tamper in [
        "DELETE FROM rm_artefacts WHERE id = (SELECT MIN(id) FROM rm_artefacts)",
        "UPDATE rm_jobs SET status = 'failed'",
        "INSERT INTO rm_problems (case_id, seq, text) VALUES ('42AB1234520', 1, 'forged problem')",
    ] {
        sqlx::query(tamper).execute(&mut conn).await.unwrap();
    }

    let after = exhibit_custody::verify_case(store.as_ref(), &case()).await.unwrap();
    assert!(after.is_clean());
    assert_eq!((after.entries, after.problems.len()), (before.entries, before.problems.len()));
    // The cache is wrong until dropped; dropping it restores the truth.
    let tampered = reader.show(&case(), None).await.unwrap();
    assert_eq!((tampered.artefacts.len(), tampered.problems.len()), (2, 1));
    reader.model().drop_case(&case()).await.unwrap();
    let restored = reader.show(&case(), None).await.unwrap();
    assert_eq!((restored.artefacts.len(), restored.problems.len()), (3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_row_that_does_not_parse_is_an_error_not_a_panic() {
    let Some(base) = server().await else { return };
    let schema = Schema::new(&base).await;
    let model = model(&schema).await;
    let c = conformance::case("BAD1");
    let p = Projection { artefacts: vec![conformance::manifest(&c, "A/1", Some("a"), &[])], ..Default::default() };
    model.apply(&c, None, &cursor(1), &p).await.unwrap();
    let mut conn = schema.connect().await;
    sqlx::query("UPDATE rm_artefacts SET manifest = '{not json'").execute(&mut conn).await.unwrap();
    sqlx::query("UPDATE rm_cases SET last_seq = -5").execute(&mut conn).await.unwrap();
    let err = model.artefacts(&c, None).await.unwrap_err();
    assert_eq!(err.kind(), exhibit_core::ErrorKind::Corrupt, "{err}");
    assert_eq!(model.cursor(&c).await.unwrap_err().kind(), exhibit_core::ErrorKind::Corrupt);
}

fn cursor(seq: u64) -> Cursor {
    Cursor { seq, entry_sha256: format!("{seq:064}") }
}
