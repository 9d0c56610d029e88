//! Refreshing the read model from a real ledger: incremental (three small
//! reads when nothing changed), rebuilt when dropped, loud about damage and
//! about a ledger that lost or rewrote entries it read before (never
//! rebuilt over), and never consulted by verify.

use std::sync::Arc;

use exhibit_app::CaseReader;
use exhibit_app::readmodel::{ReadModel, SqliteReadModel};
use exhibit_core::layout::{ledger_key, manifest_key};
use exhibit_store::{LocalStore, ObjectStore};

use crate::common::{CountingStore, case, exhibit, folder, ingest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_show_reads_two_ledger_entries_not_the_whole_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let store = CountingStore::open(&dir.path().join("store"));
    let key = dir.path().join("key");
    ingest(store.clone(), &key, &folder(dir.path(), 20)).await;
    let model: Arc<dyn ReadModel> = Arc::new(SqliteReadModel::open(&dir.path().join("rm.sqlite")).await.unwrap());
    let reader = CaseReader::new(store.clone(), model);
    store.take();

    let first = reader.refresh(&case()).await.unwrap();
    assert!(first.rebuilt);
    let entries = first.head;
    // Group commit puts many events in one entry: at least the key's entry
    // and one holding the files' events.
    assert!(entries >= 2, "a key entry and the files' events: {entries}");
    assert_eq!(
        store.take(),
        (entries, entries + 1, 1),
        "a rebuild reads each entry once, probes one past the head, and lists the ledger once for gaps"
    );
    let view = reader.show(&case(), None).await.unwrap();
    assert_eq!(view.artefacts.len(), 20);
    assert_eq!(store.take(), (1, 3, 0), "warm: reads the cursor's entry, probes the next two, lists nothing");

    let more = dir.path().join("more");
    std::fs::create_dir_all(&more).unwrap();
    std::fs::write(more.join("late.txt"), b"late evidence").unwrap();
    ingest(store.clone(), &key, &more).await;
    store.take();
    let after = reader.refresh(&case()).await.unwrap();
    assert!(!after.rebuilt);
    assert!(after.applied >= 1);
    assert_eq!(store.take(), (after.applied + 1, after.applied + 3, 0), "only the new entries");
    assert_eq!(reader.show(&case(), None).await.unwrap().artefacts.len(), 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_gives_the_artefacts_the_ledger_records_with_their_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
    ingest(store.clone(), &dir.path().join("key"), &folder(dir.path(), 5)).await;
    let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    let view = reader.show(&case(), Some(&exhibit())).await.unwrap();
    let paths: Vec<String> = view.artefacts.iter().map(|m| m.source.as_ref().unwrap().name.display.clone()).collect();
    assert_eq!(paths, (0..5).map(|i| format!("file{i:03}.txt")).collect::<Vec<_>>());
    for m in &view.artefacts {
        let stored = exhibit_store::read_small(store.as_ref(), &manifest_key(&case(), &m.id), 1 << 20).await.unwrap();
        assert_eq!(serde_json::from_slice::<exhibit_core::manifest::ArtefactManifest>(&stored).unwrap(), *m);
    }
    assert_eq!(view.exhibits.len(), 1);
    assert!(view.problems.is_empty() && view.notable.is_empty());
    let status = reader.status(&case()).await.unwrap();
    let done: u64 = status.jobs.iter().map(|j| j.count).sum();
    assert_eq!(done, 10, "an acquire and an identify job per file");
    let lower: exhibit_core::ids::ExhibitRef = "js/1".parse().unwrap();
    assert_eq!(reader.recorded_exhibit(&case(), &lower).await.unwrap().map(|e| e.to_string()), Some("JS/1".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_or_deleted_read_model_is_rebuilt_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
    ingest(store.clone(), &dir.path().join("key"), &folder(dir.path(), 4)).await;
    let path = dir.path().join("rm.sqlite");
    let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::open(&path).await.unwrap()));
    let before = reader.show(&case(), None).await.unwrap().artefacts;
    reader.model().drop_case(&case()).await.unwrap();
    assert!(reader.refresh(&case()).await.unwrap().rebuilt);
    assert_eq!(reader.show(&case(), None).await.unwrap().artefacts, before);
    drop(reader);
    std::fs::remove_file(&path).unwrap();
    let fresh = CaseReader::new(store, Arc::new(SqliteReadModel::open(&path).await.unwrap()));
    assert_eq!(fresh.show(&case(), None).await.unwrap().artefacts, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_that_changed_underneath_is_listed_as_lost_history_not_rebuilt_over() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two): (Arc<dyn ObjectStore>, Arc<dyn ObjectStore>) = (
        Arc::new(LocalStore::open(dir.path().join("one")).unwrap()),
        Arc::new(LocalStore::open(dir.path().join("two")).unwrap()),
    );
    ingest(one.clone(), &dir.path().join("key"), &folder(&dir.path().join("a"), 3)).await;
    ingest(two.clone(), &dir.path().join("key"), &folder(&dir.path().join("b"), 6)).await;
    let model: Arc<dyn ReadModel> = Arc::new(SqliteReadModel::open(&dir.path().join("rm.sqlite")).await.unwrap());
    let head = CaseReader::new(one, model.clone()).refresh(&case()).await.unwrap().head;
    // The same model over another ledger of the same case: the entry its
    // cursor names holds other bytes. Rebuilding would hide a rewritten
    // history, so the projection is kept and the loss listed.
    let other = CaseReader::new(two, model);
    let report = other.refresh(&case()).await.unwrap();
    assert!(!report.rebuilt);
    let broken = report.broken.expect("a ledger that no longer holds what was read is broken");
    assert_eq!(broken.seq, head);
    assert!(broken.text.contains("lost or rewrote history"), "{}", broken.text);
    let view = other.show(&case(), None).await.unwrap();
    assert_eq!(view.artefacts.len(), 3, "what was projected stays listed");
    assert_eq!(view.problems, vec![broken.clone()], "listed once, however often it is read");
    assert_eq!(other.refresh(&case()).await.unwrap().broken, Some(broken));
    let refused = other.writable(&case(), None).await.unwrap_err();
    assert!(refused.to_string().contains("nothing more can be recorded"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_remembers_the_head_it_read_even_when_its_read_model_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(&root).unwrap());
    ingest(store.clone(), &dir.path().join("key"), &folder(dir.path(), 3)).await;
    let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    let head = reader.refresh(&case()).await.unwrap().head;
    reader.writable(&case(), None).await.unwrap();

    // The newest entry goes, and the projection with it.
    std::fs::remove_file(root.join(ledger_key(&case(), head).as_str())).unwrap();
    reader.model().drop_case(&case()).await.unwrap();
    let report = reader.refresh(&case()).await.unwrap();
    let broken = report.broken.expect("the head this reader read is gone");
    assert_eq!(broken.seq, head, "{}", broken.text);
    assert!(reader.writable(&case(), None).await.is_err());
    // A reader that never read it sees a ledger that checks out.
    let fresh = CaseReader::new(store, Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    assert!(fresh.refresh(&case()).await.unwrap().broken.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_entry_from_another_ledger_put_in_place_is_named_as_not_linking() {
    let dir = tempfile::tempdir().unwrap();
    let (root_one, root_two) = (dir.path().join("one"), dir.path().join("two"));
    let one: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(&root_one).unwrap());
    let two: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(&root_two).unwrap());
    let key = dir.path().join("key");
    ingest(one.clone(), &key, &folder(&dir.path().join("a"), 2)).await;
    ingest(two.clone(), &key, &folder(&dir.path().join("b"), 5)).await;
    // Entry 2 of the other ledger, signed by the same key, in place of
    // this one's: its signature verifies, but it does not follow entry 1.
    let swapped = ledger_key(&case(), 2);
    let forged = std::fs::read(root_two.join(swapped.as_str())).unwrap();
    assert_ne!(forged, std::fs::read(root_one.join(swapped.as_str())).unwrap());
    std::fs::remove_file(root_one.join(swapped.as_str())).unwrap();
    std::fs::write(root_one.join(swapped.as_str()), forged).unwrap();

    let reader = CaseReader::new(one, Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    let problems = reader.show(&case(), None).await.unwrap().problems;
    assert!(problems.iter().any(|p| p.seq == 2 && p.text.contains("does not link to entry 1")), "{problems:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_entry_or_a_swapped_manifest_is_named_not_shown_as_clean() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(&root).unwrap());
    ingest(store.clone(), &dir.path().join("key"), &folder(dir.path(), 3)).await;
    let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    let victim = reader.show(&case(), None).await.unwrap().artefacts[0].clone();
    let head = reader.refresh(&case()).await.unwrap().head;

    // Another manifest in the victim's place (the store is create-only,
    // so the attacker writes the file), and a garbage entry after the head.
    let fresh = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    let manifest_path = root.join(manifest_key(&case(), &victim.id).as_str());
    let mut forged = victim.clone();
    forged.size += 1;
    std::fs::remove_file(&manifest_path).unwrap();
    std::fs::write(&manifest_path, serde_json::to_vec(&forged).unwrap()).unwrap();
    let garbage: exhibit_store::Body = Box::new(std::io::Cursor::new(b"{not json".to_vec()));
    store.put_new(&ledger_key(&case(), head + 1), garbage, Default::default()).await.unwrap();

    let view = fresh.show(&case(), None).await.unwrap();
    assert_eq!(view.artefacts.len(), 2, "the swapped manifest is not shown as the artefact");
    let texts: Vec<&str> = view.problems.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.iter().any(|t| t.contains("is not the one the ledger records")), "{texts:?}");
    assert!(texts.iter().any(|t| t.contains(&format!("ledger entry {} does not parse", head + 1))), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_with_the_read_model_does_not_change_what_verify_says() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
    ingest(store.clone(), &dir.path().join("key"), &folder(dir.path(), 3)).await;
    let path = dir.path().join("rm.sqlite");
    let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::open(&path).await.unwrap()));
    reader.show(&case(), None).await.unwrap();
    let before = exhibit_custody::verify_case(store.as_ref(), &case()).await.unwrap();
    assert!(before.is_clean());

    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("DELETE FROM rm_artefacts WHERE rowid IN (SELECT rowid FROM rm_artefacts LIMIT 1)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE rm_jobs SET status = 'failed'").execute(&pool).await.unwrap();
    pool.close().await;

    let after = exhibit_custody::verify_case(store.as_ref(), &case()).await.unwrap();
    assert!(after.is_clean());
    assert_eq!((after.entries, after.problems.len()), (before.entries, before.problems.len()));
    // The cache is wrong until dropped; dropping it restores the truth.
    assert_eq!(reader.show(&case(), None).await.unwrap().artefacts.len(), 2);
    reader.model().drop_case(&case()).await.unwrap();
    assert_eq!(reader.show(&case(), None).await.unwrap().artefacts.len(), 3);
}
