//! Where a worker finds what a job records into: the case's
//! [`StageContext`] and the completion records of the job's run.
//!
//! An ingest in one process works on one case and one run, so its worker
//! has one fixed scope. A worker process serving a cluster takes jobs of
//! any case and run off a shared queue, and opens each case on first use
//! (`exhibit worker`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use exhibit_queue::Job;

use crate::completion::Completions;
use crate::context::StageContext;
use crate::error::StageError;

/// The context and completion records a job records into.
#[derive(Clone)]
pub struct JobScope {
    /// The case's context: store, ledger, index, actor.
    pub ctx: Arc<StageContext>,
    /// The completion records of the job's run.
    pub completions: Arc<Completions>,
}

/// Finds the scope of each job a worker receives.
#[async_trait]
pub trait Scopes: Send + Sync {
    /// The scope `job` records into. An input error (a job naming no run,
    /// or a case that cannot be opened for good) dead-letters the job
    /// without a ledger event, since there is no ledger to write it to; a
    /// transient one is tried again later.
    async fn scope(&self, job: &Job) -> Result<JobScope, StageError>;

    /// Whether this worker may run `job` at all: false for a job of
    /// another process's run, which goes back to the queue uncounted for
    /// its own process to take.
    fn takes(&self, _job: &Job) -> bool {
        true
    }
}

/// One case and one run for every job: `exhibit ingest` in one process.
pub struct FixedScope(pub JobScope);

#[async_trait]
impl Scopes for FixedScope {
    async fn scope(&self, _job: &Job) -> Result<JobScope, StageError> {
        Ok(self.0.clone())
    }

    /// Only jobs of its own run (or of none, on a queue in this process):
    /// two ingests sharing a broker both consume the acquire lane, and a
    /// job recorded complete in the wrong run left its own run waiting for
    /// good (attacker finding F1).
    /// Never a job of another case, whatever its run: it would be run and
    /// recorded with this scope's case and user.
    fn takes(&self, job: &Job) -> bool {
        job.case == self.0.ctx.case && job.run.as_deref().is_none_or(|run| run == self.0.completions.run().as_str())
    }
}

/// How a delivery was settled, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Its work is recorded and it was acked.
    Done,
    /// This run had already completed it; only its follow-ups were
    /// published again.
    Duplicate,
    /// A transient failure: nacked for another try.
    Retried,
    /// Given up: dead-lettered (with a `failed` event where it has a case).
    DeadLettered,
    /// Another process's job, put back for it uncounted.
    Released,
}

impl Settled {
    /// The outcome's name in metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Duplicate => "duplicate",
            Self::Retried => "retried",
            Self::DeadLettered => "dead_lettered",
            Self::Released => "released",
        }
    }
}

/// Told of every settled delivery: `exhibit worker` counts them for
/// `/metrics`.
pub trait JobObserver: Send + Sync {
    /// A delivery of `stage` arrived and is being handled.
    fn started(&self, _stage: &str) {}

    /// `stage`'s job was settled as `outcome`, `elapsed` after it arrived.
    fn settled(&self, stage: &str, outcome: Settled, elapsed: Duration);
}
