//! Acceptance of issue 12: with a queue that duplicates, delays, reorders
//! and redelivers, and workers killed at random points, an ingest of a
//! folder, an E01 set, a cue/bin disc, a scan and a video records exactly
//! what a clean run records: nothing lost, nothing twice, verify clean. And
//! two independent workers complete one case together.

mod queue;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use exhibit_core::event::{Actor, CustodyEvent, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_custody::{Ledger, Signer, read_entries, verify_case};
use exhibit_intake::{AcquireStage, AssembleStage, ExploreStage, IdentifyStage, acquire_jobs, plan_sources, set_jobs};
use exhibit_ocr::OcrStage;
use exhibit_pipeline::derive::DerivePolicies;
use exhibit_pipeline::{
    CaseIndex, Completions, RunId, RunSummary, Stage, StageContext, Worker, WorkerConfig, wait_for_completion,
};
use exhibit_queue::{Job, JobQueue, MemoryQueue};
use exhibit_store::{LocalStore, ObjectStore};
use exhibit_transcode::{DEFAULT_POLICY, Policy, TranscodeStage};
use tokio::sync::{Notify, mpsc, oneshot};

use queue::FaultQueue;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

/// One of each kind of source, in one folder.
fn sources(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    let copies = [
        ("sample-folder/documents", "folder"),
        ("sources/ewf/split.E01", "split.E01"),
        ("sources/ewf/split.E02", "split.E02"),
        ("sources/ewf/split.E03", "split.E03"),
        ("sources/cue/two-files.cue", "two-files.cue"),
        ("sources/cue/data track.bin", "data track.bin"),
        ("sources/cue/audio.bin", "audio.bin"),
        ("ocr/memo.png", "memo.png"),
        ("media/mpeg4_mp3.avi", "video.avi"),
    ];
    std::fs::create_dir_all(&src).unwrap();
    for (from, to) in copies {
        copy(&Path::new(FIXTURES).join(from), &src.join(to));
    }
    src
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// A store and key shared by every worker of one ingest.
struct Env {
    store: Arc<dyn ObjectStore>,
    signer: Arc<Signer>,
    case: CaseId,
    exhibit: ExhibitRef,
}

impl Env {
    fn new(dir: &Path) -> Self {
        Self {
            store: Arc::new(LocalStore::open(dir.join("data")).unwrap()),
            signer: Arc::new(Signer::load_or_create(&dir.join("key")).unwrap()),
            case: "FAULT-1".parse().unwrap(),
            exhibit: "JS/1".parse().unwrap(),
        }
    }

    /// A context of its own, with its own index read from the ledger.
    async fn context(&self) -> Arc<StageContext> {
        let ledger = Arc::new(Ledger::open(self.store.clone(), self.case.clone(), self.signer.clone()).await.unwrap());
        let entries = read_entries(self.store.as_ref(), &self.case).await.unwrap();
        let events: Vec<CustodyEvent> =
            entries.into_iter().filter_map(|e| e.parsed.ok()).flat_map(|e| e.events().to_vec()).collect();
        let actor = Actor {
            operator: "PC Test".into(),
            host: "test".into(),
            process: 1,
            public_key: self.signer.public_key_openssh(),
        };
        let index = CaseIndex::from_events(&events);
        let mut ctx = StageContext::new(self.case.clone(), self.store.clone(), ledger, actor, index);
        let (transcode, ocr) = (transcode(), OcrStage::default());
        ctx.derive_policies =
            DerivePolicies { transcode: transcode.policy_identity().unwrap(), ocr: ocr.policy_version() };
        Arc::new(ctx)
    }
}

fn transcode() -> TranscodeStage {
    TranscodeStage { policy: Policy::from_toml(DEFAULT_POLICY).unwrap(), limits: exhibit_transcode::Limits::default() }
}

/// The stages of each ingest phase, as `exhibit ingest` runs them.
fn phases() -> Vec<Vec<Arc<dyn Stage>>> {
    vec![
        vec![Arc::new(AcquireStage::default()), Arc::new(IdentifyStage::default())],
        vec![Arc::new(AssembleStage)],
        vec![Arc::new(ExploreStage::default())],
        vec![Arc::new(transcode()), Arc::new(OcrStage::default())],
    ]
}

fn worker_config(stages: Vec<Arc<dyn Stage>>) -> WorkerConfig {
    WorkerConfig {
        concurrency: 2,
        max_attempts: 4,
        lease: Duration::from_millis(700),
        retry_delay: Duration::from_millis(10),
        ..WorkerConfig::new(stages)
    }
}

/// Runs one phase to completion with `instances` workers at a time, each
/// with its own context; when `kill` fires, one is killed (its task
/// aborted wherever it is) and a fresh one started in its place.
async fn run_phase(
    env: &Env,
    queue: Arc<dyn JobQueue>,
    kill: Option<&Notify>,
    completions: &Arc<Completions>,
    stages: Vec<Arc<dyn Stage>>,
    (roots, queued): (Vec<Job>, bool),
    instances: usize,
) -> RunSummary {
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    let (tx, news) = mpsc::unbounded_channel();
    completions.listen(tx);
    for job in roots.iter().filter(|j| !queued && names.contains(&j.stage.as_str())) {
        queue.publish(job.clone()).await.unwrap();
    }
    let start = || async {
        let worker = Worker::new(env.context().await, queue.clone(), completions.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(worker.run(worker_config(stages.clone()), async move {
            let _either = stopped.await;
        }));
        (stop, task)
    };
    let mut workers = Vec::new();
    for _ in 0..instances {
        workers.push(start().await);
    }
    let waiter = wait_for_completion(completions, &names, roots, news, None);
    tokio::pin!(waiter);
    let never = Notify::new();
    loop {
        tokio::select! {
            summary = &mut waiter => {
                for (stop, task) in workers {
                    let _ = stop.send(());
                    task.await.unwrap().unwrap();
                }
                return summary.unwrap();
            }
            () = kill.unwrap_or(&never).notified() => {
                let (_, task) = workers.remove(0);
                task.abort();
                let _ = task.await;
                workers.push(start().await);
            }
        }
    }
}

/// Ingests `src` in three phases, as `exhibit ingest` does.
async fn ingest(env: &Env, queue: Arc<dyn JobQueue>, kill: Option<&Notify>, src: &Path, instances: usize) {
    let plan = plan_sources(&[src.to_owned()]).unwrap();
    let completions = Arc::new(Completions::new(env.store.clone(), &env.case, RunId::new()));
    let mut jobs = (acquire_jobs(&plan, &env.case, &env.exhibit), false);
    for (phase, stages) in phases().into_iter().enumerate() {
        let summary = run_phase(env, queue.clone(), kill, &completions, stages, jobs, instances).await;
        jobs = (summary.deferred, true);
        if phase == 0 {
            // The sets, once every member is acquired; only they are
            // published by the next phase, the rest is queued already.
            jobs = (jobs.0.into_iter().chain(set_jobs(&plan, &env.case, &env.exhibit)).collect(), false);
        }
    }
    assert!(jobs.0.is_empty(), "every job belongs to a phase");
}

/// What an event records, without when or by whom: the record key's parts
/// as text, so a difference is readable. Derivation outputs that are not
/// bit-for-bit reproducible differ in artefact ID, so outputs are named by
/// input, rule and policy.
fn fact(event: &CustodyEvent) -> String {
    let p = |k: &str| event.params.get(k).map(|v| v.to_string()).unwrap_or_default();
    let inputs: Vec<&str> = event.inputs.iter().map(|i| i.id.as_str()).collect();
    let outcome = match &event.outcome {
        Outcome::Ok => "ok".to_owned(),
        Outcome::Failed { reason } => format!("failed: {reason}"),
    };
    if event.params.contains_key("rule") {
        return format!("{:?} {outcome} {inputs:?} rule={} policy={}", event.action, p("rule"), p("policy_version"));
    }
    let artefact = event.artefact.as_ref().map(|a| (a.id.clone(), a.sha256.to_hex()));
    format!("{:?} {outcome} {artefact:?} {inputs:?} job={} source={}", event.action, p("job_id"), p("source_key"))
}

/// Every fact of the case with how many times it is recorded, checking
/// the case verifies clean.
async fn facts(env: &Env) -> BTreeMap<String, usize> {
    let report = verify_case(env.store.as_ref(), &env.case).await.unwrap();
    assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
    let mut facts = BTreeMap::new();
    for entry in read_entries(env.store.as_ref(), &env.case).await.unwrap() {
        for event in entry.parsed.unwrap().events() {
            if event.action != exhibit_core::event::Action::KeyAdded {
                *facts.entry(fact(event)).or_insert(0) += 1;
            }
        }
    }
    facts
}

fn assert_same(clean: &BTreeMap<String, usize>, other: &BTreeMap<String, usize>, what: &str) {
    let twice: Vec<_> = other.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{what}: recorded twice: {twice:#?}");
    let lost: Vec<_> = clean.keys().filter(|k| !other.contains_key(*k)).collect();
    assert!(lost.is_empty(), "{what}: lost: {lost:#?}");
    let extra: Vec<_> = other.keys().filter(|k| !clean.contains_key(*k)).collect();
    assert!(extra.is_empty(), "{what}: not in a clean run: {extra:#?}");
}

async fn clean_facts(src: &Path, dir: &Path) -> BTreeMap<String, usize> {
    let env = Env::new(dir);
    ingest(&env, Arc::new(MemoryQueue::new()), None, src, 1).await;
    let facts = facts(&env).await;
    assert!(facts.values().all(|n| *n == 1), "a clean run records each fact once");
    facts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_faulty_queue_and_killed_workers_record_exactly_what_a_clean_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path());
    let clean = clean_facts(&src, &dir.path().join("clean")).await;
    for kind in ["Acquired", "Extracted", "Explored", "Transcoded", "Ocr"] {
        assert!(clean.keys().any(|k| k.starts_with(kind)), "the clean run has {kind} events");
    }
    for seed in [0x5eed_0001_u64, 0x5eed_0002] {
        let env = Env::new(&dir.path().join(format!("faulty-{seed:x}")));
        let queue = Arc::new(FaultQueue::new(seed, 6));
        ingest(&env, queue.clone(), Some(&queue.kill), &src, 1).await;
        println!("seed {seed:#x}: {}", queue.counts.line());
        assert_same(&clean, &facts(&env).await, &format!("seed {seed:#x}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_independent_workers_complete_a_case_together() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path());
    let clean = clean_facts(&src, &dir.path().join("clean")).await;
    let env = Env::new(&dir.path().join("two"));
    // Two instances, each with its own context and index, share only the
    // store and the queue; the queue duplicates jobs, so both work on some
    // of the same jobs at once.
    let queue = Arc::new(FaultQueue::new(0x7700, 0));
    ingest(&env, queue.clone(), None, &src, 2).await;
    println!("{}", queue.counts.line());
    assert_same(&clean, &facts(&env).await, "two workers");
}
