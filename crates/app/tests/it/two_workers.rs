//! Two independent worker instances complete one case together. Each has
//! its own signing key, ledger handle, index, completion view and read
//! model; they share only the store and the queue. Nothing is recorded
//! twice, verify is clean, and both read models show the same case.

use std::collections::HashMap;
use std::sync::Arc;

use exhibit_app::CaseReader;
use exhibit_app::readmodel::SqliteReadModel;
use exhibit_core::event::{Action, Outcome};
use exhibit_intake::{acquire_jobs, plan_sources};
use exhibit_pipeline::{Completions, RunId, Worker, WorkerConfig, WorkerSummary, wait_for_completion};
use exhibit_queue::{JobQueue, MemoryQueue};
use exhibit_store::{LocalStore, ObjectStore};

use crate::common::{case, context, exhibit, folder, intake_stages};

const FILES: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_worker_instances_complete_a_case_together_recording_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
    let queue: Arc<dyn JobQueue> = Arc::new(MemoryQueue::new());
    let run = RunId::new();
    let source = folder(dir.path(), FILES);

    let mut stops = Vec::new();
    let mut workers = Vec::new();
    for name in ["a", "b"] {
        let ctx = context(store.clone(), &dir.path().join(format!("key-{name}")), &format!("Worker {name}")).await;
        let completions = Arc::new(Completions::new(store.clone(), &case(), run.clone()));
        let config = WorkerConfig { concurrency: 2, ..WorkerConfig::new(intake_stages()) };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = Worker::new(ctx, queue.clone(), completions);
        workers.push(tokio::spawn(worker.run(config, async move {
            let _either = stopped.await;
        })));
        stops.push(stop);
    }

    // Both are waiting for work before the first job is published.
    let jobs = acquire_jobs(&plan_sources(&[source]).unwrap(), &case(), &exhibit());
    for job in &jobs {
        queue.publish(job.clone()).await.unwrap();
    }
    let watcher = Completions::new(store.clone(), &case(), run.clone());
    let (_tx, news) = tokio::sync::mpsc::unbounded_channel();
    let summary = wait_for_completion(&watcher, &["acquire", "identify"], jobs, news, None).await.unwrap();
    // One job per file: a small file is identified by its acquire job.
    assert_eq!((summary.jobs, summary.failed), (FILES, 0));
    for stop in stops {
        let _gone = stop.send(());
    }
    let mut done: Vec<WorkerSummary> = Vec::new();
    for worker in workers {
        done.push(worker.await.unwrap().unwrap());
    }
    println!("deliveries per worker: {:?}", done.iter().map(|s| s.deliveries).collect::<Vec<_>>());
    assert!(done.iter().all(|s| s.deliveries > 0), "both workers took jobs: {done:?}");

    let entries = exhibit_custody::read_entries(store.as_ref(), &case()).await.unwrap();
    let events: Vec<_> = entries.into_iter().flat_map(|e| e.parsed.unwrap().events().to_vec()).collect();
    let mut per_artefact: HashMap<(Action, String), usize> = HashMap::new();
    for e in events.iter().filter(|e| matches!(e.action, Action::Acquired | Action::Identified)) {
        assert_eq!(e.outcome, Outcome::Ok);
        let id = e.artefact.as_ref().and_then(|a| a.id.as_ref()).unwrap().to_string();
        *per_artefact.entry((e.action, id)).or_default() += 1;
    }
    assert_eq!(per_artefact.len(), 2 * FILES, "every file acquired and identified");
    assert!(per_artefact.values().all(|n| *n == 1), "nothing recorded twice");
    let report = exhibit_custody::verify_case(store.as_ref(), &case()).await.unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);

    // Each worker's own read model shows the same, whole case.
    let mut views = Vec::new();
    for name in ["a", "b"] {
        let model = Arc::new(SqliteReadModel::open(&dir.path().join(format!("rm-{name}.sqlite"))).await.unwrap());
        views.push(CaseReader::new(store.clone(), model).show(&case(), None).await.unwrap().artefacts);
    }
    assert_eq!(views[0].len(), FILES);
    assert_eq!(views[0], views[1]);
}
