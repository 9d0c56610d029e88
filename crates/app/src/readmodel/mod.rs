//! The read model: a projection of each case's ledger that `show`,
//! `status` and the HTTP API query instead of re-reading the ledger.
//!
//! It is a cache. The ledger stays the only record: [`refresh`] brings a
//! case's projection up to the ledger's head from the last sequence number
//! it saw, checking each new entry's signature and link, and rebuilds it
//! from entry 1 when it is missing or dropped. A ledger that no longer
//! holds an entry the model read is never rebuilt over: the loss is listed
//! as a problem and the case reported broken. `verify` never reads the
//! model, so altering it cannot change what verify says.
//!
//! Backends implement [`ReadModel`] and must pass [`conformance::run_all`].

mod chain_link;
pub mod conformance;
mod listed;
mod open;
mod postgres;
mod postgres_schema;
mod postgres_write;
mod project;
mod refresh;
mod resolved;
mod rows;
mod sqlite;

use async_trait::async_trait;
use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ArtefactManifest;
use serde::Serialize;

use crate::error::Result;

pub(crate) use listed::list_problems;
pub(crate) use open::{READ_MODEL_DIR, create_private_dir};
pub use open::{default_sqlite_path, open_read_model};
pub use postgres::PostgresReadModel;
pub(crate) use postgres_schema::create_schema;
pub use project::project_entries;
pub use refresh::{RefreshReport, refresh, refresh_known};
pub use resolved::{failures_done_since, open_failures, resolved};
pub use sqlite::SqliteReadModel;

/// Every table that holds rows of a case (cursor first: a drop waits on
/// its row for an apply in flight), in SQLite and PostgreSQL alike.
pub(crate) const CASE_TABLES: [&str; 8] =
    ["rm_cases", "rm_artefacts", "rm_flags", "rm_exhibits", "rm_events", "rm_jobs", "rm_job_counts", "rm_problems"];

/// Where a case's projection stands: the last ledger entry applied, and
/// the SHA-256 of that entry's file, so a ledger that changed underneath
/// (entries removed or rewritten, another store, a restored backup) is
/// noticed and listed as a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Sequence number of the last entry applied.
    pub seq: u64,
    /// SHA-256 (hex) of that entry's bytes.
    pub entry_sha256: String,
}

/// A job the ledger records as finished, or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    /// The job's ID (`job_id` param), or `seq:N` for a failure without one.
    pub job_id: String,
    /// The exhibit it worked on.
    pub exhibit: Option<ExhibitRef>,
    /// The action recorded (`identified`, `explored`, `failed`...).
    pub action: String,
    /// `done` or `failed`.
    pub status: JobStatus,
}

/// How a job ended, as the ledger says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStatus {
    /// An event of the job records success.
    Done,
    /// A `failed` event names the job.
    Failed,
}

impl JobStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "done" => Some(Self::Done),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// An event `show` reports on (failures, descriptions, truncation, notes),
/// kept whole with its place in the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct NotableEvent {
    /// The ledger entry that holds it.
    pub seq: u64,
    /// Its position within that entry (0 for a one-event entry).
    pub pos: u32,
    /// The event.
    pub event: CustodyEvent,
}

/// A problem found while projecting, for `show` to print on every run
/// until the ledger is fixed: a damaged entry, a manifest that does not
/// match the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The ledger entry it concerns.
    pub seq: u64,
    /// What is wrong and what to do.
    pub text: String,
}

/// What a run of ledger entries adds to a case's projection.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// Entries read.
    pub entries: u64,
    /// Artefacts recorded with a manifest that matches the ledger.
    pub artefacts: Vec<ArtefactManifest>,
    /// Exhibits named, with the item manifest row of a `described` event.
    pub exhibits: Vec<(ExhibitRef, Option<serde_json::Value>)>,
    /// Events `show` reports on.
    pub notable: Vec<NotableEvent>,
    /// Jobs recorded as done or failed.
    pub jobs: Vec<JobRecord>,
    /// Problems found.
    pub problems: Vec<Problem>,
}

/// One case as the read model knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    /// The case.
    pub case: CaseId,
    /// The last ledger entry projected.
    pub head_seq: u64,
    /// Artefacts recorded.
    pub artefacts: u64,
    /// Exhibits named.
    pub exhibits: u64,
}

/// One exhibit: its reference, and its latest item-manifest row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExhibitRow {
    /// The exhibit.
    pub exhibit: ExhibitRef,
    /// The item manifest row of its latest `described` event.
    pub item: Option<serde_json::Value>,
}

/// How many jobs of an exhibit and action ended how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobCount {
    /// The exhibit.
    pub exhibit: Option<ExhibitRef>,
    /// The recorded action.
    pub action: String,
    /// Done or failed.
    pub status: JobStatus,
    /// How many.
    pub count: u64,
}

/// A projection of the ledger that can be queried.
///
/// `apply` is compare-and-set on the case's [`Cursor`], so several
/// processes may refresh one read model at once: the one that loses gets
/// [`AppError::Conflict`](crate::AppError::Conflict) and reads on from the
/// new cursor.
#[async_trait]
pub trait ReadModel: Send + Sync + std::fmt::Debug {
    /// Where the case's projection stands; `None` when it has none.
    async fn cursor(&self, case: &CaseId) -> Result<Option<Cursor>>;
    /// Adds `projection` and moves the cursor from `expected` to `next`, in
    /// one transaction. An artefact, exhibit item or job already present
    /// is replaced by the later one.
    async fn apply(
        &self,
        case: &CaseId,
        expected: Option<&Cursor>,
        next: &Cursor,
        projection: &Projection,
    ) -> Result<()>;
    /// Forgets the case, so the next refresh rebuilds it.
    async fn drop_case(&self, case: &CaseId) -> Result<()>;
    /// Every case projected, by case ID.
    async fn cases(&self) -> Result<Vec<CaseSummary>>;
    /// The case's artefacts (of one exhibit, if given), ordered by exhibit,
    /// then source path, then ID.
    async fn artefacts(&self, case: &CaseId, exhibit: Option<&ExhibitRef>) -> Result<Vec<ArtefactManifest>>;
    /// Every flag on the case's artefacts, with how many carry it.
    async fn flags(&self, case: &CaseId) -> Result<Vec<(String, u64)>>;
    /// The case's exhibits, by reference.
    async fn exhibits(&self, case: &CaseId) -> Result<Vec<ExhibitRow>>;
    /// The events `show` reports on (of one exhibit, if given), in ledger order.
    async fn notable_events(&self, case: &CaseId, exhibit: Option<&ExhibitRef>) -> Result<Vec<NotableEvent>>;
    /// Jobs by exhibit, action and status.
    async fn job_counts(&self, case: &CaseId) -> Result<Vec<JobCount>>;
    /// Problems found while projecting, in ledger order.
    async fn problems(&self, case: &CaseId) -> Result<Vec<Problem>>;
    /// How the job's latest recorded event ended; `None` for a job the
    /// case does not record.
    async fn job_status(&self, case: &CaseId, job_id: &str) -> Result<Option<JobStatus>>;
}
