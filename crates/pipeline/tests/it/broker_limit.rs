//! A job its workers keep dying on, over RabbitMQ on loopback
//! (`EXHIBIT_TEST_AMQP`, default `amqp://guest:guest@127.0.0.1:5672/%2f`):
//! the worker records it failed, with a `failed` event, before the
//! broker's delivery limit moves it aside where no waiter would learn of
//! it, whatever `max_attempts` is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use exhibit_core::event::Action;
use exhibit_custody::read_entries;
use exhibit_pipeline::{JobOutcome, Stage, StageContext, StageError, WorkerConfig, run_in_process};
use exhibit_queue::conformance::sample_job;
use exhibit_queue::{AmqpConfig, AmqpQueue, Job, JobQueue};
use exhibit_testkit::servers::close_connections_named;

use crate::worker::env;

/// A stage that counts its runs and succeeds.
struct Counted(AtomicU32);

#[async_trait]
impl Stage for Counted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    async fn run(&self, _ctx: &StageContext, _job: &Job) -> Result<Vec<Job>, StageError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Vec::new())
    }
}

fn config(limit: u32) -> AmqpConfig {
    let uri = std::env::var("EXHIBIT_TEST_AMQP").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned());
    let mut config = AmqpConfig::new(uri);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    config.prefix = format!("exhibit-pipeline-test-{}-{nanos}", std::process::id());
    config.delivery_limit = limit;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_its_workers_keep_dying_on_is_recorded_failed_before_the_brokers_limit() {
    const LIMIT: u32 = 4;
    let env = env().await;
    let config = config(LIMIT);
    let prefix = config.prefix.clone();
    let job = sample_job("scripted", 1);
    // Workers that die holding the job: it comes back unsettled each time.
    let dying = AmqpQueue::connect(config.clone()).await.expect("RabbitMQ on 127.0.0.1:5672 (guest/guest)");
    dying.publish(job.clone()).await.unwrap();
    for returned in 0..LIMIT - 1 {
        let delivery = dying.receive("scripted", Duration::from_secs(600)).await.unwrap();
        assert_eq!(delivery.returned, returned);
        close_connections_named(&prefix, "exhibit test: the worker died");
    }
    drop(dying);
    // A worker whose attempts (8 + 3) go past the broker's limit of 4: the
    // broker would move the job aside, unrecorded, after one more death.
    let queue = Arc::new(AmqpQueue::connect(config).await.unwrap());
    let stage = Arc::new(Counted(AtomicU32::new(0)));
    let worker = WorkerConfig {
        max_attempts: 8,
        retry_delay: Duration::from_millis(5),
        ..WorkerConfig::new(vec![stage.clone() as Arc<dyn Stage>])
    };
    let shared: Arc<dyn JobQueue> = queue.clone();
    let summary = run_in_process(env.ctx.clone(), shared, env.completions.clone(), worker, (vec![job.clone()], true))
        .await
        .unwrap();
    assert_eq!(summary.failed, 1, "recorded failed");
    assert_eq!(stage.0.load(Ordering::SeqCst), 0, "not run again");
    let record = env.completions.get(&job.job_id).await.unwrap().expect("a completion record");
    assert_eq!(record.outcome, JobOutcome::Failed);
    let failed: Vec<_> = read_entries(env.store.as_ref(), &env.ctx.case)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.parsed.unwrap().events().to_vec())
        .filter(|e| e.action == Action::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "one failed event, where a waiter finds it");
    assert!(format!("{:?}", failed[0].outcome).contains("without being settled"), "{:?}", failed[0].outcome);
    assert_eq!(queue.dead_letter_count("scripted").await.unwrap(), 1, "moved aside once, by the worker");
    queue.delete_queues().await.unwrap();
}
