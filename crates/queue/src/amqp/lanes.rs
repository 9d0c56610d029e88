//! One consumer per stage, with prefetch for backpressure, and turning the
//! broker's deliveries into leased [`Delivery`]s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery as AmqpDelivery;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Consumer};
use tokio::time::Instant;
use tracing::warn;

use super::Inner;
use super::leases::Lease;
use super::publish::{self, DELIVERIES, Outgoing, Shape};
use super::topology::StageQueues;
use crate::{Delivery, DeliveryTag, Job, QueueError, QueueErrorKind};

/// A stage's consumer on one session.
#[derive(Debug)]
struct Lane {
    generation: u64,
    channel: Channel,
    consumer: tokio::sync::Mutex<Consumer>,
}

impl Lane {
    fn is_live(&self, generation: u64) -> bool {
        self.generation == generation && self.channel.status().connected()
    }
}

/// The consumers of this handle, by stage.
#[derive(Debug)]
pub(crate) struct Lanes {
    prefetch: u16,
    by_stage: Mutex<HashMap<String, Arc<Lane>>>,
    /// Held while opening a consumer, so that racing receivers open one
    /// (a second would hold prefetched jobs nobody asks for).
    opening: tokio::sync::Mutex<()>,
}

impl Lanes {
    pub(crate) fn new(prefetch: u16) -> Self {
        Self { prefetch, by_stage: Mutex::new(HashMap::new()), opening: tokio::sync::Mutex::new(()) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Lane>>> {
        self.by_stage.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Attempts at opening a stage's consumer before the error is returned.
/// RabbitMQ 3.10 closes the whole connection (INTERNAL_ERROR, `badmatch
/// {error,noproc}` in `rabbit_quorum_queue:consume`) when a consume races
/// the start of a quorum queue another process has just declared; a later
/// attempt, on a new connection, succeeds.
const OPEN_ATTEMPTS: u32 = 8;

/// Waits for the next job of `stage` and leases it for `lease`. A consumer
/// that fails, or that the broker cancels, is opened again (on a new
/// connection if its own is gone), so an idle receiver outlives a broker
/// restart.
pub(crate) async fn receive(inner: &Inner, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
    loop {
        let lane = open_with_retries(inner, stage).await?;
        let next = lane.consumer.lock().await.next().await;
        match next {
            Some(Ok(message)) => {
                if let Some(delivery) = hold(inner, stage, message, lease, lane.generation).await {
                    return Ok(delivery);
                }
            }
            Some(Err(e)) => {
                warn!(error = %e, stage, "the consumer failed; reconnecting");
                forget(inner, stage, lane.generation).await;
                inner.sessions.drop_if_closed(lane.generation).await;
            }
            None => {
                // The broker cancels a consumer whose queue went away (deleted,
                // or its quorum member restarted): declare it again.
                warn!(stage, "the broker cancelled the consumer; opening it again");
                forget(inner, stage, lane.generation).await;
                let queues = StageQueues::new(&inner.config.prefix, stage);
                inner.declared.forget(&[&queues.main, &queues.dead]);
                inner.sessions.drop_if_closed(lane.generation).await;
            }
        }
    }
}

/// [`lane`], tried again with backoff when the broker closes the channel
/// or the connection while it opens.
async fn open_with_retries(inner: &Inner, stage: &str) -> Result<Arc<Lane>, QueueError> {
    let mut wait = inner.config.backoff.initial;
    let mut attempt = 1;
    loop {
        match lane(inner, stage).await {
            Ok(lane) => return Ok(lane),
            // A queue the broker holds with other settings: no retry mends it.
            Err((e, _)) if e.kind() == QueueErrorKind::Invalid || attempt >= OPEN_ATTEMPTS => return Err(e),
            Err((e, generation)) => {
                warn!(error = %e, stage, attempt, ?wait, "cannot open the consumer; trying again");
                let queues = StageQueues::new(&inner.config.prefix, stage);
                inner.declared.forget(&[&queues.main, &queues.dead]);
                if let Some(generation) = generation {
                    inner.sessions.drop_if_closed(generation).await;
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(inner.config.backoff.max);
                attempt += 1;
            }
        }
    }
}

/// Drops the stage's consumer of `generation`; the next receive opens a
/// new one (reconnecting first if the connection is gone too).
async fn forget(inner: &Inner, stage: &str, generation: u64) {
    let mut lanes = inner.lanes.lock();
    if lanes.get(stage).is_some_and(|l| l.generation == generation) {
        lanes.remove(stage);
    }
}

/// The stage's consumer on the current session, opened if needed. A
/// failure names the session it happened on, if there was one.
async fn lane(inner: &Inner, stage: &str) -> Result<Arc<Lane>, (QueueError, Option<u64>)> {
    let session = inner.sessions.get().await.map_err(|e| (e, None))?;
    if let Some(lane) = inner.lanes.lock().get(stage).filter(|l| l.is_live(session.generation)) {
        return Ok(lane.clone());
    }
    let _opening = inner.lanes.opening.lock().await;
    if let Some(lane) = inner.lanes.lock().get(stage).filter(|l| l.is_live(session.generation)) {
        return Ok(lane.clone());
    }
    let queues = StageQueues::new(&inner.config.prefix, stage);
    let failed = |e: QueueError| (e, Some(session.generation));
    let opening = |e| failed(QueueError::io(format!("opening a consumer on {}", queues.main), e));
    let channel = session.connection.create_channel().await.map_err(opening)?;
    channel.basic_qos(inner.lanes.prefetch, BasicQosOptions::default()).await.map_err(opening)?;
    publish::declare(inner, &channel, &queues, &queues.main, &Shape::Main).await.map_err(failed)?;
    let consumer = channel
        .basic_consume(queues.main.as_str().into(), "".into(), BasicConsumeOptions::default(), FieldTable::default())
        .await
        .map_err(opening)?;
    let lane = Arc::new(Lane { generation: session.generation, channel, consumer: tokio::sync::Mutex::new(consumer) });
    inner.lanes.lock().insert(stage.to_owned(), lane.clone());
    Ok(lane)
}

/// Leases a broker delivery, or dead-letters it when it is not a job of
/// this stage (hostile or foreign bytes must not stop the lane).
async fn hold(inner: &Inner, stage: &str, message: AmqpDelivery, lease: Duration, generation: u64) -> Option<Delivery> {
    let (deliveries, returned) = deliveries(&message);
    let job = match serde_json::from_slice::<Job>(&message.data) {
        Ok(job) if job.stage == stage => job,
        Ok(job) => {
            return refuse(inner, stage, message, &format!("a job of stage {:?} on the {stage} queue", job.stage))
                .await;
        }
        Err(e) => return refuse(inner, stage, message, &format!("not a job: {e}")).await,
    };
    let now = Instant::now();
    let held =
        Lease { job: job.clone(), deliveries, acker: message.acker, generation, delivered_at: now, until: now + lease };
    let tag = inner.leases.hold(held);
    Some(Delivery { job, tag: DeliveryTag(tag), delivery_count: deliveries, returned })
}

/// Moves an unreadable message aside, raw, with the reason.
async fn refuse(inner: &Inner, stage: &str, message: AmqpDelivery, reason: &str) -> Option<Delivery> {
    warn!(stage, reason, bytes = message.data.len(), "dead-lettering a message that is not a job");
    let queues = StageQueues::new(&inner.config.prefix, stage);
    let out = Outgoing::raw_dead(message.data.clone(), &queues, reason);
    let settled = match publish::send(inner, out).await {
        Ok(()) => message.acker.ack(lapin::options::BasicAckOptions::default()).await.map(drop),
        Err(e) => {
            warn!(error = %e, "cannot dead-letter it; leaving it to the broker's delivery limit");
            message.acker.nack(lapin::options::BasicNackOptions { requeue: true, multiple: false }).await.map(drop)
        }
    };
    if let Err(e) = settled {
        warn!(error = %e, "cannot settle the refused message");
    }
    None
}

/// Deliveries of this job so far, this one included: the count carried in
/// the header, plus one, plus the times the broker handed this message out
/// before without a settle (quorum queues count them in `x-delivery-count`;
/// elsewhere the redelivered flag says at least once); and those last
/// alone, which the broker's delivery limit counts.
fn deliveries(message: &AmqpDelivery) -> (u32, u32) {
    let headers = message.properties.headers().as_ref();
    let number = |name: &str| headers.and_then(|h| h.inner().get(name)).and_then(as_u32);
    let before = number(DELIVERIES).unwrap_or(0);
    let returned = number("x-delivery-count").unwrap_or(u32::from(message.redelivered));
    (before.saturating_add(1).saturating_add(returned), returned)
}

fn as_u32(value: &AMQPValue) -> Option<u32> {
    let wide: i128 = match value {
        AMQPValue::ShortShortUInt(v) => (*v).into(),
        AMQPValue::ShortUInt(v) => (*v).into(),
        AMQPValue::LongUInt(v) => (*v).into(),
        AMQPValue::LongLongInt(v) => (*v).into(),
        AMQPValue::ShortShortInt(v) => (*v).into(),
        AMQPValue::ShortInt(v) => (*v).into(),
        AMQPValue::LongInt(v) => (*v).into(),
        _ => return None,
    };
    u32::try_from(wide).ok()
}
