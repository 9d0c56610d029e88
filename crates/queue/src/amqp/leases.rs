//! Deliveries held by this process, each until its lease runs out, and the
//! reaper task that puts back the jobs whose leases ran out.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lapin::Acker;
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::Inner;
use crate::{Job, QueueError};

/// One delivery held for its consumer.
#[derive(Debug)]
pub(crate) struct Lease {
    pub(crate) job: Job,
    /// Deliveries so far, this one included.
    pub(crate) deliveries: u32,
    /// Settles the broker's copy.
    pub(crate) acker: Acker,
    /// The session it came on.
    pub(crate) generation: u64,
    /// When the broker handed it over: its consumer timeout counts from here.
    pub(crate) delivered_at: Instant,
    /// When the lease runs out.
    pub(crate) until: Instant,
}

/// The held deliveries, by this queue's own tag.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    held: Mutex<HashMap<u64, Lease>>,
    next_tag: AtomicU64,
    changed: Notify,
}

impl Leases {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Lease>> {
        // Nothing panics while holding the lock mid-change.
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds `lease` under a new tag.
    pub(crate) fn hold(&self, lease: Lease) -> u64 {
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(tag, lease);
        self.changed.notify_one();
        tag
    }

    /// Takes `tag` out, if it is held and its lease has not run out.
    pub(crate) fn take(&self, tag: u64) -> Option<Lease> {
        let mut held = self.lock();
        if held.get(&tag).is_some_and(|l| l.until <= Instant::now()) {
            // Expired: the reaper owns it now.
            return None;
        }
        held.remove(&tag)
    }

    /// Moves the end of `tag`'s lease to `lease` from now, unless that is
    /// past the broker's consumer timeout counted from its delivery.
    pub(crate) fn extend(&self, tag: u64, lease: Duration, consumer_timeout: Duration) -> Result<(), QueueError> {
        let mut held = self.lock();
        let now = Instant::now();
        let Some(held) = held.get_mut(&tag).filter(|l| l.until > now) else {
            return Err(QueueError::UnknownDelivery { tag });
        };
        let limit = (held.delivered_at + consumer_timeout.saturating_sub(super::config::TIMEOUT_MARGIN))
            .saturating_duration_since(now);
        if lease > limit {
            return Err(QueueError::LeaseTooLong { requested: lease, limit });
        }
        held.until = now + lease;
        self.changed.notify_one();
        Ok(())
    }

    fn take_expired(&self, now: Instant) -> Vec<Lease> {
        let mut held = self.lock();
        let expired: Vec<u64> = held.iter().filter(|(_, l)| l.until <= now).map(|(tag, _)| *tag).collect();
        expired.into_iter().filter_map(|tag| held.remove(&tag)).collect()
    }

    fn next_expiry(&self) -> Option<Instant> {
        self.lock().values().map(|l| l.until).min()
    }
}

/// Runs until aborted: whenever a lease runs out, requeues its job at once
/// (counted) and acks the held copy.
pub(crate) async fn reap(inner: Arc<Inner>) {
    loop {
        let mut changed = pin!(inner.leases.changed.notified());
        changed.as_mut().enable();
        match inner.leases.next_expiry() {
            Some(at) => drop(tokio::time::timeout_at(at, changed).await),
            None => changed.await,
        }
        for lease in inner.leases.take_expired(Instant::now()) {
            debug!(job = %lease.job.job_id.0, stage = %lease.job.stage, "lease expired; redelivering");
            if let Err(e) = inner.requeue(&lease, Duration::ZERO, true).await {
                warn!(job = %lease.job.job_id.0, error = %e, "cannot requeue an expired lease; the broker redelivers it when the connection closes");
            }
        }
    }
}
