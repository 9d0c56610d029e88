//! The pipeline: a [`Stage`] consumes a job, writes objects and custody
//! events, and returns the jobs that follow it. The [`Runner`] moves jobs
//! through a [`JobQueue`](exhibit_queue::JobQueue) until none are left.
//!
//! Every stage is idempotent: before doing work it asks the [`CaseIndex`]
//! (built from the ledger) whether that work is already recorded. That makes
//! a re-run after a crash, or a redelivered job, harmless.

mod artefact_batch;
pub mod content;
mod context;
pub mod derive;
mod error;
mod index;
mod manifest_io;
mod progress;
mod runner;
mod scratch;

pub use artefact_batch::{ArtefactBatch, NotRecorded};
pub use context::{StageContext, Tally};
pub use error::{FAULT_DAMAGED, FAULT_UNCONVERTED, PARAM_FAULT, StageError, StageErrorKind};
pub use index::{CaseIndex, PARAM_JOB_ID, PARAM_SOURCE_KEY, SourceRecord};
pub use manifest_io::{derivative_manifest, store_manifest};
pub use progress::{NoProgress, ProgressSink};
pub use runner::{RunSummary, Runner};
pub use scratch::{scratch_dir, scratch_file};

use async_trait::async_trait;
use exhibit_queue::Job;

/// One step of the pipeline (acquire, identify, explore, transcode, ocr).
#[async_trait]
pub trait Stage: Send + Sync {
    /// The stage's name, which is also its queue lane.
    fn name(&self) -> &'static str;

    /// Does the job's work and returns the jobs that follow it. A returned
    /// error is recorded as a `failed` event by the runner.
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError>;
}
