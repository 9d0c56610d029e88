//! The AMQP queue against the real RabbitMQ on loopback
//! (`EXHIBIT_TEST_AMQP`, default `amqp://guest:guest@127.0.0.1:5672/%2f`).
//! Each queue handle gets its own queue-name prefix, and its queues are
//! deleted afterwards.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exhibit_queue::conformance::{self, sample_job};
use exhibit_queue::{AmqpConfig, AmqpQueue, JobQueue, QueueErrorKind};
use exhibit_testkit::servers::close_connections_named;

const LONG: Duration = Duration::from_secs(600);

fn broker_uri() -> String {
    std::env::var("EXHIBIT_TEST_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

/// A config with a prefix no other test or run shares.
fn scratch_config() -> AmqpConfig {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let mut config = AmqpConfig::new(broker_uri());
    config.prefix = format!("exhibit-test-{}-{nanos}-{n}", std::process::id());
    config
}

async fn scratch_queue(config: AmqpConfig) -> Arc<AmqpQueue> {
    Arc::new(
        AmqpQueue::connect(config)
            .await
            .expect("RabbitMQ on 127.0.0.1:5672 (guest/guest) must be running; .ci/run starts it"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn amqp_passes_the_conformance_suite() {
    let made: Arc<Mutex<Vec<Arc<AmqpQueue>>>> = Arc::default();
    let handles = made.clone();
    conformance::run_all(move || {
        let handles = handles.clone();
        async move {
            let queue = scratch_queue(scratch_config()).await;
            handles.lock().unwrap().push(queue.clone());
            queue as Arc<dyn JobQueue>
        }
    })
    .await;
    let made = made.lock().unwrap().clone();
    for queue in made {
        queue.delete_queues().await.expect("delete the scratch queues");
    }
}

#[tokio::test]
async fn a_dead_lettered_job_lands_in_the_dead_letter_queue() {
    let queue = scratch_queue(scratch_config()).await;
    queue.publish(sample_job("ocr", 1)).await.unwrap();
    let delivery = queue.receive("ocr", LONG).await.unwrap();
    assert_eq!(queue.dead_letter_count("ocr").await.unwrap(), 0);
    queue.dead_letter(delivery.tag, "failed 3 times").await.unwrap();
    assert_eq!(queue.dead_letter_count("ocr").await.unwrap(), 1, "kept for an operator, not dropped");
    queue.delete_queues().await.unwrap();
}

#[tokio::test]
async fn a_publish_the_broker_refuses_is_an_error() {
    let mut config = scratch_config();
    config.max_length = Some(1);
    let queue = scratch_queue(config).await;
    queue.publish(sample_job("hash", 1)).await.expect("the first job fits");
    // A quorum queue checks its length before it appends, so it may take
    // one over the limit; the one after must be refused.
    let mut refused = None;
    for n in 2..=3 {
        if let Err(e) = queue.publish(sample_job("hash", n)).await {
            refused = Some(e);
            break;
        }
    }
    let err = refused.expect("a publish over max-length is nacked, and must not look queued");
    assert_eq!(err.kind(), QueueErrorKind::Io);
    assert!(err.to_string().contains("nack"), "{err}");
    queue.delete_queues().await.unwrap();
}

#[tokio::test]
async fn a_lease_past_the_consumer_timeout_is_refused() {
    let mut config = scratch_config();
    config.consumer_timeout = Duration::from_secs(120);
    let queue = scratch_queue(config).await;
    let err = queue.receive("hash", Duration::from_secs(90)).await.expect_err("over timeout less margin");
    assert_eq!(err.kind(), QueueErrorKind::Invalid);
    queue.publish(sample_job("hash", 1)).await.unwrap();
    let delivery = queue.receive("hash", Duration::from_secs(30)).await.unwrap();
    let err = queue.extend(delivery.tag, Duration::from_secs(90)).await.expect_err("extension past the timeout");
    assert_eq!(err.kind(), QueueErrorKind::Invalid);
    queue.extend(delivery.tag, Duration::from_secs(50)).await.expect("an extension within it");
    queue.ack(delivery.tag).await.unwrap();
    queue.delete_queues().await.unwrap();
}

/// RabbitMQ refuses to declare a quorum queue again with other arguments
/// (406 PRECONDITION_FAILED, closing the channel). A handle configured with
/// another delivery limit than its queues were made with gets an error,
/// at once rather than after its retries, that names the queue, the key
/// and what to do; the queues and their jobs are left as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_limit_other_than_the_queues_were_made_with_is_refused_with_what_to_do() {
    let made = scratch_config();
    let prefix = made.prefix.clone();
    let first = scratch_queue(made.clone()).await;
    first.publish(sample_job("hash", 1)).await.expect("declares the queues with the limit 10");
    let mut changed = made;
    changed.delivery_limit = 20;
    let second = scratch_queue(changed).await;
    let started = std::time::Instant::now();
    let publish = second.publish(sample_job("hash", 2)).await.expect_err("the broker refuses the redeclare");
    let receive = second.receive("hash", LONG).await.expect_err("a consumer declares it too");
    for err in [&publish, &receive] {
        assert_eq!(err.kind(), QueueErrorKind::Invalid, "no retry mends it: {err}");
        let text = err.to_string();
        for needed in [&format!("{prefix}.hash"), "delivery_limit", "delete_queue", "x-delivery-limit"] {
            assert!(text.contains(needed), "the error says {needed}: {text}");
        }
    }
    // Eight attempts with backoff take over 12 s; a refusal takes one round trip each.
    assert!(started.elapsed() < Duration::from_secs(10), "refused at once, not retried: {:?}", started.elapsed());
    let held = first.receive("hash", LONG).await.expect("the queue made first still works");
    assert_eq!(held.job, sample_job("hash", 1));
    first.ack(held.tag).await.unwrap();
    first.delete_queues().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_is_reopened_and_held_jobs_come_back() {
    let config = scratch_config();
    let prefix = config.prefix.clone();
    let queue = scratch_queue(config).await;
    queue.publish(sample_job("transcode", 1)).await.unwrap();
    let held = queue.receive("transcode", LONG).await.unwrap();
    close_connections_named(&prefix, "exhibit test: cut");
    // The ack may fail at once or vanish with the closed connection; either
    // way the broker has not taken it, and the job comes back.
    let _ = queue.ack(held.tag).await;
    let again = queue.receive("transcode", LONG).await.expect("receive reconnects");
    assert_eq!(again.job, held.job, "the broker put the unacked job back");
    assert!(again.delivery_count >= 2, "counted as a redelivery: {}", again.delivery_count);
    queue.ack(again.tag).await.unwrap();
    queue.publish(sample_job("transcode", 2)).await.expect("publish works on the new connection");
    queue.delete_queues().await.unwrap();
}

/// Publishes raw bytes to a stage's queue, as a foreign or hostile
/// publisher could.
async fn publish_raw(prefix: &str, stage: &str, bytes: &[u8]) {
    use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
    let connection = lapin::Connection::connect(&broker_uri(), lapin::ConnectionProperties::default()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel.confirm_select(ConfirmSelectOptions::default()).await.unwrap();
    let queue = format!("{prefix}.{stage}");
    let confirm = channel
        .basic_publish(
            "".into(),
            queue.as_str().into(),
            BasicPublishOptions::default(),
            bytes,
            lapin::BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(confirm.is_ack());
    connection.close(200, "done".into()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_are_dead_lettered_and_the_lane_goes_on() {
    let config = scratch_config();
    let prefix = config.prefix.clone();
    let queue = scratch_queue(config).await;
    // Declares the stage's queues.
    queue.publish(sample_job("explore", 1)).await.unwrap();
    let first = queue.receive("explore", LONG).await.unwrap();
    queue.ack(first.tag).await.unwrap();
    let mut other_stage = serde_json::to_value(sample_job("ocr", 2)).unwrap();
    other_stage["attempt"] = 0.into();
    for bytes in [&b"\xff\xfe not json"[..], b"{\"job_id\": 7}", b"", other_stage.to_string().as_bytes()] {
        publish_raw(&prefix, "explore", bytes).await;
    }
    queue.publish(sample_job("explore", 3)).await.unwrap();
    let next = queue.receive("explore", LONG).await.expect("the lane goes on past hostile messages");
    assert_eq!(next.job, sample_job("explore", 3));
    queue.ack(next.tag).await.unwrap();
    assert_eq!(queue.dead_letter_count("explore").await.unwrap(), 4, "each hostile message is kept aside");
    queue.delete_queues().await.unwrap();
}

/// Handles on one prefix, each on a connection of its own, as worker
/// processes are.
async fn handles_on_one_prefix(n: usize) -> (String, Vec<Arc<AmqpQueue>>) {
    let config = scratch_config();
    let prefix = config.prefix.clone();
    let mut handles = Vec::new();
    for _ in 0..n {
        handles.push(scratch_queue(config.clone()).await);
    }
    (prefix, handles)
}

/// RabbitMQ 3.10 closes a connection with INTERNAL_ERROR (`badmatch
/// {error,noproc}` in `rabbit_quorum_queue:consume`) when a consume races
/// the start of a quorum queue another connection has just declared. Many
/// connections open consumers on fresh queues at once, as workers do when
/// they start together; every receive must still get its jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn consumers_racing_to_open_fresh_quorum_queues_on_many_connections_get_every_job() {
    const STAGES: [&str; 4] = ["race0", "race1", "race2", "race3"];
    const JOBS: u32 = 8;
    let (_, handles) = handles_on_one_prefix(6).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = tokio::task::JoinSet::new();
    for handle in &handles {
        for stage in STAGES {
            let (handle, tx) = (handle.clone(), tx.clone());
            tasks.spawn(async move {
                loop {
                    let delivery = handle.receive(stage, LONG).await.expect("receive outlives the broker's race");
                    handle.ack(delivery.tag).await.expect("ack");
                    if tx.send(delivery.job.job_id.0.clone()).is_err() {
                        return;
                    }
                }
            });
        }
    }
    let publisher = &handles[0];
    for stage in STAGES {
        for n in 0..JOBS {
            publisher.publish(sample_job(stage, n)).await.expect("publish outlives the broker's race");
        }
    }
    let mut seen = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while seen.len() < STAGES.len() * JOBS as usize {
        let id = tokio::time::timeout_at(deadline, rx.recv()).await.expect("every job within 120 s").unwrap();
        seen.insert(id);
    }
    tasks.abort_all();
    for handle in &handles {
        handle.delete_queues().await.unwrap();
    }
}

/// A receiver waiting on an idle connection that the broker closes (a
/// restart, a cut) connects again and gets the next job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_receiver_outlives_its_connection_being_closed() {
    let config = scratch_config();
    let prefix = config.prefix.clone();
    let queue = scratch_queue(config).await;
    queue.publish(sample_job("explore", 1)).await.unwrap();
    let first = queue.receive("explore", LONG).await.unwrap();
    queue.ack(first.tag).await.unwrap();
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.receive("explore", LONG).await }
    });
    close_connections_named(&prefix, "exhibit test: cut");
    queue.publish(sample_job("explore", 2)).await.expect("publish reconnects");
    let next = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the idle receiver gets the job within 60 s")
        .unwrap()
        .expect("the idle receiver reconnects");
    assert_eq!(next.job, sample_job("explore", 2));
    queue.ack(next.tag).await.unwrap();
    queue.delete_queues().await.unwrap();
}

/// A consumer the broker cancels (its queue was deleted behind the handle's
/// back) is opened again on a queue declared again, and publishing to the
/// vanished queue declares it again instead of failing as unroutable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_the_broker_cancels_is_opened_again() {
    let config = scratch_config();
    let prefix = config.prefix.clone();
    let queue = scratch_queue(config).await;
    queue.publish(sample_job("ocr", 1)).await.unwrap();
    let first = queue.receive("ocr", LONG).await.unwrap();
    queue.ack(first.tag).await.unwrap();
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.receive("ocr", LONG).await }
    });
    let connection = lapin::Connection::connect(&broker_uri(), lapin::ConnectionProperties::default()).await.unwrap();
    let channel = connection.create_channel().await.unwrap();
    let main = format!("{prefix}.ocr");
    channel.queue_delete(main.as_str().into(), lapin::options::QueueDeleteOptions::default()).await.unwrap();
    connection.close(200, "done".into()).await.unwrap();
    queue.publish(sample_job("ocr", 2)).await.expect("publish declares the queue again");
    let next = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the cancelled receiver gets the job within 60 s")
        .unwrap()
        .expect("the cancelled consumer is opened again");
    assert_eq!(next.job, sample_job("ocr", 2));
    queue.ack(next.tag).await.unwrap();
    queue.delete_queues().await.unwrap();
}

/// Waits until `stage`'s dead-letter queue holds `n` jobs (a minute at most).
async fn dead_letters_reach(queue: &AmqpQueue, stage: &str, n: u32) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while queue.dead_letter_count(stage).await.unwrap() < n {
        assert!(tokio::time::Instant::now() < deadline, "no dead-letter on {stage} within a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A job whose holders keep dying (their connections close unsettled):
/// each delivery says how many times this copy came back so, and the
/// broker moves it aside by itself past its delivery limit, which the
/// queue reports so that a worker can record the job failed first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsettled_returns_are_counted_up_to_the_brokers_delivery_limit() {
    let mut config = scratch_config();
    config.delivery_limit = 3;
    let prefix = config.prefix.clone();
    let queue = scratch_queue(config).await;
    assert_eq!(queue.delivery_limit(), Some(3));
    queue.publish(sample_job("ocr", 1)).await.unwrap();
    let mut seen = Vec::new();
    loop {
        tokio::select! {
            delivery = queue.receive("ocr", LONG) => {
                let delivery = delivery.unwrap();
                seen.push((delivery.returned, delivery.delivery_count));
                assert!(seen.len() <= 10, "the broker never moved it aside: {seen:?}");
                close_connections_named(&prefix, "exhibit test: cut");
            }
            () = dead_letters_reach(&queue, "ocr", 1) => break,
        }
    }
    assert_eq!(seen, [(0, 1), (1, 2), (2, 3), (3, 4)], "(returned, deliveries) of each delivery");
    queue.delete_queues().await.unwrap();
}

#[tokio::test]
async fn the_depth_of_a_stage_nobody_declared_yet_is_zero_not_an_error() {
    // A worker's /healthz asks for depth before any job was published; a
    // queue that does not exist yet holds nothing (it used to answer
    // NOT_FOUND, and the worker reported itself unhealthy).
    let queue = scratch_queue(scratch_config()).await;
    assert_eq!(queue.depth("explore").await.expect("depth of an undeclared queue"), Some(0));
    queue.publish(sample_job("explore", 1)).await.expect("publish");
    assert_eq!(queue.depth("explore").await.expect("depth after a publish"), Some(1));
    queue.delete_queues().await.expect("delete the scratch queues");
}
