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
use crate::{Job, QueueError, QueueErrorKind};

/// Header counting a job's deliveries before this message.
pub(crate) const DELIVERIES: &str = "x-exhibit-deliveries";
/// Header saying why a job was dead-lettered.
pub(crate) const REASON: &str = "x-exhibit-reason";
const PERSISTENT: u8 = 2;

/// Queue names declared through this handle, so each is declared once,
/// and every name it ever declared (for [`super::AmqpQueue::delete_queues`]).
#[derive(Debug, Default)]
pub(crate) struct Declared(Mutex<Names>);

#[derive(Debug, Default)]
struct Names {
    /// Declared on the broker, as far as this handle knows.
    current: BTreeSet<String>,
    /// Every name ever declared, forgotten or not.
    ever: BTreeSet<String>,
}

impl Declared {
    fn lock(&self) -> MutexGuard<'_, Names> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn contains(&self, name: &str) -> bool {
        self.lock().current.contains(name)
    }

    fn insert(&self, name: String) {
        let mut names = self.lock();
        names.ever.insert(name.clone());
        names.current.insert(name);
    }

    /// Every queue name this handle ever declared.
    pub(crate) fn names(&self) -> Vec<String> {
        self.lock().ever.iter().cloned().collect()
    }

    /// Forgets that `names` are declared, so the next use declares them
    /// again: the broker may have lost one (deleted; a consumer cancelled
    /// because its queue went away).
    pub(crate) fn forget(&self, names: &[&str]) {
        let mut declared = self.lock();
        for name in names {
            declared.current.remove(*name);
        }
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

/// Attempts at one publish before its error is returned. RabbitMQ 3.10
/// closes a connection (INTERNAL_ERROR), or nacks a publish, when quorum
/// queues are declared by several processes at once; a later attempt
/// succeeds.
const PUBLISH_ATTEMPTS: u32 = 8;

/// Publishes `out`, declaring its queue first if this handle has not, and
/// waits for the broker's confirm. A dropped connection is retried on a
/// new one, a publish the broker declined on the same one, each with
/// backoff: a job published twice is harmless, one lost is not.
pub(crate) async fn send(inner: &Inner, out: Outgoing) -> Result<(), QueueError> {
    let mut attempt = 1;
    let mut wait = inner.config.backoff.initial;
    loop {
        let session = inner.sessions.get().await?;
        let error = match send_on(inner, &session.publisher, &out).await {
            Ok(()) => return Ok(()),
            Err(SendError::Connection(e)) if e.kind() == QueueErrorKind::Invalid => {
                // The broker closed the channel on it; no retry mends it.
                inner.sessions.drop_generation(session.generation).await;
                return Err(e);
            }
            Err(SendError::Connection(e) | SendError::Declined(e)) if attempt >= PUBLISH_ATTEMPTS => return Err(e),
            Err(SendError::Connection(e)) => {
                inner.sessions.drop_generation(session.generation).await;
                e
            }
            Err(SendError::Declined(e)) => e,
        };
        tracing::warn!(error = %error, queue = %out.target, attempt, ?wait, "publish failed; trying again");
        inner.declared.forget(&[&out.target, &out.queues.main, &out.queues.dead]);
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(inner.config.backoff.max);
        attempt += 1;
    }
}

/// Publishes at most this many messages of one [`send_all`] at once.
const PUBLISH_WINDOW: usize = 64;

/// Publishes every message of `outgoing` with up to [`PUBLISH_WINDOW`]
/// confirms outstanding, so that the broker's flush to disk is shared
/// instead of paid per message; each confirm is still awaited and checked
/// as [`send`] does. The first message to each queue goes alone, so a
/// queue is declared once, not by every message racing to it.
pub(crate) async fn send_all(inner: &Inner, outgoing: Vec<Outgoing>) -> Result<(), QueueError> {
    use futures_util::{StreamExt, TryStreamExt};
    let mut first_to_each = BTreeSet::new();
    let (firsts, rest): (Vec<Outgoing>, Vec<Outgoing>) =
        outgoing.into_iter().partition(|out| first_to_each.insert(out.target.clone()));
    for out in firsts {
        send(inner, out).await?;
    }
    futures_util::stream::iter(rest.into_iter().map(|out| async move { send(inner, out).await }))
        .buffer_unordered(PUBLISH_WINDOW)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

enum SendError {
    /// The broker answered but did not take the message: a nack (a quorum
    /// queue still starting, or full, with `reject-publish`), or unroutable
    /// (the queue is gone). Retried on the same connection, declaring the
    /// queue again.
    Declined(QueueError),
    /// The channel or connection failed: retried on a new one.
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
        Confirmation::Ack(Some(_)) => {
            Err(SendError::Declined(QueueError::io(what(), "the broker could not route it (no such queue)")))
        }
        Confirmation::Nack(_) => Err(SendError::Declined(QueueError::io(what(), "the broker refused it (nack)"))),
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
    if inner.declared.contains(name) {
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
            .map_err(|e| declare_error(&queue, e))?;
        inner.declared.insert(queue);
    }
    Ok(())
}

/// A failed declare: [`QueueError::QueueSettings`] when the broker holds
/// the queue with other arguments (406 PRECONDITION_FAILED), which no
/// retry mends; else an I/O error.
fn declare_error(queue: &str, error: lapin::Error) -> QueueError {
    const PRECONDITION_FAILED: u16 = 406;
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == PRECONDITION_FAILED => {
            QueueError::QueueSettings { queue: queue.to_owned(), broker: amqp.get_message().to_string() }
        }
        _ => QueueError::io(format!("declaring queue {queue}"), error),
    }
}
