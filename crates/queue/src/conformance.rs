//! The conformance suite every [`JobQueue`] backend must pass.
//!
//! Each check takes a fresh, empty queue and panics with a message naming
//! the broken rule. Backends run them all with [`run_all`]:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use exhibit_queue::{JobQueue, MemoryQueue, conformance};
//! conformance::run_all(|| async { Arc::new(MemoryQueue::new()) as Arc<dyn JobQueue> }).await;
//! # });
//! ```
//!
//! The factory must hand out an isolated, empty queue each time (for a
//! broker, its own vhost or queue-name prefix). "Nothing else is delivered"
//! is checked without waiting on a clock: a sentinel job is published
//! after, and it must be the next delivery. Lease and delay checks wait
//! out short real durations; checks that spawn
//! tasks need a Tokio runtime.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exhibit_core::ids::{CaseId, ExhibitRef};
use tokio::sync::Notify;

use crate::input::{DeriveInput, SourceInput};
use crate::{Delivery, Job, JobId, JobInput, JobQueue, QueueErrorKind, StageInput};

/// How long a check waits for something that must happen before calling
/// the backend broken; only reached when a check is failing.
const DEADLINE: Duration = Duration::from_secs(30);
/// A lease long enough never to expire during a check.
const LONG: Duration = Duration::from_secs(600);
/// A lease or delay short enough to wait out.
const SHORT: Duration = Duration::from_secs(1);

/// A job for `stage`, told apart from others by `n`.
pub fn sample_job(stage: &str, n: u32) -> Job {
    let path = format!("evidence/file-{n}.bin");
    let input = JobInput::from(StageInput::Acquire(SourceInput {
        path_hex: path.bytes().map(|b| format!("{b:02x}")).collect(),
        path,
        found_beside: None,
        in_set: false,
        recorded_hex: None,
    }));
    Job {
        job_id: JobId::derive(stage, input.to_value().to_string().as_bytes(), "policy-1"),
        case: "42AB1234520".parse::<CaseId>().expect("valid case ID"),
        exhibit: "JS/1".parse::<ExhibitRef>().expect("valid exhibit reference"),
        stage: stage.to_owned(),
        input,
        attempt: 0,
        run: None,
        signature: None,
        after: Vec::new(),
    }
}

const SENTINEL: u32 = u32::MAX;

async fn publish(queue: &dyn JobQueue, job: Job) {
    let what = format!("publishing {} on {}", job.job_id.0, job.stage);
    within(&what, queue.publish(job)).await.unwrap_or_else(|e| panic!("{what}: {e}"));
}

/// The next delivery, its publisher's signature set aside (a signing
/// queue adds one; the job is otherwise as published).
async fn receive(queue: &dyn JobQueue, stage: &str, lease: Duration) -> Delivery {
    let what = format!("receiving on {stage}");
    let delivery = within(&what, queue.receive(stage, lease)).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    Delivery { job: Job { signature: None, ..delivery.job }, ..delivery }
}

/// Publishes a sentinel and checks that it is the next delivery of `stage`.
async fn next_is_sentinel(queue: &dyn JobQueue, stage: &str, rule: &str) {
    publish(queue, sample_job(stage, SENTINEL)).await;
    let next = receive(queue, stage, LONG).await;
    assert_eq!(next.job, sample_job(stage, SENTINEL), "{rule}");
    queue.ack(next.tag).await.expect("ack the sentinel");
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
        let delivery = receive(&*queue, "acquire", LONG).await;
        assert_eq!(delivery.job, sample_job("acquire", n), "FIFO order within a stage");
        assert_eq!(delivery.delivery_count, 1, "first delivery counts 1");
        queue.ack(delivery.tag).await.expect("ack");
    }
    next_is_sentinel(&*queue, "acquire", "acked jobs are gone").await;
}

/// A stage's receivers see only that stage's jobs, whatever the others hold.
pub async fn lanes_are_independent(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    publish(&*queue, sample_job("hash", 1)).await;
    publish(&*queue, sample_job("acquire", 2)).await;
    let hash = receive(&*queue, "hash", LONG).await;
    assert_eq!(hash.job, sample_job("hash", 1), "receive(hash) skips other lanes' jobs");
    for n in [1, 2] {
        let delivery = receive(&*queue, "acquire", LONG).await;
        assert_eq!(delivery.job, sample_job("acquire", n), "another lane does not disturb order");
        queue.ack(delivery.tag).await.expect("ack");
    }
    queue.ack(hash.tag).await.expect("acks on one lane leave the other's deliveries valid");
    next_is_sentinel(&*queue, "hash", "an acked job of another lane is gone").await;
}

/// An ack removes the job for good, and its tag cannot be settled again.
pub async fn ack_removes(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    let delivery = receive(&*queue, "acquire", LONG).await;
    queue.ack(delivery.tag).await.expect("ack");
    let again = queue.ack(delivery.tag).await.expect_err("a second ack of one delivery fails");
    assert_eq!(again.kind(), QueueErrorKind::UnknownDelivery);
    let late = queue.nack(delivery.tag, Duration::ZERO).await.expect_err("a nack after the ack fails");
    assert_eq!(late.kind(), QueueErrorKind::UnknownDelivery);
    next_is_sentinel(&*queue, "acquire", "an acked job is never redelivered").await;
}

/// A nack without delay redelivers the job, counted, under a new tag.
pub async fn nack_redelivers(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    let first = receive(&*queue, "acquire", LONG).await;
    queue.nack(first.tag, Duration::ZERO).await.expect("nack");
    let again = receive(&*queue, "acquire", LONG).await;
    assert_eq!(again.job, first.job, "a nacked job is delivered again");
    assert_eq!(again.delivery_count, 2, "a redelivery counts 2");
    assert_ne!(again.tag, first.tag, "each delivery has its own tag");
    let stale = queue.ack(first.tag).await.expect_err("the first delivery's tag is spent");
    assert_eq!(stale.kind(), QueueErrorKind::UnknownDelivery);
    queue.ack(again.tag).await.expect("ack");
}

/// A released job (one this consumer may not run: another run's) comes
/// back uncounted, however often it is released.
pub async fn release_does_not_count(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("acquire", 1)).await;
    for _ in 0..3 {
        let delivery = receive(&*queue, "acquire", LONG).await;
        assert_eq!(delivery.delivery_count, 1, "a released job is not counted as tried");
        queue.release(delivery.tag, Duration::ZERO).await.expect("release");
    }
    let last = receive(&*queue, "acquire", LONG).await;
    queue.nack(last.tag, Duration::ZERO).await.expect("nack");
    let counted = receive(&*queue, "acquire", LONG).await;
    assert_eq!(counted.delivery_count, 2, "a nack after releases counts once");
    queue.ack(counted.tag).await.expect("ack");
}

/// A delayed nack holds the job back: later jobs overtake it, and it comes
/// back no sooner than the delay.
pub async fn nack_delay_holds_back(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("ocr", 1)).await;
    let first = receive(&*queue, "ocr", LONG).await;
    let nacked_at = tokio::time::Instant::now();
    queue.nack(first.tag, SHORT).await.expect("nack with delay");
    publish(&*queue, sample_job("ocr", 2)).await;
    let overtaking = receive(&*queue, "ocr", LONG).await;
    assert_eq!(overtaking.job, sample_job("ocr", 2), "a job due now overtakes a delayed one");
    queue.ack(overtaking.tag).await.expect("ack");
    let back = receive(&*queue, "ocr", LONG).await;
    assert_eq!(back.job, sample_job("ocr", 1), "the delayed job comes back");
    assert!(nacked_at.elapsed() >= SHORT, "not before its delay: {:?}", nacked_at.elapsed());
    assert_eq!(back.delivery_count, 2);
    queue.ack(back.tag).await.expect("ack");
}

/// A lease that runs out makes the job deliverable again; the old tag is
/// spent.
pub async fn expired_lease_redelivers(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("transcode", 1)).await;
    let first = receive(&*queue, "transcode", SHORT).await;
    let again = receive(&*queue, "transcode", LONG).await;
    assert_eq!(again.job, first.job, "an unsettled job whose lease ran out is redelivered");
    assert_eq!(again.delivery_count, 2);
    let stale = queue.ack(first.tag).await.expect_err("an expired delivery cannot be acked");
    assert_eq!(stale.kind(), QueueErrorKind::UnknownDelivery);
    let stale = queue.extend(first.tag, LONG).await.expect_err("nor extended");
    assert_eq!(stale.kind(), QueueErrorKind::UnknownDelivery);
    queue.ack(again.tag).await.expect("ack");
}

/// Extending a lease keeps the job with its consumer past the first lease.
pub async fn extend_keeps_the_lease(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("transcode", 1)).await;
    let held = receive(&*queue, "transcode", SHORT).await;
    queue.extend(held.tag, LONG).await.expect("extend");
    tokio::time::sleep(SHORT * 3).await;
    next_is_sentinel(&*queue, "transcode", "an extended lease is not redelivered").await;
    queue.ack(held.tag).await.expect("the extended delivery can still be acked");
}

/// A dead-lettered job is never delivered again and its tag is spent.
pub async fn dead_letter_removes(queue: Arc<dyn JobQueue>) {
    publish(&*queue, sample_job("identify", 1)).await;
    let delivery = receive(&*queue, "identify", LONG).await;
    queue.dead_letter(delivery.tag, "failed 3 times").await.expect("dead_letter");
    let again = queue.ack(delivery.tag).await.expect_err("a dead-lettered delivery is spent");
    assert_eq!(again.kind(), QueueErrorKind::UnknownDelivery);
    next_is_sentinel(&*queue, "identify", "a dead-lettered job is not redelivered").await;
}

/// Consumers racing on one lane each get distinct jobs, and every job is
/// delivered exactly once when each delivery is acked.
pub async fn concurrent_consumers_share_work(queue: Arc<dyn JobQueue>) {
    const JOBS: usize = 200;
    const CONSUMERS: usize = 4;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let all_seen = Arc::new(Notify::new());
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (queue, seen, all_seen) = (queue.clone(), seen.clone(), all_seen.clone());
            tokio::spawn(async move {
                loop {
                    let delivery = receive(&*queue, "hash", LONG).await;
                    assert_eq!(delivery.delivery_count, 1, "acked jobs are never redelivered");
                    queue.ack(delivery.tag).await.expect("ack");
                    let mut seen = seen.lock().expect("no consumer panicked");
                    seen.push(delivery.job.job_id);
                    if seen.len() == JOBS {
                        all_seen.notify_one();
                    }
                }
            })
        })
        .collect();
    for n in 0..JOBS as u32 {
        publish(&*queue, sample_job("hash", n)).await;
    }
    within("consuming every job", all_seen.notified()).await;
    for consumer in &consumers {
        consumer.abort();
    }
    let seen = seen.lock().expect("no consumer panicked").clone();
    let distinct: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(distinct.len(), seen.len(), "a job was delivered to two consumers");
    let expected: BTreeSet<_> = (0..JOBS as u32).map(|n| sample_job("hash", n).job_id).collect();
    assert_eq!(distinct, expected, "every job is delivered exactly once");
}

/// `publish_all` queues every job of a batch spread over several lanes
/// exactly once, each on its own lane.
pub async fn publish_all_queues_every_job_once(queue: Arc<dyn JobQueue>) {
    const PER_LANE: u32 = 150;
    let lanes = ["hash", "explore"];
    let jobs: Vec<Job> = (0..PER_LANE).flat_map(|n| lanes.map(|lane| sample_job(lane, n))).collect();
    within("publishing a batch", queue.publish_all(jobs)).await.unwrap_or_else(|e| panic!("publish_all: {e}"));
    for lane in lanes {
        let mut seen = BTreeSet::new();
        for _ in 0..PER_LANE {
            let delivery = receive(&*queue, lane, LONG).await;
            assert_eq!(delivery.job.stage, lane, "a batch's job arrives on its own lane");
            assert!(seen.insert(delivery.job.job_id.clone()), "a batch's job was delivered twice");
            queue.ack(delivery.tag).await.expect("ack");
        }
        let expected: BTreeSet<_> = (0..PER_LANE).map(|n| sample_job(lane, n).job_id).collect();
        assert_eq!(seen, expected, "every job of the batch is delivered");
        next_is_sentinel(&*queue, lane, "nothing of the batch is left or doubled").await;
    }
    within("publishing an empty batch", queue.publish_all(Vec::new())).await.expect("an empty batch is fine");
}

/// A job survives JSON unchanged, on its own and through the queue.
pub async fn job_json_round_trips(queue: Arc<dyn JobQueue>) {
    let mut job = sample_job("extract", 7);
    job.attempt = 3;
    job.input = JobInput::from(StageInput::Ocr(DeriveInput {
        path: "déclaration \u{1F4C4}.pdf".into(),
        artefact: "0123456789abcdef0123456789abcdef".parse().expect("valid artefact ID"),
        sha256: exhibit_core::Sha256Digest::of(b"scan"),
        size: u64::MAX,
        mime: "application/pdf".into(),
    }));
    let text = serde_json::to_string(&job).expect("a job serializes");
    let back: Job = serde_json::from_str(&text).expect("a serialized job parses");
    assert_eq!(back, job, "JSON round trip");

    publish(&*queue, job.clone()).await;
    let delivery = receive(&*queue, "extract", LONG).await;
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
    nack_redelivers(factory().await).await;
    release_does_not_count(factory().await).await;
    nack_delay_holds_back(factory().await).await;
    expired_lease_redelivers(factory().await).await;
    extend_keeps_the_lease(factory().await).await;
    dead_letter_removes(factory().await).await;
    concurrent_consumers_share_work(factory().await).await;
    publish_all_queues_every_job_once(factory().await).await;
    job_json_round_trips(factory().await).await;
}
