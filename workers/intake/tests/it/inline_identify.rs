//! Small loose files are identified while they are acquired, from the bytes
//! read to store them: one job and one group commit per file. The record
//! must be what the identify stage gives from the stored object: the same
//! manifests, the same events (job IDs included), verify clean. Media and
//! audio/video, which need the stored object, still get an identify job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_core::event::{Action, Actor};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{ledger_prefix, manifests_prefix};
use exhibit_custody::{Ledger, Signer, read_entries, verify_case};
use exhibit_intake::{AcquireStage, IdentifyStage, acquire_jobs, plan_sources};
use exhibit_pipeline::{CaseIndex, Completions, RunId, Stage, StageContext, WorkerConfig, run_in_process};
use exhibit_queue::MemoryQueue;
use exhibit_store::{LocalStore, ObjectStore, read_small};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

/// A PNG, the same PNG named as a PDF, a text, random bytes named as a
/// PDF and not, an empty file, an ISO image (a medium) and a WAV (audio),
/// all under the limit.
fn sources(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for (from, to) in [
        ("ocr/memo.png", "memo.png"),
        ("ocr/memo.png", "scan.pdf"),
        ("iso/iso.iso", "disc.iso"),
        ("media/voicemail_u8.wav", "voicemail.wav"),
    ] {
        std::fs::copy(Path::new(FIXTURES).join(from), src.join(to)).unwrap();
    }
    std::fs::write(src.join("notes.txt"), "interview notes\n".repeat(100)).unwrap();
    let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(src.join("report.pdf"), &noise).unwrap();
    std::fs::write(src.join("noise.bin"), &noise[..4000]).unwrap();
    std::fs::write(src.join("empty"), b"").unwrap();
    src
}

fn case() -> CaseId {
    "INLINE-1".parse().unwrap()
}

async fn context(store: Arc<dyn ObjectStore>, signer: &Arc<Signer>) -> Arc<StageContext> {
    let ledger = Arc::new(Ledger::open(store.clone(), case(), signer.clone()).await.unwrap());
    let actor =
        Actor { operator: "PC Test".into(), host: "test".into(), process: 1, public_key: signer.public_key_openssh() };
    Arc::new(StageContext::new(case(), store, ledger, actor, CaseIndex::default()))
}

/// Runs the acquire phase over `src` with `acquire`; returns the jobs
/// completed and those left for later phases.
async fn ingest(
    store: Arc<dyn ObjectStore>,
    signer: &Arc<Signer>,
    src: &Path,
    acquire: AcquireStage,
) -> (usize, usize) {
    let ctx = context(store.clone(), signer).await;
    let exhibit: ExhibitRef = "JS/1".parse().unwrap();
    let stages: Vec<Arc<dyn Stage>> = vec![Arc::new(acquire), Arc::new(IdentifyStage::default())];
    let completions = Arc::new(Completions::new(store, &case(), RunId::new()));
    let plan = plan_sources(&[src.to_owned()]).unwrap();
    let jobs = (acquire_jobs(&plan, &case(), &exhibit), false);
    let config = WorkerConfig { concurrency: 2, ..WorkerConfig::new(stages) };
    let summary = run_in_process(ctx, Arc::new(MemoryQueue::new()), completions, config, jobs).await.unwrap();
    assert_eq!(summary.failed, 0);
    (summary.jobs, summary.deferred.len())
}

/// Every manifest, by file name, as stored.
async fn manifests(store: &dyn ObjectStore) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for meta in store.list(&manifests_prefix(&case())).await.unwrap() {
        let json: serde_json::Value =
            serde_json::from_slice(&read_small(store, &meta.key, 1 << 20).await.unwrap()).unwrap();
        let name = json["source"]["name"]["display"].as_str().unwrap().to_owned();
        out.insert(name, json);
    }
    out
}

/// (action, artefact, job ID, params) of every event, sorted: what was
/// recorded, without when or in which entry.
async fn facts(store: &dyn ObjectStore) -> Vec<String> {
    let mut out: Vec<String> = read_entries(store, &case())
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.parsed.unwrap().events().to_vec())
        .map(|e| format!("{:?} {:?} {}", e.action, e.artefact, serde_json::to_string(&e.params).unwrap()))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_identification_records_what_the_identify_stage_records() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path());
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());
    let by_job: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("by-job")).unwrap());
    let inline: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("inline")).unwrap());

    let (jobs_by_job, deferred_by_job) =
        ingest(by_job.clone(), &signer, &src, AcquireStage { inline_identify_bytes: 0, ..AcquireStage::default() })
            .await;
    let (jobs_inline, deferred_inline) = ingest(inline.clone(), &signer, &src, AcquireStage::default()).await;

    for store in [&by_job, &inline] {
        let report = verify_case(store.as_ref(), &case()).await.unwrap();
        assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
    }
    let (expected, got) = (manifests(by_job.as_ref()).await, manifests(inline.as_ref()).await);
    assert_eq!(expected.len(), 8);
    assert_eq!(expected, got, "the same manifests, byte for byte in meaning");
    assert_eq!(facts(by_job.as_ref()).await, facts(inline.as_ref()).await, "the same events, job IDs included");
    assert_eq!(deferred_by_job, deferred_inline, "the same follow-ups (explore of the ISO)");
    // 8 acquire + 8 identify jobs; inline, only the ISO and the WAV
    // (a medium, and audio for libavformat) get an identify job.
    assert_eq!(jobs_by_job, 16);
    assert_eq!(jobs_inline, 10);
    let media = |m: &BTreeMap<String, serde_json::Value>, name: &str| m[name]["media_type"].clone();
    assert_eq!(media(&got, "memo.png")["mime"], "image/png");
    assert_eq!(media(&got, "notes.txt")["mime"], "text/plain");
    assert!(media(&got, "scan.pdf")["extension_mismatch"].is_string(), "{}", media(&got, "scan.pdf"));
    assert!(media(&got, "report.pdf")["extension_mismatch"].is_null(), "unrecognised content is no mismatch");
    assert_eq!(media(&got, "empty")["mime"], "application/x-empty");
    assert_eq!(media(&got, "disc.iso")["mime"], "application/x-iso9660-image");

    // One group commit for a file's content, manifest and both events: an
    // inline file's acquired and identified events share their entry.
    let entries = read_entries(inline.as_ref(), &case()).await.unwrap();
    let memo_entry = entries
        .iter()
        .map(|e| e.parsed.as_ref().unwrap().events().to_vec())
        .find(|events| {
            events.iter().any(|e| e.action == Action::Acquired && format!("{:?}", e.params).contains("memo.png"))
        })
        .unwrap();
    assert!(memo_entry.iter().any(|e| e.action == Action::Identified), "identified in the same entry: {memo_entry:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_left_by_an_interrupted_run_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path());
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());
    let root = dir.path().join("data");
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(&root).unwrap());
    ingest(store.clone(), &signer, &src, AcquireStage::default()).await;
    let stored = manifests(store.as_ref()).await;
    // A crash after the objects and manifests were durable, before the
    // ledger entry: the ledger is gone, the manifests are not.
    std::fs::remove_dir_all(root.join(ledger_prefix(&case()))).unwrap();

    let (jobs, _) = ingest(store.clone(), &signer, &src, AcquireStage::default()).await;
    assert_eq!(jobs, 16, "each acquire found its manifest stored and left it to an identify job");
    assert_eq!(manifests(store.as_ref()).await, stored, "the stored manifests are adopted");
    let report = verify_case(store.as_ref(), &case()).await.unwrap();
    assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
    let events = facts(store.as_ref()).await;
    assert_eq!(events.iter().filter(|e| e.starts_with("Identified")).count(), 8, "{events:#?}");
    assert_eq!(events.iter().filter(|e| e.starts_with("Acquired")).count(), 8, "{events:#?}");
}
