//! The conformance suite on [`MemoryQueue`], plus what only it promises:
//! backpressure at its capacity.

use std::future::{Future, ready};
use std::sync::Arc;
use std::time::Duration;

use exhibit_queue::conformance::{self, sample_job};
use exhibit_queue::{JobQueue, MemoryQueue, QueueErrorKind, open_queue};

fn queue(capacity: usize) -> Arc<dyn JobQueue> {
    Arc::new(MemoryQueue::new(capacity))
}

/// Polls `future` once: true if it finished.
async fn completes_now<F: Future + Unpin>(future: &mut F) -> bool {
    tokio::select! {
        biased;
        _ = future => true,
        () = ready(()) => false,
    }
}

/// Awaits something that must already be able to finish.
async fn soon<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(10), future).await.expect("did not finish")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite() {
    conformance::run_all(|| async { queue(16) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_at_min_capacity() {
    conformance::run_all(|| async { queue(conformance::MIN_CAPACITY) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consumers_at_capacity_one() {
    // The smallest bound makes publishers and consumers interleave hardest.
    conformance::concurrent_consumers_share_work(queue(1)).await;
}

#[tokio::test]
async fn publish_waits_at_capacity_until_a_receive() {
    let q = queue(2);
    q.publish(sample_job("acquire", 1)).await.unwrap();
    q.publish(sample_job("acquire", 2)).await.unwrap();

    let mut third = Box::pin(q.publish(sample_job("acquire", 3)));
    assert!(!completes_now(&mut third).await, "the third publish waits at capacity 2");
    assert!(!completes_now(&mut third).await, "and keeps waiting");

    // Other lanes and requeues are not held up by a full lane.
    q.publish(sample_job("hash", 1)).await.unwrap();

    let first = q.receive("acquire").await.unwrap().unwrap();
    soon(third).await.unwrap();
    assert_eq!(q.pending("acquire").await.unwrap(), 3);

    q.nack(first.tag, true).await.unwrap();
    assert_eq!(q.pending("acquire").await.unwrap(), 3, "a requeue past capacity is kept");
    for n in [1, 2, 3] {
        let d = q.receive("acquire").await.unwrap().unwrap();
        assert_eq!(d.job, sample_job("acquire", n));
        q.ack(d.tag).await.unwrap();
    }
}

#[tokio::test]
async fn close_releases_a_waiting_publisher_with_an_error() {
    let q = queue(1);
    q.publish(sample_job("acquire", 1)).await.unwrap();
    let mut blocked = Box::pin(q.publish(sample_job("acquire", 2)));
    assert!(!completes_now(&mut blocked).await);
    q.close().await.unwrap();
    let err = soon(blocked).await.expect_err("a publish that waited past close fails");
    assert_eq!(err.kind(), QueueErrorKind::Closed);
    assert_eq!(q.pending("acquire").await.unwrap(), 1);
}

#[tokio::test]
async fn receive_waits_for_a_publish() {
    let q = queue(4);
    let mut waiting = Box::pin(q.receive("acquire"));
    assert!(!completes_now(&mut waiting).await, "nothing to receive yet");
    q.publish(sample_job("acquire", 1)).await.unwrap();
    let d = soon(waiting).await.unwrap().expect("the published job");
    assert_eq!(d.job, sample_job("acquire", 1));
}

#[tokio::test]
async fn closed_lane_waits_while_a_delivery_could_come_back() {
    let q = queue(4);
    q.publish(sample_job("acquire", 1)).await.unwrap();
    let d = q.receive("acquire").await.unwrap().unwrap();
    q.close().await.unwrap();

    let mut next = Box::pin(q.receive("acquire"));
    assert!(!completes_now(&mut next).await, "a nack could still requeue the held job");
    q.nack(d.tag, true).await.unwrap();
    let again = soon(next).await.unwrap().expect("the requeued job");
    assert_eq!(again.delivery_count, 2);

    let mut end = Box::pin(q.receive("acquire"));
    assert!(!completes_now(&mut end).await);
    q.ack(again.tag).await.unwrap();
    assert!(soon(end).await.unwrap().is_none(), "settled and drained: the lane ends");
}

#[test]
fn open_queue_picks_backend_by_uri() {
    assert!(open_queue("memory://", 8).is_ok());
    let err = open_queue("amqp://localhost", 8).expect_err("no AMQP backend yet");
    assert_eq!(err.kind(), QueueErrorKind::Unsupported);
    assert_eq!(err.error_kind(), exhibit_core::ErrorKind::Invalid);
    assert!(open_queue("no-scheme", 8).is_err());
}
