//! Read-only commands open a store without creating it.

use exhibit_store::{Access, StoreErrorKind, open_existing_store, open_store};

#[tokio::test]
async fn a_missing_store_is_not_found_and_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("mistyped/store");
    for uri in [missing.display().to_string(), format!("file://{}", missing.display())] {
        let err = open_existing_store(&uri, Access::owner_only()).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains("no store at"), "{err}");
    }
    assert!(!dir.path().join("mistyped").exists());

    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    assert_eq!(
        open_existing_store(file.to_str().unwrap(), Access::owner_only()).unwrap_err().kind(),
        StoreErrorKind::NotFound
    );
    assert_eq!(
        open_existing_store("gs://bucket", Access::owner_only()).unwrap_err().kind(),
        StoreErrorKind::Unsupported
    );
}

#[tokio::test]
async fn an_existing_store_opens_and_reads_without_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    open_store(path.to_str().unwrap()).unwrap();
    let before: Vec<_> = walk(&path);
    let store = open_existing_store(path.to_str().unwrap(), Access::owner_only()).unwrap();
    assert!(store.list("cases/").await.unwrap().is_empty());
    assert_eq!(walk(&path), before);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    out.sort();
    out
}
