//! Jobs on a broker are signed by the process that published them, and a
//! worker runs only jobs signed by its own key or a pinned one. The issue
//! 14 attacker, able to publish to the broker, made workers sign `failed`
//! events into a case (a job naming another case's artefact) and record a
//! second `explored` event (a real job replayed under a new job ID). Each
//! kind of forgery is now dead-lettered unrun, and the case's ledger does
//! not change.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use exhibit_app::job_keys::ProcessJobKeys;
use exhibit_custody::Signer;
use exhibit_queue::conformance::sample_job;
use exhibit_queue::{AmqpConfig, AmqpQueue, Job, JobId, JobQueue, SignedQueue};

use crate::cluster_env::{Vhost, WorkerProcess};
use crate::common::Sandbox;

/// `queue`, signing what it publishes with the key in `key_file`.
pub fn signed_by(key_file: &Path, queue: AmqpQueue) -> SignedQueue {
    let signer = Arc::new(Signer::load_or_create(key_file).unwrap());
    SignedQueue::new(Arc::new(queue), Arc::new(ProcessJobKeys::new(signer, None)))
}

const CASE: &str = "42AB1234520";

#[test]
fn unsigned_altered_replayed_and_strangers_jobs_are_refused_unrun_and_the_ledger_is_unchanged() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let evidence = sb.dir.path().join("note.txt");
    std::fs::write(&evidence, b"evidence").unwrap();
    let out = sb
        .exhibit()
        .args(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "T"])
        .arg(&evidence)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let before = sb.ledger(CASE).len();
    let stranger = sb.dir.path().join("stranger/key");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let connect = || async { AmqpQueue::connect(AmqpConfig::new(vhost.uri())).await.unwrap() };
        let raw = connect().await;
        // Unsigned, as any client of the broker can publish.
        raw.publish(sample_job("explore", 1)).await.unwrap();
        // Signed by a key nobody pinned.
        signed_by(&stranger, connect().await).publish(sample_job("explore", 2)).await.unwrap();
        // Signed by the worker's own key, then altered or given a new ID.
        let signed = sign_with(&sb.key_file(), sample_job("explore", 3));
        raw.publish(Job { exhibit: "JS/2".parse().unwrap(), ..signed.clone() }).await.unwrap();
        raw.publish(Job { job_id: JobId("f".repeat(64)), ..signed }).await.unwrap();
    });
    let store = sb.data().to_str().unwrap().to_owned();
    let worker = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore", None);
    let deadline = Instant::now() + Duration::from_secs(60);
    let refused = "exhibit_worker_jobs_total{stage=\"explore\",outcome=\"refused\"} 4";
    while !worker.metrics().contains(refused) {
        assert!(Instant::now() < deadline, "all four refused within 60 s: {}", worker.metrics());
        std::thread::sleep(Duration::from_millis(20));
    }
    let metrics = worker.metrics();
    assert!(!metrics.contains("outcome=\"dead_lettered\""), "none was run: {metrics}");
    let (code, rest) = worker.terminate();
    assert_eq!(code, 0, "{rest}");
    assert_eq!(sb.ledger(CASE).len(), before, "the worker recorded nothing in the case");
    for reason in ["not signed", "does not trust", "altered"] {
        assert!(rest.contains(reason), "a refusal says {reason:?}: {rest}");
    }
}

/// `job` as the key in `key_file` signs it.
fn sign_with(key_file: &Path, job: Job) -> Job {
    let keys = ProcessJobKeys::new(Arc::new(Signer::load_or_create(key_file).unwrap()), None);
    let bytes = exhibit_queue::signed::signed_bytes(&job).unwrap();
    Job { signature: Some(exhibit_queue::JobKeys::sign(&keys, &bytes).unwrap()), ..job }
}
