//! The conformance suite on [`MemoryQueue`], plus what only it offers: a
//! readable dead-letter list.

use std::future::{Future, ready};
use std::sync::Arc;
use std::time::Duration;

use exhibit_queue::conformance::{self, sample_job};
use exhibit_queue::{JobQueue, MemoryQueue, QueueErrorKind, QueueOptions, open_queue, open_queue_with};

const LONG: Duration = Duration::from_secs(600);

/// Polls `future` once: true if it finished.
async fn completes_now<F: Future + Unpin>(future: &mut F) -> bool {
    tokio::select! {
        biased;
        _ = future => true,
        () = ready(()) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    conformance::run_all(|| async { Arc::new(MemoryQueue::new()) as Arc<dyn JobQueue> }).await;
}

#[tokio::test]
async fn dead_letters_are_kept_with_their_reason() {
    let q = MemoryQueue::new();
    q.publish(sample_job("identify", 1)).await.unwrap();
    let first = q.receive("identify", LONG).await.unwrap();
    q.nack(first.tag, Duration::ZERO).await.unwrap();
    let second = q.receive("identify", LONG).await.unwrap();
    q.dead_letter(second.tag, "gave up after 2 tries").await.unwrap();
    let dead = q.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].job, sample_job("identify", 1));
    assert_eq!(dead[0].reason, "gave up after 2 tries");
    assert_eq!(dead[0].deliveries, 2);
}

#[tokio::test]
async fn receive_waits_for_a_publish() {
    let q = MemoryQueue::new();
    let mut waiting = Box::pin(q.receive("acquire", LONG));
    assert!(!completes_now(&mut waiting).await, "nothing to receive yet");
    q.publish(sample_job("hash", 1)).await.unwrap();
    assert!(!completes_now(&mut waiting).await, "another lane's job does not wake it");
    q.publish(sample_job("acquire", 1)).await.unwrap();
    let d = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("woken").unwrap();
    assert_eq!(d.job, sample_job("acquire", 1));
}

#[tokio::test]
async fn unknown_tags_are_refused() {
    let q = MemoryQueue::new();
    let tag = exhibit_queue::DeliveryTag(99);
    assert_eq!(q.ack(tag).await.unwrap_err().kind(), QueueErrorKind::UnknownDelivery);
    assert_eq!(q.extend(tag, LONG).await.unwrap_err().kind(), QueueErrorKind::UnknownDelivery);
    assert_eq!(q.dead_letter(tag, "x").await.unwrap_err().kind(), QueueErrorKind::UnknownDelivery);
}

#[test]
fn open_queue_picks_backend_by_uri() {
    assert!(open_queue("memory://").is_ok());
    assert!(open_queue("amqp://guest:guest@127.0.0.1:5672/%2f").is_ok(), "amqp:// opens (connecting on first use)");
    let err = open_queue("sqs://queue").expect_err("no SQS backend");
    assert_eq!(err.kind(), QueueErrorKind::Unsupported);
    assert!(err.to_string().contains("amqp://"), "the error names the known schemes: {err}");
    assert_eq!(err.error_kind(), exhibit_core::ErrorKind::Invalid);
    assert!(open_queue("no-scheme").is_err());
}

#[test]
fn open_queue_with_takes_delivery_limits_from_1_to_1000() {
    let amqp = "amqp://guest:guest@127.0.0.1:5672/%2f";
    for uri in ["memory://", amqp] {
        for limit in [1, 10, 1000] {
            assert!(open_queue_with(uri, QueueOptions { delivery_limit: limit }).is_ok(), "{uri} {limit}");
        }
        for limit in [0, 1001, u32::MAX] {
            let err = open_queue_with(uri, QueueOptions { delivery_limit: limit }).expect_err("out of range");
            assert_eq!(err.kind(), QueueErrorKind::Invalid, "{uri} {limit}");
            assert!(err.to_string().contains("from 1 to 1000"), "{err}");
        }
    }
    assert_eq!(QueueOptions::default().delivery_limit, 10);
    let queue = open_queue_with(amqp, QueueOptions { delivery_limit: 25 }).unwrap();
    assert_eq!(queue.delivery_limit(), Some(25), "the limit reaches the AMQP queue");
}
