//! Job queues for exhibit: the [`JobQueue`] trait, the in-process
//! [`MemoryQueue`], and the conformance suite every backend must pass.
//!
//! Delivery is at-least-once, as on a broker: a received job is leased to
//! its consumer until it is acked, nacked, dead-lettered, or the lease runs
//! out; then it is delivered again. Long jobs extend their lease. Workers
//! make redelivery harmless: a stage's records are guarded by the ledger,
//! so a job done twice records nothing twice.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use exhibit_queue::{JobQueue, MemoryQueue, conformance::sample_job};
//! let queue = MemoryQueue::new();
//! queue.publish(sample_job("acquire", 1)).await.unwrap();
//! let delivery = queue.receive("acquire", Duration::from_secs(60)).await.unwrap();
//! queue.ack(delivery.tag).await.unwrap();
//! # });
//! ```

#[cfg(feature = "amqp")]
mod amqp;
mod error;
pub mod input;
mod job;
mod memory;
pub mod signed;

pub mod conformance;

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

#[cfg(feature = "amqp")]
pub use amqp::{AmqpConfig, AmqpQueue, Backoff};
pub use error::{QueueError, QueueErrorKind};
pub use input::{JobInput, JobInputError, StageInput};
pub use job::{Job, JobId};
pub use memory::{DeadLetter, MemoryQueue};
pub use signed::{JobKeys, JobSignature, SignedQueue};

/// Identifies one delivery of a job, for settling it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryTag(pub u64);

/// A job handed to a consumer, leased to it until settled or expired.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The job.
    pub job: Job,
    /// The handle to ack, nack, extend or dead-letter it with.
    pub tag: DeliveryTag,
    /// 1 for the first delivery, more after redeliveries.
    pub delivery_count: u32,
    /// Times this copy of the job was handed out before and came back
    /// unsettled (its holder died, or its channel closed): what a broker's
    /// delivery limit ([`JobQueue::delivery_limit`]) counts. 0 where the
    /// queue has no such limit.
    pub returned: u32,
}

/// A queue of jobs, one lane per stage, delivering at least once.
#[async_trait]
pub trait JobQueue: Send + Sync + Debug {
    /// Queues a job on its stage's lane. Returns once the queue has it.
    async fn publish(&self, job: Job) -> Result<(), QueueError>;

    /// Queues every job of `jobs`, in no promised order, and returns once
    /// the queue has them all. A broker overlaps their confirms (one disk
    /// flush can cover many); by default they are published one by one. On
    /// an error some of them may be queued already, which at-least-once
    /// delivery allows.
    async fn publish_all(&self, jobs: Vec<Job>) -> Result<(), QueueError> {
        for job in jobs {
            self.publish(job).await?;
        }
        Ok(())
    }

    /// Waits for the next due job of `stage` and leases it for `lease`.
    /// Unless settled or extended in time, it is delivered again after.
    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError>;

    /// The job is done; it will not be delivered again.
    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError>;

    /// The job was not done; it is delivered again once `delay` has passed.
    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError>;

    /// The job was not tried here (it belongs to another process's run):
    /// it is delivered again once `delay` has passed, and this delivery
    /// does not count towards its attempts.
    async fn release(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.nack(tag, delay).await
    }

    /// The job is still being worked on: its lease now ends `lease` from now.
    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError>;

    /// The job failed for good: it is moved aside with `reason`, never to be
    /// delivered again, and kept for an operator to look at.
    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError>;

    /// Jobs of `stage` waiting to be delivered, where the backend can say
    /// (for metrics); `None` where it cannot.
    async fn depth(&self, _stage: &str) -> Result<Option<u64>, QueueError> {
        Ok(None)
    }

    /// How many unsettled returns of one copy of a job
    /// ([`Delivery::returned`]) the backend allows before it moves the job
    /// aside by itself, where no worker records why (a broker's delivery
    /// limit): a worker must record the job failed first. `None` where the
    /// queue never does.
    fn delivery_limit(&self) -> Option<u32> {
        None
    }

    /// Whether workers in other processes take jobs off this queue (a
    /// broker), so that completion records must be in the store, where
    /// they can see and write them; false for a queue in this process.
    fn shared(&self) -> bool {
        false
    }
}

/// What a queue URI does not say: settings of the broker's queues, which
/// `memory://` ignores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// Deliveries of one job without a settle (its workers keep dying on
    /// it) before the broker moves it to the dead-letter queue; within
    /// [`DELIVERY_LIMITS`].
    pub delivery_limit: u32,
}

/// The delivery limits a queue accepts: at least one delivery, and few
/// enough that a job every worker dies on is moved aside within hours.
pub const DELIVERY_LIMITS: std::ops::RangeInclusive<u32> = 1..=1000;

/// The delivery limit when none is configured.
pub const DEFAULT_DELIVERY_LIMIT: u32 = 10;

impl Default for QueueOptions {
    fn default() -> Self {
        Self { delivery_limit: DEFAULT_DELIVERY_LIMIT }
    }
}

/// Opens the queue a URI names with the default [`QueueOptions`].
pub fn open_queue(uri: &str) -> Result<Arc<dyn JobQueue>, QueueError> {
    open_queue_with(uri, QueueOptions::default())
}

/// Opens the queue a URI names: `memory://`, or (with the `amqp` feature)
/// `amqp://USER:PASS@HOST:PORT/VHOST` with queues named `exhibit.STAGE`,
/// shaped by `options`. An AMQP queue connects on first use.
pub fn open_queue_with(uri: &str, options: QueueOptions) -> Result<Arc<dyn JobQueue>, QueueError> {
    if !DELIVERY_LIMITS.contains(&options.delivery_limit) {
        return Err(QueueError::DeliveryLimit { limit: options.delivery_limit });
    }
    match uri.split_once("://") {
        Some(("memory", _)) => Ok(Arc::new(MemoryQueue::new())),
        #[cfg(feature = "amqp")]
        Some(("amqp" | "amqps", _)) => {
            let mut config = AmqpConfig::new(uri);
            config.delivery_limit = options.delivery_limit;
            Ok(Arc::new(AmqpQueue::open(config)))
        }
        _ => Err(QueueError::unsupported_uri(uri)),
    }
}
