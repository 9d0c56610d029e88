//! The conformance suite every [`JobQueue`] backend must pass.
//!
//! Each check takes a fresh, empty queue and panics with a message naming
//! the broken rule. Backends run them all with [`run_all`]:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use exhibit_queue::{JobQueue, MemoryQueue, conformance};
//! conformance::run_all(|| async { Arc::new(MemoryQueue::new(8)) as Arc<dyn JobQueue> }).await;
//! # });
//! ```
//!
//! The factory must hand out an isolated, empty queue each time (for a
//! broker, its own vhost or queue-name prefix), since several checks close
//! their queue. Checks publish up to [`MIN_CAPACITY`] jobs to one lane before
//! receiving, so a bounded queue must hold at least that many; only
//! [`concurrent_consumers_share_work`] runs at any capacity. Checks that
//! spawn tasks need a Tokio runtime.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use exhibit_core::ids::{CaseId, ExhibitRef};

use crate::{Delivery, Job, JobId, JobQueue, QueueErrorKind};

/// How long a check waits for something that must happen before calling
/// the backend broken; only reached when a check is failing.
const DEADLINE: Duration = Duration::from_secs(30);

/// How many undelivered jobs per lane a queue under test must hold.
pub const MIN_CAPACITY: usize = 5;

/// A job for `stage`, told apart from others by `n`.
pub fn sample_job(stage: &str, n: u32) -> Job {
    let input = serde_json::json!({ "path": format!("evidence/file-{n}.bin"), "n": n });
    Job {
        job_id: JobId::derive(stage, input.to_string().as_bytes(), "policy-1"),
        case: "42AB1234520".parse::<CaseId>().expect("valid case ID"),
        exhibit: "JS/1".parse::<ExhibitRef>().expect("valid exhibit reference"),
        stage: stage.to_owned(),
        input,
        attempt: 0,
    }
}

async fn publish(queue: &dyn JobQueue, job: Job) {
    let what = format!("publishing {} on {}", job.job_id.0, job.stage);
    within(&what, queue.publish(job)).await.unwrap_or_else(|e| panic!("{what}: {e}"));
}

async fn receive(queue: &dyn JobQueue, stage: &str) -> Option<Delivery> {
    let what = format!("receiving on {stage}");
    within(&what, queue.receive(stage)).await.unwrap_or_else(|e| panic!("{what}: {e}"))
}

async fn expect_job(queue: &dyn JobQueue, stage: &str) -> Delivery {
    receive(queue, stage).await.unwrap_or_else(|| panic!("{stage} ended while it still had jobs"))
}

async fn pending(queue: &dyn JobQueue, stage: &str) -> usize {
    queue.pending(stage).await.unwrap_or_else(|e| panic!("pending({stage}): {e}"))
}

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing happened within {DEADLINE:?}"))
}

/// Jobs of one stage come out in the order they went in.
pub async fn fifo_per_stage(queue: Arc<dyn JobQueue>) {
    for n in 0..5 {
        publish(&*queue, sample_job("acquire", n)).await;
    }
    for n in 0..5 {
        let delivery = expect_job(&*queue, "acquire").await;
        assert_eq!(delivery.job, sample_job("acquire", n), "FIFO order within a stage");
        assert_eq!(delivery.delivery_count, 1, "first delivery counts 1");
        queue.ack(delivery.tag).await.expect("ack");
    }
    assert_eq!(pending(&*queue, "acquire").await, 0);
}

/// A stage's receivers see only that stage's jobs, whatever the others hold.
pub async fn lanes_are_independent(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    publish(&*queue, sample_job("hash", 1)).await;
    publish(&*queue, sample_job("acquire", 2)).await;
    assert_eq!(pending(&*queue, "acquire").await, 2);
    assert_eq!(pending(&*queue, "hash").await, 1);
    assert_eq!(pending(&*queue, "unused").await, 0);

    let hash = expect_job(&*queue, "hash").await;
    assert_eq!(hash.job, sample_job("hash", 1), "receive(hash) skips other lanes' jobs");
    for n in [1, 2] {
        let delivery = expect_job(&*queue, "acquire").await;
        assert_eq!(delivery.job, sample_job("acquire", n), "another lane does not disturb order");
        queue.ack(delivery.tag).await.expect("ack");
    }
    assert_eq!(pending(&*queue, "hash").await, 1, "acks on one lane leave the other");
    queue.ack(hash.tag).await.expect("ack");
}

/// An ack removes the job for good, and its tag cannot be settled again.
pub async fn ack_removes(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    let delivery = expect_job(&*queue, "acquire").await;
    assert_eq!(pending(&*queue, "acquire").await, 1, "a delivered job is pending until acked");
    queue.ack(delivery.tag).await.expect("ack");
    assert_eq!(pending(&*queue, "acquire").await, 0, "an acked job is gone");
    let again = queue.ack(delivery.tag).await.expect_err("a second ack of one delivery fails");
    assert_eq!(again.kind(), QueueErrorKind::UnknownDelivery);
}

/// A requeueing nack puts the job back first, counted as a redelivery.
pub async fn nack_requeue_redelivers(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    publish(&*queue, sample_job("acquire", 2)).await;
    let first = expect_job(&*queue, "acquire").await;
    queue.nack(first.tag, true).await.expect("nack with requeue");
    assert_eq!(pending(&*queue, "acquire").await, 2, "a requeued job is still pending");

    let again = expect_job(&*queue, "acquire").await;
    assert_eq!(again.job, first.job, "a requeued job goes back to the front");
    assert_eq!(again.delivery_count, 2, "a redelivery counts 2");
    assert_ne!(again.tag, first.tag, "each delivery has its own tag");
    let stale = queue.ack(first.tag).await.expect_err("the first delivery's tag is spent");
    assert_eq!(stale.kind(), QueueErrorKind::UnknownDelivery);
    queue.ack(again.tag).await.expect("ack");

    let second = expect_job(&*queue, "acquire").await;
    assert_eq!(second.job, sample_job("acquire", 2));
    assert_eq!(second.delivery_count, 1);
    queue.ack(second.tag).await.expect("ack");
}

/// A nack without requeue drops the job.
pub async fn nack_drop_removes(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    let delivery = expect_job(&*queue, "acquire").await;
    queue.nack(delivery.tag, false).await.expect("nack without requeue");
    assert_eq!(pending(&*queue, "acquire").await, 0, "a dropped job is gone");
    let again = queue.nack(delivery.tag, false).await.expect_err("a dropped delivery is spent");
    assert_eq!(again.kind(), QueueErrorKind::UnknownDelivery);
}

/// After close, publishes fail, receivers drain what was queued, then get
/// `None`.
pub async fn close_drains_then_ends(queue: Arc<dyn JobQueue>) {
    for n in 0..3 {
        publish(&*queue, sample_job("acquire", n)).await;
    }
    queue.close().await.expect("close");
    let refused = queue.publish(sample_job("acquire", 9)).await.expect_err("publish after close fails");
    assert_eq!(refused.kind(), QueueErrorKind::Closed);

    for n in 0..3 {
        let delivery = expect_job(&*queue, "acquire").await;
        assert_eq!(delivery.job, sample_job("acquire", n), "close keeps queued jobs");
        queue.ack(delivery.tag).await.expect("ack");
    }
    assert!(receive(&*queue, "acquire").await.is_none(), "a drained closed lane ends");
    assert!(receive(&*queue, "acquire").await.is_none(), "and stays ended");
    assert!(receive(&*queue, "never-used").await.is_none(), "an empty closed lane ends");
}

/// Consumers racing on one lane each get distinct jobs, and every job is
/// delivered exactly once when each delivery is acked.
pub async fn concurrent_consumers_share_work(queue: Arc<dyn JobQueue>) {
    const JOBS: u32 = 200;
    const CONSUMERS: usize = 4;
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(delivery) = receive(&*queue, "hash").await {
                    assert_eq!(delivery.delivery_count, 1, "acked jobs are never redelivered");
                    seen.push(delivery.job.job_id.clone());
                    queue.ack(delivery.tag).await.expect("ack");
                }
                seen
            })
        })
        .collect();

    for n in 0..JOBS {
        publish(&*queue, sample_job("hash", n)).await;
    }
    queue.close().await.expect("close");

    let mut all = BTreeSet::new();
    for consumer in consumers {
        let seen = within("joining a consumer", consumer).await.expect("consumer panicked");
        for id in seen {
            assert!(all.insert(id), "a job was delivered to two consumers");
        }
    }
    let expected: BTreeSet<_> = (0..JOBS).map(|n| sample_job("hash", n).job_id).collect();
    assert_eq!(all, expected, "every job is delivered exactly once");
    assert_eq!(pending(&*queue, "hash").await, 0);
}

/// A job survives JSON unchanged, on its own and through the queue.
pub async fn job_json_round_trips(queue: Arc<dyn JobQueue>) {
    let mut job = sample_job("extract", 7);
    job.attempt = 3;
    job.input = serde_json::json!({
        "artefact": "0123456789abcdef0123456789abcdef",
        "name": "déclaration.txt",
        "sizes": [0, 1, u64::MAX],
        "nested": { "ok": true, "none": null },
    });
    let text = serde_json::to_string(&job).expect("a job serializes");
    let back: Job = serde_json::from_str(&text).expect("a serialized job parses");
    assert_eq!(back, job, "JSON round trip");

    publish(&*queue, job.clone()).await;
    let delivery = expect_job(&*queue, "extract").await;
    assert_eq!(delivery.job, job, "the queue delivers the job unchanged");
    queue.ack(delivery.tag).await.expect("ack");
}

/// Runs every check, each on a fresh queue from `factory`.
pub async fn run_all<F, Fut>(mut factory: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn JobQueue>>,
{
    fifo_per_stage(factory().await).await;
    lanes_are_independent(factory().await).await;
    ack_removes(factory().await).await;
    nack_requeue_redelivers(factory().await).await;
    nack_drop_removes(factory().await).await;
    close_drains_then_ends(factory().await).await;
    concurrent_consumers_share_work(factory().await).await;
    job_json_round_trips(factory().await).await;
}
