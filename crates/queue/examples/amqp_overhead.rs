//! Queue overhead per empty job through RabbitMQ: each job published
//! (persistent, to a quorum queue, its confirm awaited), received by a
//! consumer (prefetch as configured) and acked. Run by
//! `benches/queue-overhead.sh`.
//!
//! Usage: `amqp_overhead [JOBS] [URI]` (defaults 5000 and
//! `amqp://guest:guest@127.0.0.1:5672/%2f`). Prints three figures: one job
//! at a time (publish, receive, ack: the latency a lone job pays), then
//! publishing all one by one and consuming all, then publishing all as one
//! batch (`publish_all`: confirms overlap, as a worker publishes a job's
//! follow-ups and an ingest its roots) and consuming all (what a busy
//! queue costs per job).
//! The queues, under a prefix of their own, are deleted afterwards.

use std::time::{Duration, Instant};

use exhibit_queue::conformance::sample_job;
use exhibit_queue::{AmqpConfig, AmqpQueue, Job, JobId, JobQueue};

const LEASE: Duration = Duration::from_secs(600);

fn jobs(n: u32, round: &str) -> Vec<Job> {
    let template = sample_job("bench", 0);
    (0..n).map(|i| Job { job_id: JobId::derive("bench", &i.to_be_bytes(), round), ..template.clone() }).collect()
}

fn per_job(elapsed: Duration, n: u32) -> f64 {
    elapsed.as_secs_f64() * 1000.0 / f64::from(n)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().map_or(Ok(5000), |a| a.parse())?;
    let uri = args.next().unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let mut config = AmqpConfig::new(uri);
    config.prefix = format!("exhibit-bench-{}", std::process::id());
    let prefetch = config.prefetch;
    let queue = AmqpQueue::connect(config).await?;
    // Declares the queues and opens the consumer, outside the timing.
    queue.publish(sample_job("bench", 0)).await?;
    let warm = queue.receive("bench", LEASE).await?;
    queue.ack(warm.tag).await?;

    let started = Instant::now();
    for job in jobs(n, "serial") {
        queue.publish(job).await?;
        let delivery = queue.receive("bench", LEASE).await?;
        queue.ack(delivery.tag).await?;
    }
    let serial = started.elapsed();

    let started = Instant::now();
    for job in jobs(n, "publish") {
        queue.publish(job).await?;
    }
    let published = started.elapsed();
    let started = Instant::now();
    for _ in 0..n {
        let delivery = queue.receive("bench", LEASE).await?;
        queue.ack(delivery.tag).await?;
    }
    let consumed = started.elapsed();

    let started = Instant::now();
    queue.publish_all(jobs(n, "batch")).await?;
    let batch_published = started.elapsed();
    let started = Instant::now();
    for _ in 0..n {
        let delivery = queue.receive("bench", LEASE).await?;
        queue.ack(delivery.tag).await?;
    }
    let batch_consumed = started.elapsed();
    queue.delete_queues().await?;

    println!("{n} empty jobs through RabbitMQ (quorum queue, persistent, confirms; prefetch {prefetch}):");
    println!("  one at a time (publish, receive, ack): {:.3} ms per job", per_job(serial, n));
    println!(
        "  all published, then all consumed:      {:.3} ms per job ({:.3} publish + {:.3} receive and ack)",
        per_job(published + consumed, n),
        per_job(published, n),
        per_job(consumed, n)
    );
    println!(
        "  published as one batch, then consumed: {:.3} ms per job ({:.3} publish + {:.3} receive and ack)",
        per_job(batch_published + batch_consumed, n),
        per_job(batch_published, n),
        per_job(batch_consumed, n)
    );
    Ok(())
}
