//! The SQLite read model passes the conformance suite, on a file and in
//! memory.

use exhibit_app::readmodel::{ReadModel, SqliteReadModel, conformance};

#[tokio::test]
async fn sqlite_file_passes_the_read_model_suite() {
    let dir = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicU32::new(0);
    conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = dir.path().join(format!("rm{n}.sqlite"));
        async move { Box::new(SqliteReadModel::open(&path).await.unwrap()) as Box<dyn ReadModel> }
    })
    .await;
}

#[tokio::test]
async fn sqlite_in_memory_passes_the_read_model_suite() {
    conformance::run_all(|| async { Box::new(SqliteReadModel::in_memory().await.unwrap()) as Box<dyn ReadModel> })
        .await;
}
