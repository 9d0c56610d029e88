//! Who owns a run, and whether it is still there. An ingest that records
//! its roots also records itself as the run's owner
//! (`runs/<run>/owner`: host, process, heartbeat interval) and puts a
//! heartbeat (`runs/<run>/alive/<unix seconds>`, create-only, so it works
//! on a store with Object Lock) every interval while it runs. Once every
//! job it does not run itself is on the queue, it hands the run over
//! (`runs/<run>/handed-off`): the workers own it from then on.
//!
//! A run with jobs outstanding, not handed over, whose owner's last
//! heartbeat is older than [`STALE_BEATS`] intervals is *abandoned*: its
//! ingest was killed and nothing will run its remaining jobs, so
//! `exhibit status --wait` stops waiting for it (attacker finding F1).

use std::sync::Arc;
use std::time::Duration;

use exhibit_store::{StoreErrorKind, read_small};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::completion::Completions;
use crate::error::StageError;

/// Heartbeat intervals without a heartbeat after which a run that was not
/// handed over is abandoned.
pub const STALE_BEATS: u64 = 3;

/// The owner record of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOwner {
    /// The owner's host name.
    pub host: String,
    /// Its process ID.
    pub pid: u32,
    /// When it started the run, in Unix seconds.
    pub started: i64,
    /// Seconds between its heartbeats.
    pub heartbeat_secs: u64,
}

impl RunOwner {
    /// This process, beating every `every`.
    pub fn this_process(every: Duration) -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map_or_else(|_| "unknown".to_owned(), |h| h.trim().to_owned());
        Self { host, pid: std::process::id(), started: now_secs(), heartbeat_secs: every.as_secs().max(1) }
    }

    /// Whether a run last seen alive at `last` (Unix seconds) is abandoned
    /// at `now`.
    pub fn stale(&self, last: i64, now: i64) -> bool {
        let limit = i64::try_from(self.heartbeat_secs.saturating_mul(STALE_BEATS)).unwrap_or(i64::MAX);
        now.saturating_sub(last.max(self.started)) > limit
    }
}

/// The time now in Unix seconds.
pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Completions {
    /// Records this process as the run's owner. Nothing for records kept
    /// in this process.
    pub async fn put_owner(&self, owner: &RunOwner) -> Result<(), StageError> {
        if self.in_process.is_some() {
            return Ok(());
        }
        let bytes = serde_json::to_vec(owner).map_err(|e| StageError::input(e.to_string()))?;
        self.put_once(self.run_key("owner")?, bytes).await
    }

    /// One heartbeat of the run's owner.
    pub async fn beat(&self) -> Result<(), StageError> {
        if self.in_process.is_some() {
            return Ok(());
        }
        self.put_once(self.run_key(&format!("alive/{:012}", now_secs()))?, Vec::new()).await
    }

    /// Hands the run over to the workers: every job its owner does not run
    /// itself is on the queue.
    pub async fn hand_off(&self) -> Result<(), StageError> {
        if self.in_process.is_some() {
            return Ok(());
        }
        self.put_once(self.run_key("handed-off")?, Vec::new()).await
    }

    /// The run's owner record, if it has one (runs before owners had none).
    pub async fn owner(&self) -> Result<Option<RunOwner>, StageError> {
        let key = self.run_key("owner")?;
        match read_small(self.store.as_ref(), &key, 64 << 10).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StageError::input(format!("run record {key} is not valid: {e}"))),
            Err(e) if e.kind() == StoreErrorKind::NotFound => Ok(None),
            Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot read {key}: {e}"))),
        }
    }
}

/// Beats for a run while it is held; stops when dropped.
#[derive(Debug)]
pub struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    /// Beats for `completions`' run every `every`, the first at once.
    pub fn start(completions: Arc<Completions>, every: Duration) -> Self {
        Self(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every.max(Duration::from_secs(1)));
            loop {
                ticks.tick().await;
                if let Err(e) = completions.beat().await {
                    // A missed beat only risks the run looking abandoned
                    // to `status` if the store stays unreachable.
                    warn!(error = %e, "cannot record the run's heartbeat");
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_stale_after_three_missed_beats() {
        let owner = RunOwner { host: "h".into(), pid: 1, started: 1000, heartbeat_secs: 10 };
        assert!(!owner.stale(1000, 1030), "three intervals is not yet stale");
        assert!(owner.stale(1000, 1031));
        assert!(!owner.stale(1025, 1050), "a later beat counts");
        assert!(!owner.stale(i64::MIN, 1020), "a beat from before the start counts as the start");
        let hostile = RunOwner { heartbeat_secs: u64::MAX, ..owner };
        assert!(!hostile.stale(0, i64::MAX), "no overflow on a hostile interval");
    }
}
