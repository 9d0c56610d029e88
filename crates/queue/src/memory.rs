//! The in-process queue: one lane per stage, leases that expire and
//! redeliver, delayed nacks, and a dead-letter list.
//!
//! All state sits behind one mutex; a single [`Notify`] wakes every waiter
//! whenever anything changes, and each waiter re-checks its own condition.
//! Waiters register before they check, so no wake-up is lost between the
//! check and the wait. A waiter whose lane holds a job that is not yet due
//! (a delayed nack, or a lease that may expire) also wakes when it falls due.

use std::collections::{HashMap, VecDeque};
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::{Delivery, DeliveryTag, Job, JobQueue, QueueError};

/// A job the queue moved aside for good.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The job.
    pub job: Job,
    /// Why it was given up.
    pub reason: String,
    /// How many times it was delivered.
    pub deliveries: u32,
}

/// An unbounded in-process [`JobQueue`] that lives as long as the process.
///
/// Jobs of one lane are delivered in the order they became due. A lease
/// that expires puts the job back at the front of its lane; a nack puts it
/// at the back, due after its delay.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    lanes: HashMap<String, VecDeque<Waiting>>,
    leased: HashMap<u64, Leased>,
    dead: Vec<DeadLetter>,
    next_tag: u64,
}

#[derive(Debug)]
struct Waiting {
    job: Job,
    deliveries: u32,
    due: Option<Instant>,
}

#[derive(Debug)]
struct Leased {
    job: Job,
    deliveries: u32,
    until: Instant,
}

impl MemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every job dead-lettered so far, oldest first.
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.lock().dead.clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock half-way through a
        // change, so the state is consistent even if the mutex is poisoned.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes delivery `tag` out of its lease, or names it unknown.
    fn settle(&self, tag: DeliveryTag, then: impl FnOnce(&mut State, Leased)) -> Result<(), QueueError> {
        let mut state = self.lock();
        let now = Instant::now();
        state.expire(now);
        let leased = state.leased.remove(&tag.0).ok_or(QueueError::UnknownDelivery { tag: tag.0 })?;
        then(&mut state, leased);
        drop(state);
        self.changed.notify_waiters();
        Ok(())
    }
}

impl State {
    /// Puts every job whose lease ran out back at the front of its lane.
    fn expire(&mut self, now: Instant) {
        let expired: Vec<u64> = self.leased.iter().filter(|(_, l)| l.until <= now).map(|(tag, _)| *tag).collect();
        for tag in expired {
            if let Some(l) = self.leased.remove(&tag) {
                tracing::debug!(job = %l.job.job_id.0, stage = %l.job.stage, "lease expired; redelivering");
                let lane = self.lanes.entry(l.job.stage.clone()).or_default();
                lane.push_front(Waiting { job: l.job, deliveries: l.deliveries, due: None });
            }
        }
    }

    /// The next due job of `stage`, leased; or else when to look again.
    fn deliver(&mut self, stage: &str, lease: Duration, now: Instant) -> Result<Delivery, Option<Instant>> {
        self.expire(now);
        let lane = self.lanes.entry(stage.to_owned()).or_default();
        let Some(at) = lane.iter().position(|w| w.due.is_none_or(|due| due <= now)) else {
            let next_due = lane.iter().filter_map(|w| w.due).min();
            let next_expiry = self.leased.values().filter(|l| l.job.stage == stage).map(|l| l.until).min();
            return Err(next_due.into_iter().chain(next_expiry).min());
        };
        let Some(waiting) = lane.remove(at) else { return Err(None) };
        self.next_tag += 1;
        let tag = DeliveryTag(self.next_tag);
        let deliveries = waiting.deliveries + 1;
        let delivery = Delivery { job: waiting.job.clone(), tag, delivery_count: deliveries, returned: 0 };
        self.leased.insert(tag.0, Leased { job: waiting.job, deliveries, until: now + lease });
        Ok(delivery)
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        let mut state = self.lock();
        state.lanes.entry(job.stage.clone()).or_default().push_back(Waiting { job, deliveries: 0, due: None });
        drop(state);
        self.changed.notify_waiters();
        Ok(())
    }

    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            let wake_at = match self.lock().deliver(stage, lease, Instant::now()) {
                Ok(delivery) => return Ok(delivery),
                Err(wake_at) => wake_at,
            };
            match wake_at {
                Some(at) => drop(tokio::time::timeout_at(at, notified).await),
                None => notified.await,
            }
        }
    }

    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        self.settle(tag, |_, _| {})
    }

    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.settle(tag, |state, l| {
            tracing::debug!(job = %l.job.job_id.0, stage = %l.job.stage, ?delay, "job nacked");
            let due = Some(Instant::now() + delay);
            let lane = state.lanes.entry(l.job.stage.clone()).or_default();
            lane.push_back(Waiting { job: l.job, deliveries: l.deliveries, due });
        })
    }

    async fn release(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.settle(tag, |state, l| {
            let due = Some(Instant::now() + delay);
            let lane = state.lanes.entry(l.job.stage.clone()).or_default();
            lane.push_back(Waiting { job: l.job, deliveries: l.deliveries.saturating_sub(1), due });
        })
    }

    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
        let mut state = self.lock();
        let now = Instant::now();
        state.expire(now);
        let leased = state.leased.get_mut(&tag.0).ok_or(QueueError::UnknownDelivery { tag: tag.0 })?;
        leased.until = now + lease;
        Ok(())
    }

    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
        self.settle(tag, |state, l| {
            tracing::warn!(job = %l.job.job_id.0, stage = %l.job.stage, reason, "job dead-lettered");
            state.dead.push(DeadLetter { job: l.job, reason: reason.to_owned(), deliveries: l.deliveries });
        })
    }
}
