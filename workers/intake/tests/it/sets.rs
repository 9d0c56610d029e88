//! Sets on a broker: every stage's jobs are taken by whichever worker is
//! free, so a set's head can be explored while its other members are still
//! being acquired. A queue here holds back the acquire jobs of the later
//! members until a job that could open the set (explore, or assembling the
//! set) has been handed out; the set must still be explored whole.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use exhibit_core::event::{Action, Actor, CustodyEvent, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_custody::{Ledger, Signer, read_entries, verify_case};
use exhibit_intake::{AcquireStage, AssembleStage, ExploreStage, IdentifyStage, acquire_jobs, plan_sources, set_jobs};
use exhibit_pipeline::{CaseIndex, Completions, RunId, Stage, StageContext, WorkerConfig, run_in_process};
use exhibit_queue::{Delivery, DeliveryTag, Job, JobQueue, MemoryQueue, QueueError};
use exhibit_store::{LocalStore, ObjectStore};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/sources");

/// Holds back the acquire jobs of files whose names end with one of
/// `late` until a job of a set-opening stage has been received.
#[derive(Debug)]
struct LateMembers {
    inner: MemoryQueue,
    late: Vec<&'static str>,
    held: Mutex<Vec<Job>>,
    released: AtomicBool,
}

impl LateMembers {
    fn new(late: Vec<&'static str>) -> Self {
        Self { inner: MemoryQueue::new(), late, held: Mutex::default(), released: AtomicBool::new(false) }
    }

    fn is_late(&self, job: &Job) -> bool {
        job.stage == "acquire" && job.input.path().is_some_and(|p| self.late.iter().any(|l| p.ends_with(l)))
    }
}

#[async_trait]
impl JobQueue for LateMembers {
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        if !self.released.load(Ordering::SeqCst) && self.is_late(&job) {
            self.held.lock().unwrap().push(job);
            return Ok(());
        }
        self.inner.publish(job).await
    }

    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
        let delivery = self.inner.receive(stage, lease).await?;
        if ["explore", "assemble"].contains(&delivery.job.stage.as_str()) && !self.released.swap(true, Ordering::SeqCst)
        {
            let held = std::mem::take(&mut *self.held.lock().unwrap());
            assert!(!held.is_empty(), "the later members were held back");
            for job in held {
                self.inner.publish(job).await?;
            }
        }
        Ok(delivery)
    }

    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        self.inner.ack(tag).await
    }

    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.inner.nack(tag, delay).await
    }

    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
        self.inner.extend(tag, lease).await
    }

    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
        self.inner.dead_letter(tag, reason).await
    }
}

/// Every stage a broker worker would run, in one pool.
fn broker_stages() -> Vec<Arc<dyn Stage>> {
    vec![
        Arc::new(AcquireStage::default()),
        Arc::new(IdentifyStage::default()),
        Arc::new(AssembleStage),
        Arc::new(ExploreStage::default()),
    ]
}

/// The jobs planning hands the queue: one per source, one per set.
fn roots(src: &Path, case: &CaseId, exhibit: &ExhibitRef) -> Vec<Job> {
    let plan = plan_sources(&[src.to_owned()]).unwrap();
    let mut jobs = acquire_jobs(&plan, case, exhibit);
    jobs.extend(set_jobs(&plan, case, exhibit));
    jobs
}

fn sources(dir: &Path, files: &[&str]) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for file in files {
        let name = Path::new(file).file_name().unwrap();
        std::fs::copy(Path::new(FIXTURES).join(file), src.join(name)).unwrap();
    }
    src
}

/// Runs every root to completion over `queue` with one worker pool of
/// every stage, and returns the case's events, checking it verifies.
async fn ingest_over(queue: Arc<dyn JobQueue>, dir: &Path, src: &Path) -> Vec<CustodyEvent> {
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.join("data")).unwrap());
    let signer = Arc::new(Signer::load_or_create(&dir.join("key")).unwrap());
    let (case, exhibit): (CaseId, ExhibitRef) = ("SETS-1".parse().unwrap(), "JS/1".parse().unwrap());
    let ledger = Arc::new(Ledger::open(store.clone(), case.clone(), signer.clone()).await.unwrap());
    let actor =
        Actor { operator: "PC Test".into(), host: "test".into(), process: 1, public_key: signer.public_key_openssh() };
    let ctx = Arc::new(StageContext::new(case.clone(), store.clone(), ledger, actor, CaseIndex::default()));
    let completions = Arc::new(Completions::in_process(store.clone(), &case, RunId::new()));
    let config = WorkerConfig {
        concurrency: 2,
        max_attempts: 200,
        retry_delay: Duration::from_millis(20),
        ..WorkerConfig::new(broker_stages())
    };
    let roots = roots(src, &case, &exhibit);
    // Derive jobs (the audio tracks' WAVs) are left queued: not this test's.
    run_in_process(ctx, queue, completions, config, (roots, false)).await.unwrap();
    let report = verify_case(store.as_ref(), &case).await.unwrap();
    assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
    let entries = read_entries(store.as_ref(), &case).await.unwrap();
    entries.into_iter().flat_map(|e| e.parsed.unwrap().events().to_vec()).collect()
}

fn no_failures(events: &[CustodyEvent]) {
    let failed: Vec<_> = events.iter().filter(|e| e.outcome != Outcome::Ok).collect();
    assert!(failed.is_empty(), "failed events: {failed:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_e01_set_whose_later_segments_are_stored_after_its_head_is_explored_whole() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path(), &["ewf/split.E01", "ewf/split.E02", "ewf/split.E03"]);
    let queue = Arc::new(LateMembers::new(vec!["split.E02", "split.E03"]));
    let events = ingest_over(queue.clone(), dir.path(), &src).await;
    assert!(queue.released.load(Ordering::SeqCst), "the held members were released by a set's job");
    no_failures(&events);
    let explored: Vec<_> = events.iter().filter(|e| e.action == Action::Explored).collect();
    assert_eq!(explored.len(), 1, "the set is explored once, as one medium: {explored:#?}");
    let params = explored[0].explored_params().unwrap();
    assert!(params.truncated.is_none(), "explored with every segment, not as truncated: {:?}", params.truncated);
    let verified = events.iter().find_map(|e| e.verified_params().filter(|v| v.segments.is_some())).unwrap();
    assert_eq!(verified.segments.as_ref().map(Vec::len), Some(3), "{verified:?}");
    assert_eq!(verified.md5_matches, Some(true), "the media matches the MD5 the set stores: {verified:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cue_sheet_whose_files_are_stored_after_it_is_explored_through_the_sheet_only() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path(), &["cue/two-files.cue", "cue/data track.bin", "cue/audio.bin"]);
    let queue = Arc::new(LateMembers::new(vec!["data track.bin", "audio.bin"]));
    let events = ingest_over(queue.clone(), dir.path(), &src).await;
    no_failures(&events);
    let explored: Vec<_> = events.iter().filter(|e| e.action == Action::Explored).collect();
    assert_eq!(explored.len(), 1, "the sheet is explored once, its .bin files never alone: {explored:#?}");
    assert_eq!(explored[0].explored_params().unwrap().medium.as_deref(), Some("application/x-cue"));
}
