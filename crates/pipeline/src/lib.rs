//! The pipeline: a [`Stage`] consumes a job, writes objects and custody
//! events, and returns the jobs that follow it. A [`Worker`] takes jobs off
//! a [`JobQueue`](exhibit_queue::JobQueue) and settles each only once its
//! records are durable; [`run_in_process`] runs a set of jobs to completion,
//! where completion is data (every job has a [`Completion`] record).
//!
//! Every stage is idempotent: before doing work it asks the [`CaseIndex`]
//! (built from the ledger) whether that work is already recorded, and every
//! append is guarded by the ledger itself (see [`record_key`]), so a job
//! redelivered, duplicated or run by two workers at once records nothing
//! twice.

mod artefact_batch;
pub mod child_process;
mod completion;
pub mod content;
mod context;
mod dead_letters;
pub mod derive;
mod drive;
mod error;
mod group_commit;
mod index;
mod manifest_io;
mod progress;
pub mod record_key;
pub mod run_owner;
mod run_progress;
mod scope;
mod scratch;
mod worker;

pub use artefact_batch::{ArtefactBatch, NotRecorded};
pub use completion::{Completion, Completions, JobOutcome, RunId};
pub use context::{RunFailure, StageContext, Tally};
pub use dead_letters::{DeadLetter, RecordedDeadLetters};
pub use drive::{RunSummary, StillWaiting, run_in_process, wait_for_completion};
pub use error::{
    FAULT_DAMAGED, FAULT_INCOMPLETE_SET, FAULT_LIMIT, FAULT_NOT_A_FILE, FAULT_UNCONVERTED, PARAM_FAULT, StageError,
    StageErrorKind,
};
pub use group_commit::{Commit, Committed};
pub use index::{CaseIndex, PARAM_JOB_ID, PARAM_SOURCE_KEY, SourceRecord};
pub use manifest_io::{derivative_manifest, store_manifest};
pub use progress::{NoProgress, ProgressSink};
pub use run_progress::{DeadJob, JobCounts, OverRuns, RunProgress, run_progress, run_progress_keeping};
pub use scope::{FixedScope, JobObserver, JobScope, Scopes, Settled};
pub use scratch::{scratch_dir, scratch_file};
pub use worker::{Worker, WorkerConfig, WorkerSummary};

use async_trait::async_trait;
use exhibit_queue::Job;

/// One step of the pipeline (acquire, identify, explore, transcode, ocr).
#[async_trait]
pub trait Stage: Send + Sync {
    /// The stage's name, which is also its queue lane.
    fn name(&self) -> &'static str;

    /// Does the job's work and returns the jobs that follow it. A returned
    /// error is retried or recorded as a `failed` event by the worker.
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError>;

    /// Whether the stage's jobs are small and commit through
    /// [`StageContext::commit`]: the worker then runs many at once
    /// ([`WorkerConfig::group_concurrency`]) so that their flushes and
    /// signed entries are shared.
    fn group_commits(&self) -> bool {
        false
    }

    /// The settings an evidence fault of this stage depends on (its limits
    /// and build), recorded with the fault. A job that failed with a fault
    /// under the same settings is not run again, so a rerun records
    /// nothing; `None` (the default) runs it again every time.
    fn fault_settings(&self) -> Option<String> {
        None
    }
}
