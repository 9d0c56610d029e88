//! Publishing with confirms: every message is persistent, mandatory (an
//! unroutable one comes back as an error, not a silent drop), and each
//! publish awaits its own confirm, because `wait_for_confirms` does not
//! report nacks.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lapin::Confirmation;
use lapin::options::{BasicPublishOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{BasicProperties, Channel};

use super::Inner;
use super::topology::{self, StageQueues};
use crate::{Job, QueueError};

/// Header counting a job's deliveries before this message.
pub(crate) const DELIVERIES: &str = "x-exhibit-deliveries";
/// Header saying why a job was dead-lettered.
pub(crate) const REASON: &str = "x-exhibit-reason";
const PERSISTENT: u8 = 2;

/// Queue names declared through this handle, so each is declared once.
#[derive(Debug, Default)]
pub(crate) struct Declared(Mutex<BTreeSet<String>>);

impl Declared {
    fn lock(&self) -> MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }
}

/// What a queue is declared as.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Main,
    Retry(u64),
    Dead,
}

/// A message about to go out, and the queue it goes to.
#[derive(Debug)]
pub(crate) struct Outgoing {
    queues: StageQueues,
    target: String,
    shape: Shape,
    body: Vec<u8>,
    headers: FieldTable,
}

impl Outgoing {
    /// A job's first publish.
    pub(crate) fn fresh(job: &Job, prefix: &str) -> Self {
        let queues = StageQueues::new(prefix, &job.stage);
        Self::to(job, 0, queues.main.clone(), Shape::Main, queues)
    }

    /// A job put back after `deliveries`, due `delay` from now.
    pub(crate) fn retry(job: &Job, deliveries: u32, queues: &StageQueues, delay: Duration) -> Self {
        if delay.is_zero() {
            return Self::to(job, deliveries, queues.main.clone(), Shape::Main, queues.clone());
        }
        let (name, millis) = queues.retry(delay);
        Self::to(job, deliveries, name, Shape::Retry(millis), queues.clone())
    }

    /// A job given up for `reason`.
    pub(crate) fn dead(job: &Job, deliveries: u32, queues: &StageQueues, reason: &str) -> Self {
        let mut out = Self::to(job, deliveries, queues.dead.clone(), Shape::Dead, queues.clone());
        out.headers.insert(topology::header(REASON), AMQPValue::LongString(LongString::from(reason)));
        out
    }

    /// Bytes that are not a job, moved aside as they came.
    pub(crate) fn raw_dead(body: Vec<u8>, queues: &StageQueues, reason: &str) -> Self {
        let mut headers = FieldTable::default();
        headers.insert(topology::header(REASON), AMQPValue::LongString(LongString::from(reason)));
        Self { queues: queues.clone(), target: queues.dead.clone(), shape: Shape::Dead, body, headers }
    }

    fn to(job: &Job, deliveries: u32, target: String, shape: Shape, queues: StageQueues) -> Self {
        let mut headers = FieldTable::default();
        headers.insert(topology::header(DELIVERIES), AMQPValue::LongUInt(deliveries));
        // A Job always serializes: its fields are strings, numbers and JSON.
        let body = serde_json::to_vec(job).unwrap_or_default();
        Self { queues, target, shape, body, headers }
    }
}

/// Publishes `out`, declaring its queue first if this handle has not, and
/// waits for the broker's confirm. A dropped connection is retried once on
/// a new one: a job published twice is harmless, one lost is not.
pub(crate) async fn send(inner: &Inner, out: Outgoing) -> Result<(), QueueError> {
    let mut retried = false;
    loop {
        let session = inner.sessions.get().await?;
        match send_on(inner, &session.publisher, &out).await {
            Ok(()) => return Ok(()),
            Err(SendError::Refused(e)) => return Err(e),
            Err(SendError::Connection(e)) if retried => return Err(e),
            Err(SendError::Connection(e)) => {
                tracing::warn!(error = %e, queue = %out.target, "publish failed; reconnecting");
                inner.sessions.drop_generation(session.generation).await;
                inner.declared.lock().clear();
                retried = true;
            }
        }
    }
}

enum SendError {
    /// The broker said no: retrying would not help.
    Refused(QueueError),
    /// The channel or connection failed.
    Connection(QueueError),
}

async fn send_on(inner: &Inner, channel: &Channel, out: &Outgoing) -> Result<(), SendError> {
    declare(inner, channel, &out.queues, &out.target, &out.shape).await.map_err(SendError::Connection)?;
    let properties = BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_content_type("application/json".into())
        .with_headers(out.headers.clone());
    let options = BasicPublishOptions { mandatory: true, ..BasicPublishOptions::default() };
    let what = || format!("publishing to {}", out.target);
    let confirm = channel
        .basic_publish("".into(), out.target.as_str().into(), options, &out.body, properties)
        .await
        .map_err(|e| SendError::Connection(QueueError::io(what(), e)))?
        .await
        .map_err(|e| SendError::Connection(QueueError::io(what(), e)))?;
    match confirm {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_)) => Err(SendError::Refused(QueueError::io(what(), "the broker could not route it"))),
        Confirmation::Nack(_) => Err(SendError::Refused(QueueError::io(what(), "the broker refused it (nack)"))),
        Confirmation::NotRequested => {
            Err(SendError::Connection(QueueError::io(what(), "publisher confirms are off on this channel")))
        }
    }
}

/// Declares `name` (shaped as `shape`) and, for a main queue, its
/// dead-letter queue, once per handle.
pub(crate) async fn declare(
    inner: &Inner,
    channel: &Channel,
    queues: &StageQueues,
    name: &str,
    shape: &Shape,
) -> Result<(), QueueError> {
    if inner.declared.lock().contains(name) {
        return Ok(());
    }
    let mut plan = vec![(name.to_owned(), shape.clone())];
    if matches!(shape, Shape::Main) {
        plan.insert(0, (queues.dead.clone(), Shape::Dead));
    }
    for (queue, shape) in plan {
        let args = match shape {
            Shape::Main => topology::main_args(queues, inner.config.delivery_limit, inner.config.max_length),
            Shape::Retry(millis) => topology::retry_args(queues, millis),
            Shape::Dead => topology::dead_args(),
        };
        channel
            .queue_declare(queue.as_str().into(), QueueDeclareOptions::durable(), args)
            .await
            .map_err(|e| QueueError::io(format!("declaring queue {queue}"), e))?;
        inner.declared.lock().insert(queue);
    }
    Ok(())
}
