//! Signed jobs over the in-process queue: the queue conformance suite
//! still holds, and each kind of forged job is dead-lettered unrun with a
//! reason an operator can act on, while a pinned key's jobs run.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use exhibit_app::job_keys::ProcessJobKeys;
use exhibit_custody::{Signer, TrustedKeys};
use exhibit_queue::conformance::{self, sample_job};
use exhibit_queue::{Job, JobId, JobQueue, MemoryQueue, SignedQueue};

const LONG: Duration = Duration::from_secs(600);

fn signer(dir: &Path, name: &str) -> Arc<Signer> {
    Arc::new(Signer::load_or_create(&dir.join(name)).unwrap())
}

fn signed(inner: Arc<MemoryQueue>, signer: Arc<Signer>, trusted: Option<TrustedKeys>) -> SignedQueue {
    SignedQueue::new(inner, Arc::new(ProcessJobKeys::new(signer, trusted)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_conformance_suite_holds_with_signed_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let key = signer(dir.path(), "key");
    conformance::run_all(|| {
        let key = key.clone();
        async move { Arc::new(signed(Arc::new(MemoryQueue::new()), key, None)) as Arc<dyn JobQueue> }
    })
    .await;
}

#[tokio::test]
async fn forged_jobs_are_dead_lettered_unrun_and_a_pinned_keys_job_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (worker, colleague, stranger) =
        (signer(dir.path(), "worker"), signer(dir.path(), "colleague"), signer(dir.path(), "stranger"));
    let pinned = format!("officer@force.example {}\n", colleague.public_key_openssh());
    let trusted = TrustedKeys::parse(&pinned, Path::new("allowed_signers")).unwrap();
    let inner = Arc::new(MemoryQueue::new());
    let queue = signed(inner.clone(), worker.clone(), Some(trusted));

    queue.publish(sample_job("explore", 3)).await.unwrap();
    let own = inner.receive("explore", LONG).await.unwrap();
    inner.ack(own.tag).await.unwrap();
    inner.publish(sample_job("explore", 1)).await.unwrap();
    signed(inner.clone(), stranger, None).publish(sample_job("explore", 2)).await.unwrap();
    inner.publish(Job { exhibit: "JS/2".parse().unwrap(), ..own.job.clone() }).await.unwrap();
    inner.publish(Job { job_id: JobId("0".repeat(64)), ..own.job.clone() }).await.unwrap();
    signed(inner.clone(), colleague, None).publish(sample_job("explore", 4)).await.unwrap();

    let delivered = queue.receive("explore", LONG).await.unwrap();
    assert_eq!(delivered.job.job_id, sample_job("explore", 4).job_id, "only the pinned colleague's job runs");
    let reasons: Vec<String> = inner.dead_letters().into_iter().map(|d| d.reason).collect();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
    assert!(reasons[0].contains("not signed"), "{}", reasons[0]);
    assert!(reasons[1].contains("does not trust") && reasons[1].contains("--trusted-keys"), "{}", reasons[1]);
    assert!(reasons[2].contains("altered") && reasons[3].contains("altered"), "{reasons:#?}");
}

#[tokio::test]
async fn a_hostile_signature_field_is_refused_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Arc::new(MemoryQueue::new());
    let queue = signed(inner.clone(), signer(dir.path(), "worker"), None);
    for (key, sig) in [("", ""), ("ssh-ed25519 !!!", "x"), ("not a key", "-----BEGIN SSH SIGNATURE-----\n")] {
        let signature = exhibit_queue::JobSignature { key: key.into(), sig: sig.into() };
        inner.publish(Job { signature: Some(signature), ..sample_job("explore", 9) }).await.unwrap();
    }
    queue.publish(sample_job("explore", 10)).await.unwrap();
    let delivered = queue.receive("explore", LONG).await.unwrap();
    assert_eq!(delivered.job.job_id, sample_job("explore", 10).job_id);
    assert_eq!(inner.dead_letters().len(), 3);
}
