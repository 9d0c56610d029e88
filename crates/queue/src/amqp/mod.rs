//! The RabbitMQ [`JobQueue`]: durable quorum queues, persistent messages,
//! publisher confirms awaited per publish, prefetch, delayed retry through
//! TTL queues that dead-letter back, and a dead-letter queue per stage.
//!
//! Leases are kept in this process. The broker holds a received message
//! unacked until it is settled; when a lease runs out first, a reaper task
//! republishes the job (counted) and acks the held copy, which is what a
//! nack without delay does too. A process that dies drops its connection,
//! and the broker puts its unacked messages back (the AMQP heartbeat finds
//! a dead peer). The broker's consumer timeout is a last resort for a hung
//! consumer on a live connection; leases are refused past it (see
//! [`AmqpConfig::consumer_timeout`]).

mod config;
mod lanes;
mod leases;
mod publish;
mod session;
mod topology;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use lapin::options::{BasicAckOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use tokio::task::JoinHandle;
use tracing::{instrument, warn};

pub use config::AmqpConfig;
pub use session::Backoff;

use crate::{Delivery, DeliveryTag, Job, JobQueue, QueueError};
use lanes::Lanes;
use leases::{Lease, Leases};
use publish::Outgoing;
use session::Sessions;
use topology::StageQueues;

/// A [`JobQueue`] on RabbitMQ.
#[derive(Debug)]
pub struct AmqpQueue {
    inner: Arc<Inner>,
    /// Started by the first receive, which runs inside a Tokio runtime.
    reaper: OnceLock<JoinHandle<()>>,
}

#[derive(Debug)]
struct Inner {
    config: AmqpConfig,
    sessions: Sessions,
    lanes: Lanes,
    leases: Leases,
    declared: publish::Declared,
}

impl AmqpQueue {
    /// A queue on the broker `config` names; it connects on first use.
    pub fn open(config: AmqpConfig) -> Self {
        let name = format!("exhibit {} pid {}", config.prefix, std::process::id());
        let sessions = Sessions::new(config.uri.clone(), name, config.backoff);
        let inner = Arc::new(Inner {
            lanes: Lanes::new(config.prefetch),
            config,
            sessions,
            leases: Leases::default(),
            declared: publish::Declared::default(),
        });
        Self { inner, reaper: OnceLock::new() }
    }

    /// [`AmqpQueue::open`], then connects at once, so that a wrong URI or a
    /// broker that is down shows now.
    pub async fn connect(config: AmqpConfig) -> Result<Self, QueueError> {
        let queue = Self::open(config);
        queue.inner.sessions.get().await?;
        Ok(queue)
    }

    /// How many jobs of `stage` sit in its dead-letter queue.
    pub async fn dead_letter_count(&self, stage: &str) -> Result<u32, QueueError> {
        self.message_count(&StageQueues::new(&self.inner.config.prefix, stage).dead).await
    }

    /// Messages ready in the queue `name` (a passive declare, on a channel
    /// of its own: one that fails closes only that channel).
    async fn message_count(&self, name: &str) -> Result<u32, QueueError> {
        let session = self.inner.sessions.get().await?;
        let options = QueueDeclareOptions { passive: true, ..QueueDeclareOptions::default() };
        let channel = session.connection.create_channel().await.map_err(|e| QueueError::io("opening a channel", e))?;
        let queue = match channel.queue_declare(name.into(), options, FieldTable::default()).await {
            Ok(queue) => queue,
            // No publisher or consumer has declared it yet: nothing waits in it.
            Err(e) if is_not_found(&e) => return Ok(0),
            Err(e) => return Err(QueueError::io(format!("looking at {name}"), e)),
        };
        let _closed = channel.close(200, "done".into()).await;
        Ok(queue.message_count())
    }

    /// Deletes every queue this handle declared, messages and all: for
    /// tests and for tearing down a scratch prefix.
    pub async fn delete_queues(&self) -> Result<(), QueueError> {
        let session = self.inner.sessions.get().await?;
        for name in self.inner.declared.names() {
            session
                .publisher
                .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(|e| QueueError::io(format!("deleting {name}"), e))?;
        }
        Ok(())
    }
}

/// Whether the broker closed the channel with 404 NOT_FOUND (a passive
/// declare of a queue that does not exist).
fn is_not_found(error: &lapin::Error) -> bool {
    const NOT_FOUND: u16 = 404;
    matches!(error.kind(), lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == NOT_FOUND)
}

impl Drop for AmqpQueue {
    fn drop(&mut self) {
        if let Some(reaper) = self.reaper.get() {
            reaper.abort();
        }
    }
}

impl Inner {
    /// Takes `tag` out of its lease, or names it unknown.
    fn take(&self, tag: DeliveryTag) -> Result<Lease, QueueError> {
        self.leases.take(tag.0).ok_or(QueueError::UnknownDelivery { tag: tag.0 })
    }

    /// Acks the broker's copy of a settled delivery.
    async fn ack_held(&self, lease: &Lease) -> Result<(), QueueError> {
        let what = || format!("acking job {} (the broker will deliver it again)", lease.job.job_id.0);
        match lease.acker.ack(BasicAckOptions::default()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(QueueError::io(what(), "its channel is closed")),
            Err(e) => {
                self.sessions.drop_if_closed(lease.generation).await;
                Err(QueueError::io(what(), e))
            }
        }
    }

    /// Puts the job of `lease` back, counted, `delay` from now (at once for
    /// zero), then acks the held copy: a crash between the two leaves two
    /// copies, never none.
    async fn requeue(&self, lease: &Lease, delay: Duration, counted: bool) -> Result<(), QueueError> {
        let queues = StageQueues::new(&self.config.prefix, &lease.job.stage);
        let deliveries = if counted { lease.deliveries } else { lease.deliveries.saturating_sub(1) };
        let outgoing = Outgoing::retry(&lease.job, deliveries, &queues, delay);
        publish::send(self, outgoing).await?;
        self.ack_held(lease).await
    }
}

#[async_trait]
impl JobQueue for AmqpQueue {
    #[instrument(skip_all, fields(stage = %job.stage, job = %job.job_id.0))]
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        publish::send(&self.inner, Outgoing::fresh(&job, &self.inner.config.prefix)).await
    }

    async fn publish_all(&self, jobs: Vec<Job>) -> Result<(), QueueError> {
        let prefix = &self.inner.config.prefix;
        publish::send_all(&self.inner, jobs.iter().map(|job| Outgoing::fresh(job, prefix)).collect()).await
    }

    fn shared(&self) -> bool {
        true
    }

    fn delivery_limit(&self) -> Option<u32> {
        Some(self.inner.config.delivery_limit)
    }

    async fn depth(&self, stage: &str) -> Result<Option<u64>, QueueError> {
        let queues = StageQueues::new(&self.inner.config.prefix, stage);
        Ok(Some(u64::from(self.message_count(&queues.main).await?)))
    }

    #[instrument(skip(self))]
    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
        self.inner.config.check_lease(lease)?;
        self.reaper.get_or_init(|| tokio::spawn(leases::reap(self.inner.clone())));
        lanes::receive(&self.inner, stage, lease).await
    }

    #[instrument(skip(self))]
    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        let lease = self.inner.take(tag)?;
        self.inner.ack_held(&lease).await
    }

    #[instrument(skip(self))]
    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        let lease = self.inner.take(tag)?;
        self.inner.requeue(&lease, delay, true).await
    }

    #[instrument(skip(self))]
    async fn release(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        let lease = self.inner.take(tag)?;
        self.inner.requeue(&lease, delay, false).await
    }

    #[instrument(skip(self))]
    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
        self.inner.config.check_lease(lease)?;
        self.inner.leases.extend(tag.0, lease, self.inner.config.consumer_timeout)
    }

    #[instrument(skip(self))]
    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
        let lease = self.inner.take(tag)?;
        warn!(job = %lease.job.job_id.0, stage = %lease.job.stage, reason, "job dead-lettered");
        let queues = StageQueues::new(&self.inner.config.prefix, &lease.job.stage);
        publish::send(&self.inner, Outgoing::dead(&lease.job, lease.deliveries, &queues, reason)).await?;
        self.inner.ack_held(&lease).await
    }
}
