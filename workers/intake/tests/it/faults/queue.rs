//! A queue that misbehaves on purpose, within at-least-once: it duplicates
//! and delays (so reorders) publishes, loses acks (so redelivers), and at
//! random deliveries asks for the consuming worker to be killed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use exhibit_queue::{Delivery, DeliveryTag, Job, JobQueue, MemoryQueue, QueueError};
use tokio::sync::Notify;

/// How many faults of each kind were injected.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub duplicated: AtomicU64,
    pub delayed: AtomicU64,
    pub redelivered: AtomicU64,
    pub killed: AtomicU64,
}

impl FaultCounts {
    pub fn line(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "faults injected: {} duplicated, {} delayed/reordered, {} redelivered (lost acks), {} workers killed",
            get(&self.duplicated),
            get(&self.delayed),
            get(&self.redelivered),
            get(&self.killed)
        )
    }
}

/// The misbehaving queue, over a [`MemoryQueue`], driven by a seed.
#[derive(Debug)]
pub struct FaultQueue {
    inner: Arc<MemoryQueue>,
    rng: Mutex<u64>,
    pub counts: FaultCounts,
    /// Fired when the consuming worker should be killed now.
    pub kill: Notify,
    max_kills: u64,
}

impl FaultQueue {
    pub fn new(seed: u64, max_kills: u64) -> Self {
        Self {
            inner: Arc::new(MemoryQueue::new()),
            rng: Mutex::new(seed),
            counts: FaultCounts::default(),
            kill: Notify::new(),
            max_kills,
        }
    }

    /// A number in 0..100 from the seeded sequence.
    fn roll(&self) -> u64 {
        let mut state = self.rng.lock().unwrap();
        *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*state >> 33) % 100
    }
}

#[async_trait]
impl JobQueue for FaultQueue {
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        let roll = self.roll();
        if roll < 15 {
            self.counts.duplicated.fetch_add(1, Ordering::Relaxed);
            self.inner.publish(job.clone()).await?;
        } else if roll < 35 {
            self.counts.delayed.fetch_add(1, Ordering::Relaxed);
            let (inner, wait) = (self.inner.clone(), Duration::from_millis(self.roll() / 2 + 1));
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                inner.publish(job).await.unwrap();
            });
            return Ok(());
        }
        self.inner.publish(job).await
    }

    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
        let delivery = self.inner.receive(stage, lease).await?;
        if self.roll() < 6 && self.counts.killed.load(Ordering::Relaxed) < self.max_kills {
            self.counts.killed.fetch_add(1, Ordering::Relaxed);
            self.kill.notify_one();
        }
        Ok(delivery)
    }

    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        if self.roll() < 15 {
            self.counts.redelivered.fetch_add(1, Ordering::Relaxed);
            return self.inner.nack(tag, Duration::ZERO).await;
        }
        self.inner.ack(tag).await
    }

    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.inner.nack(tag, delay).await
    }

    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
        self.inner.extend(tag, lease).await
    }

    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
        self.inner.dead_letter(tag, reason).await
    }
}
