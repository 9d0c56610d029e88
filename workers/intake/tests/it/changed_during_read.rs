//! A file that changes while it is read is recorded as failed, with the
//! reason and the hash of what was read, and is not recorded as acquired.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use exhibit_core::event::{Action, Actor, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_custody::{Ledger, Signer, read_entries, verify_case};
use exhibit_intake::{AcquireStage, Plan, SourceItem, SourceKind, acquire_jobs};
use exhibit_pipeline::{CaseIndex, ProgressSink, Stage, StageContext};
use exhibit_store::{LocalStore, ObjectStore};

/// Appends to the source the first time bytes are reported read, i.e. in the
/// middle of the acquisition.
struct AppendOnFirstRead {
    path: PathBuf,
    done: AtomicBool,
}

impl ProgressSink for AppendOnFirstRead {
    fn bytes_read(&self, _bytes: u64) {
        if !self.done.swap(true, Ordering::SeqCst) {
            let mut f = std::fs::OpenOptions::new().append(true).open(&self.path).unwrap();
            f.write_all(b"late addition").unwrap();
        }
    }
    fn file_done(&self) {}
    fn message(&self, _line: &str) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn growing_file_is_recorded_as_failed() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("growing.log");
    std::fs::write(&source, vec![b'x'; 3 << 20]).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("data")).unwrap());
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());
    let case: CaseId = "C1".parse().unwrap();
    let exhibit: ExhibitRef = "JS/1".parse().unwrap();
    let ledger = Arc::new(Ledger::open(store.clone(), case.clone(), signer.clone()).await.unwrap());
    let actor =
        Actor { operator: "PC Test".into(), host: "test".into(), process: 1, public_key: signer.public_key_openssh() };
    let mut ctx = StageContext::new(case.clone(), store.clone(), ledger, actor, CaseIndex::default());
    ctx.progress = Arc::new(AppendOnFirstRead { path: source.clone(), done: AtomicBool::new(false) });

    let plan = Plan {
        items: vec![SourceItem {
            path: source.clone(),
            kind: SourceKind::File,
            size: 3 << 20,
            found_beside: None,
            in_set: false,
            recorded_as: None,
        }],
        total_bytes: 3 << 20,
        ..Plan::default()
    };
    let job = acquire_jobs(&plan, &case, &exhibit).remove(0);
    let next = AcquireStage::default().run(&ctx, &job).await.unwrap();
    assert!(next.is_empty(), "a changed file goes no further");

    let failures = ctx.tally.failures();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].1.contains("changed") && failures[0].1.contains("growing.log"), "{failures:?}");
    let events: Vec<_> = read_entries(store.as_ref(), &case)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.parsed.unwrap().events().to_vec())
        .collect();
    assert!(events.iter().all(|e| e.action != Action::Acquired));
    let failed = events.iter().find(|e| e.action == Action::Failed).unwrap();
    assert!(matches!(&failed.outcome, Outcome::Failed { reason } if reason.contains("rerun")));
    assert!(
        failed.artefact.as_ref().is_some_and(|a| a.id.is_none()),
        "the bytes read are accounted for, not an artefact"
    );
    assert!(verify_case(store.as_ref(), &case).await.unwrap().problems.is_empty());
}
