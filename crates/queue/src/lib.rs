//! Job queues for exhibit: the [`JobQueue`] trait, the in-process
//! [`MemoryQueue`], and the conformance suite every backend must pass.
//!
//! Delivery is at-least-once: a job stays owned by its consumer until it is
//! acked; a nack (or a consumer that goes away) makes it deliverable again.
//! Workers make redelivery harmless by checking the ledger for the job's ID.

mod error;
mod job;
mod memory;

pub mod conformance;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;

pub use error::{QueueError, QueueErrorKind};
pub use job::{Job, JobId};
pub use memory::MemoryQueue;

/// Identifies one delivery of a job, for ack and nack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryTag(pub u64);

/// A job handed to a consumer, owned by it until acked or nacked.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The job.
    pub job: Job,
    /// The handle to ack or nack it with.
    pub tag: DeliveryTag,
    /// 1 for the first delivery, more after redeliveries.
    pub delivery_count: u32,
}

/// A durable (or, in memory, process-lifetime) queue of jobs, one lane per
/// stage.
#[async_trait]
pub trait JobQueue: Send + Sync + Debug {
    /// Queues a job on its stage's lane. Returns once the queue has it.
    async fn publish(&self, job: Job) -> Result<(), QueueError>;

    /// Waits for the next job of `stage`. Returns `None` once the queue is
    /// closed and that lane is drained of undelivered jobs.
    async fn receive(&self, stage: &str) -> Result<Option<Delivery>, QueueError>;

    /// The job is done; it will not be delivered again.
    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError>;

    /// The job was not done. With `requeue` it becomes deliverable again;
    /// without it, it is dropped (the caller has recorded why).
    async fn nack(&self, tag: DeliveryTag, requeue: bool) -> Result<(), QueueError>;

    /// Jobs of `stage` that are queued or delivered but not yet acked.
    async fn pending(&self, stage: &str) -> Result<usize, QueueError>;

    /// Stops accepting new publishes; receivers drain and then get `None`.
    async fn close(&self) -> Result<(), QueueError>;
}

/// Opens the queue a URI names. Only `memory://` exists so far.
pub fn open_queue(uri: &str, capacity: usize) -> Result<Arc<dyn JobQueue>, QueueError> {
    match uri.split_once("://") {
        Some(("memory", _)) => Ok(Arc::new(MemoryQueue::new(capacity))),
        _ => Err(QueueError::unsupported_uri(uri)),
    }
}
