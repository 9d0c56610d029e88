//! The in-process queue: bounded, one FIFO lane per stage, at-least-once.
//!
//! All state sits behind one mutex; a single [`Notify`] wakes every waiter
//! whenever anything changes, and each waiter re-checks its own condition.
//! Waiters register before they check, so no wake-up is lost between the
//! check and the wait.

use std::collections::{HashMap, VecDeque};
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::{Delivery, DeliveryTag, Job, JobQueue, QueueError};

/// A bounded in-process [`JobQueue`] that lives as long as the process.
///
/// `publish` waits while the job's lane already holds `capacity` undelivered
/// jobs (backpressure, not an error). Delivered jobs are held until acked;
/// a requeueing nack puts the job back at the front of its lane.
///
/// `receive` returns `None` only once the queue is closed, the lane is empty
/// and no delivery of that stage is outstanding, because a nack could still
/// requeue one. A consumer must therefore settle what it holds before it
/// can see the end of a closed lane.
#[derive(Debug)]
pub struct MemoryQueue {
    capacity: usize,
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    closed: bool,
    lanes: HashMap<String, Lane>,
    in_flight: HashMap<u64, Held>,
    next_tag: u64,
}

#[derive(Debug, Default)]
struct Lane {
    /// Undelivered jobs, next first.
    ready: VecDeque<Held>,
    /// Delivered but not yet acked or nacked.
    in_flight: usize,
}

#[derive(Debug)]
struct Held {
    job: Job,
    /// How many times it has been delivered so far.
    deliveries: u32,
}

impl MemoryQueue {
    /// A queue whose lanes each hold at most `capacity` undelivered jobs
    /// (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), state: Mutex::default(), changed: Notify::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code path panics while holding the lock half-way through a
        // change, so the state is consistent even if the mutex is poisoned.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `attempt` under the lock until it returns `Some`, waiting for a
    /// change of state between tries, then wakes the other waiters.
    async fn wait_for<T>(&self, mut attempt: impl FnMut(&mut State) -> Option<T>) -> T {
        loop {
            let mut notified = pin!(self.changed.notified());
            notified.as_mut().enable();
            let outcome = {
                let mut state = self.lock();
                attempt(&mut state)
            };
            if let Some(outcome) = outcome {
                self.changed.notify_waiters();
                return outcome;
            }
            notified.await;
        }
    }

    /// Applies a change that never waits, then wakes the waiters.
    fn update<T>(&self, change: impl FnOnce(&mut State) -> T) -> T {
        let outcome = change(&mut self.lock());
        self.changed.notify_waiters();
        outcome
    }

    /// Takes delivery `tag` out of flight, returning the job's lane with it.
    fn settle(state: &mut State, tag: DeliveryTag) -> Result<(Held, &mut Lane), QueueError> {
        let held = state.in_flight.remove(&tag.0).ok_or(QueueError::UnknownDelivery { tag: tag.0 })?;
        let lane = state.lanes.get_mut(&held.job.stage).expect("an in-flight job's lane exists");
        lane.in_flight -= 1;
        Ok((held, lane))
    }
}

impl State {
    fn deliver(&mut self, stage: &str) -> Option<Option<Delivery>> {
        let Some(lane) = self.lanes.get_mut(stage) else {
            return self.closed.then_some(None);
        };
        match lane.ready.pop_front() {
            Some(mut held) => {
                held.deliveries += 1;
                lane.in_flight += 1;
                self.next_tag += 1;
                let tag = DeliveryTag(self.next_tag);
                let delivery = Delivery { job: held.job.clone(), tag, delivery_count: held.deliveries };
                self.in_flight.insert(tag.0, held);
                Some(Some(delivery))
            }
            None if self.closed && lane.in_flight == 0 => Some(None),
            None => None,
        }
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        let mut job = Some(job);
        self.wait_for(|state| {
            if state.closed {
                return Some(Err(QueueError::Closed));
            }
            let stage = &job.as_ref().expect("the job is published once").stage;
            let lane = state.lanes.entry(stage.clone()).or_default();
            if lane.ready.len() >= self.capacity {
                return None;
            }
            let job = job.take().expect("the job is published once");
            lane.ready.push_back(Held { job, deliveries: 0 });
            Some(Ok(()))
        })
        .await
    }

    async fn receive(&self, stage: &str) -> Result<Option<Delivery>, QueueError> {
        Ok(self.wait_for(|state| state.deliver(stage)).await)
    }

    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        self.update(|state| Self::settle(state, tag).map(drop))
    }

    async fn nack(&self, tag: DeliveryTag, requeue: bool) -> Result<(), QueueError> {
        self.update(|state| {
            let (held, lane) = Self::settle(state, tag)?;
            tracing::debug!(job = %held.job.job_id.0, stage = %held.job.stage, requeue, "job nacked");
            if requeue {
                // Ahead of everything, and past the capacity bound: the job
                // was already admitted once, and a nack must never wait.
                lane.ready.push_front(held);
            }
            Ok(())
        })
    }

    async fn pending(&self, stage: &str) -> Result<usize, QueueError> {
        let state = self.lock();
        Ok(state.lanes.get(stage).map_or(0, |lane| lane.ready.len() + lane.in_flight))
    }

    async fn close(&self) -> Result<(), QueueError> {
        self.update(|state| state.closed = true);
        Ok(())
    }
}
