//! Acceptance of issue 12, "reads through the store": the same disc gets
//! the same media types, manifests and jobs whether or not the store can
//! give a local path. An ISO, an E01 set, a cue/bin disc, a scan and a
//! video are ingested into a local store and into the same kind of store
//! behind [`NoLocalPathStore`], which reads only as a remote backend can
//! (ranged gets, downloaded copies), and the two records are compared.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_core::event::Actor;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{case_prefix, manifests_prefix};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{Ledger, Signer, verify_case};
use exhibit_intake::{AcquireStage, AssembleStage, ExploreStage, IdentifyStage, acquire_jobs, plan_sources, set_jobs};
use exhibit_ocr::OcrStage;
use exhibit_pipeline::derive::DerivePolicies;
use exhibit_pipeline::{CaseIndex, Completion, Completions, RunId, Stage, StageContext, WorkerConfig, run_in_process};
use exhibit_queue::MemoryQueue;
use exhibit_store::conformance::NoLocalPathStore;
use exhibit_store::{LocalStore, ObjectStore, read_small};
use exhibit_transcode::{DEFAULT_POLICY, Policy, TranscodeStage};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

/// An ISO, an E01 set, a cue sheet with its two `.bin`s, a scan and a video.
fn sources(dir: &Path) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    for (from, to) in [
        ("iso/iso.iso", "disc.iso"),
        ("sources/ewf/split.E01", "split.E01"),
        ("sources/ewf/split.E02", "split.E02"),
        ("sources/ewf/split.E03", "split.E03"),
        ("sources/cue/two-files.cue", "two-files.cue"),
        ("sources/cue/data track.bin", "data track.bin"),
        ("sources/cue/audio.bin", "audio.bin"),
        ("ocr/memo.png", "memo.png"),
        ("media/mpeg4_mp3.avi", "video.avi"),
    ] {
        std::fs::copy(Path::new(FIXTURES).join(from), src.join(to)).unwrap();
    }
    src
}

fn case() -> CaseId {
    "READS-1".parse().unwrap()
}

fn transcode() -> TranscodeStage {
    TranscodeStage { policy: Policy::from_toml(DEFAULT_POLICY).unwrap(), limits: exhibit_transcode::Limits::default() }
}

async fn context(store: Arc<dyn ObjectStore>, signer: Arc<Signer>) -> Arc<StageContext> {
    let ledger = Arc::new(Ledger::open(store.clone(), case(), signer.clone()).await.unwrap());
    let actor =
        Actor { operator: "PC Test".into(), host: "test".into(), process: 1, public_key: signer.public_key_openssh() };
    let mut ctx = StageContext::new(case(), store, ledger, actor, CaseIndex::default());
    ctx.derive_policies =
        DerivePolicies { transcode: transcode().policy_identity().unwrap(), ocr: OcrStage::default().policy_version() };
    Arc::new(ctx)
}

/// Ingests `src` into `store` in the three phases `exhibit ingest` runs.
async fn ingest(store: Arc<dyn ObjectStore>, signer: Arc<Signer>, src: &Path) {
    let ctx = context(store.clone(), signer).await;
    let exhibit: ExhibitRef = "JS/1".parse().unwrap();
    let queue = Arc::new(MemoryQueue::new());
    let completions = Arc::new(Completions::new(store, &case(), RunId::new()));
    let phases: [Vec<Arc<dyn Stage>>; 4] = [
        vec![Arc::new(AcquireStage::default()), Arc::new(IdentifyStage::default())],
        vec![Arc::new(AssembleStage)],
        vec![Arc::new(ExploreStage::default())],
        vec![Arc::new(transcode()), Arc::new(OcrStage::default())],
    ];
    let plan = plan_sources(&[src.to_owned()]).unwrap();
    let mut jobs = (acquire_jobs(&plan, &case(), &exhibit), false);
    for (phase, stages) in phases.into_iter().enumerate() {
        let config = WorkerConfig { concurrency: 2, ..WorkerConfig::new(stages) };
        let summary = run_in_process(ctx.clone(), queue.clone(), completions.clone(), config, jobs).await.unwrap();
        jobs = (summary.deferred, true);
        if phase == 0 {
            // The sets, once every member is acquired: only they are
            // published by the next phase, the rest is queued already.
            jobs = (jobs.0.into_iter().chain(set_jobs(&plan, &case(), &exhibit)).collect(), false);
        }
    }
    assert!(jobs.0.is_empty(), "every job belongs to a phase");
}

/// What an ingest recorded, compared across backends.
#[derive(Debug, PartialEq)]
struct Record {
    /// Artefact ID to media type.
    media_types: BTreeMap<String, String>,
    /// Artefact ID to manifest, as JSON.
    manifests: BTreeMap<String, serde_json::Value>,
    /// Every job with its outcome and the jobs it published.
    jobs: BTreeSet<String>,
}

async fn record(store: &dyn ObjectStore) -> Record {
    let report = verify_case(store, &case()).await.unwrap();
    assert!(report.problems.is_empty(), "verify: {:?}", report.problems);
    let (mut media_types, mut manifests) = (BTreeMap::new(), BTreeMap::new());
    for meta in store.list(&manifests_prefix(&case())).await.unwrap() {
        let bytes = read_small(store, &meta.key, 1 << 20).await.unwrap();
        let manifest: ArtefactManifest = serde_json::from_slice(&bytes).unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let name = comparable(&manifest, &mut json);
        media_types.insert(name.clone(), manifest.media_type.mime.clone());
        manifests.insert(name, json);
    }
    let mut jobs = BTreeSet::new();
    // Completion records only: a run also holds started marks (and an
    // ingest's roots), which say when, not what.
    let runs = store.list(&format!("{}runs/", case_prefix(&case()))).await.unwrap();
    for meta in runs.into_iter().filter(|m| m.key.as_str().contains("/jobs/")) {
        let bytes = read_small(store, &meta.key, 16 << 20).await.unwrap();
        let completion: Completion = serde_json::from_slice(&bytes).unwrap();
        jobs.insert(serde_json::to_string(&completion).unwrap());
    }
    Record { media_types, manifests, jobs }
}

/// The name a manifest is compared under, with what may differ between
/// two ingests at different times taken out: an OCR PDF embeds the time its
/// source was recorded (`pdf_created`), so its bytes (and so its ID and
/// digests) differ between the two runs whatever the store; it is named by
/// its source and rule instead. Every other artefact is compared whole, by ID.
fn comparable(manifest: &ArtefactManifest, json: &mut serde_json::Value) -> String {
    let (Some(derivation), Some(parent), "application/pdf") =
        (&manifest.derivation, &manifest.parent, manifest.media_type.mime.as_str())
    else {
        return manifest.id.to_string();
    };
    for volatile in ["id", "size", "digests"] {
        json.as_object_mut().unwrap().remove(volatile);
    }
    json["derivation"]["details"].as_object_mut().unwrap().remove("pdf_created");
    format!("PDF of {} by {}", parent.id, derivation.rule)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_local_paths_records_the_same_media_types_manifests_and_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let src = sources(dir.path());
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());

    let local: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("local")).unwrap());
    ingest(local.clone(), signer.clone(), &src).await;
    let wrapper = Arc::new(NoLocalPathStore::new(Arc::new(LocalStore::open(dir.path().join("remote")).unwrap())));
    ingest(wrapper.clone(), signer, &src).await;

    let (with, without) = (record(local.as_ref()).await, record(wrapper.as_ref()).await);
    assert!(wrapper.ranged_gets() > 0, "the wrapper store served reads by ranged gets");
    for mime in
        ["application/x-iso9660-image", "application/x-ewf", "application/x-cue", "image/png", "video/x-msvideo"]
    {
        assert!(with.media_types.values().any(|m| m == mime), "the local run has a {mime}: {:?}", with.media_types);
    }
    assert!(with.manifests.len() > 20, "explore found the files on the media: {}", with.manifests.len());
    assert_eq!(with.media_types, without.media_types, "media types");
    let differ: Vec<(&String, Option<&serde_json::Value>, Option<&serde_json::Value>)> = with
        .manifests
        .iter()
        .filter(|(id, m)| without.manifests.get(*id) != Some(*m))
        .map(|(id, m)| (id, Some(m), without.manifests.get(id)))
        .collect();
    assert!(differ.is_empty(), "manifests that differ (local, no local path): {differ:#?}");
    assert_eq!(with.manifests.len(), without.manifests.len(), "manifest count");
    assert_eq!(with.jobs, without.jobs, "jobs");
}
