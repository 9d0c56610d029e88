//! What the HTTP API received for each case, kept beside the access state
//! (same database, same backends): uploads and how their ingest went
//! (queued, running, done, failed with what to do), uploads refused
//! because the client's hash did not match the bytes, and bulk submissions
//! with one result per manifest row.
//!
//! Like the access state, and unlike the read model, this is not a cache of
//! the ledger: a refused upload left nothing in the ledger, and a failed
//! ingest may have left nothing either. It survives restarts, so the status
//! endpoints answer the same after one. Backends implement
//! [`IntakeJournal`] and pass [`conformance::run_all`].

pub mod conformance;
pub(crate) mod sql;

use async_trait::async_trait;
use exhibit_core::Sha256Digest;
use exhibit_core::ids::{CaseId, ExhibitRef};
use serde::Serialize;
use time::OffsetDateTime;

use crate::access::OrgId;
use crate::error::Result;

pub(crate) use sql::intake_journal_impl;

/// Where an upload's ingest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UploadState {
    /// Received whole, not yet being ingested.
    Queued,
    /// Being ingested.
    Running,
    /// Ingested: the ledger records it and the staged copy is gone.
    Done,
    /// The ingest failed; the upload stays staged and is retried at start.
    Failed,
}

impl UploadState {
    /// Every state, in the order status reports count them.
    pub const ALL: [UploadState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    /// The stored and reported word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The state a stored word names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One upload received whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadEntry {
    /// The tus upload ID (32 hex digits) or `put-` and 32 hex digits.
    pub id: String,
    /// The case it was sent to.
    pub case: CaseId,
    /// The organisation that sent it (the case's owner).
    pub org: OrgId,
    /// Who sent it, as custody events name them: `user (organisation)`.
    pub operator: String,
    /// The exhibit it belongs to.
    pub exhibit: ExhibitRef,
    /// The file's name as the client gave it.
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the bytes as received.
    pub sha256: Sha256Digest,
    /// Where its ingest is.
    pub state: UploadState,
    /// For `failed`: what happened and what to do.
    pub reason: Option<String>,
    /// When the state last changed.
    pub updated_at: OffsetDateTime,
}

/// An upload (or a chunk of one) refused because the client's hash did not
/// match the bytes that arrived; nothing of it was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The case it was sent to.
    pub case: CaseId,
    /// The organisation that sent it.
    pub org: OrgId,
    /// Who sent it.
    pub operator: String,
    /// The exhibit, if the request named one.
    pub exhibit: Option<String>,
    /// The file name, if the request named one.
    pub filename: Option<String>,
    /// The upload, for tus.
    pub upload: Option<String>,
    /// What did not match.
    pub reason: String,
    /// When.
    pub at: OffsetDateTime,
}

/// A bulk submission: a manifest whose rows name uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// 32 hex digits.
    pub id: String,
    /// The case.
    pub case: CaseId,
    /// The organisation that sent it.
    pub org: OrgId,
    /// Who sent it.
    pub operator: String,
    /// SHA-256 of the manifest as sent.
    pub manifest_sha256: Sha256Digest,
    /// When it was received.
    pub created_at: OffsetDateTime,
}

/// One row of a submission and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    /// `line 4` (CSV) or `item 3` (JSON).
    pub place: String,
    /// The exhibit, if the row named a valid one.
    pub exhibit: Option<String>,
    /// The upload the row named, once found.
    pub upload: Option<String>,
    /// Accepted, or rejected with `reason`.
    pub accepted: bool,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// Where the named upload's ingest is (read back only).
    pub upload_state: Option<UploadState>,
    /// Why the upload's ingest failed (read back only).
    pub upload_reason: Option<String>,
}

/// How many uploads of a case are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UploadCounts {
    /// Received, not yet ingested.
    pub queued: u64,
    /// Being ingested.
    pub running: u64,
    /// Ingested.
    pub done: u64,
    /// Failed; retried at start.
    pub failed: u64,
}

impl UploadCounts {
    /// Adds `n` to the count of `state`.
    pub fn add(&mut self, state: UploadState, n: u64) {
        match state {
            UploadState::Queued => self.queued += n,
            UploadState::Running => self.running += n,
            UploadState::Done => self.done += n,
            UploadState::Failed => self.failed += n,
        }
    }
}

/// What a case received, for its status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseIntake {
    /// Uploads by state.
    pub counts: UploadCounts,
    /// The uploads whose ingest failed, newest first.
    pub failed: Vec<UploadEntry>,
    /// Refused uploads and chunks, newest first (at most [`MAX_LISTED`]).
    pub refusals: Vec<Refusal>,
}

/// The most failures or refusals a status lists.
pub const MAX_LISTED: i64 = 100;

/// The journal of what the HTTP API received. Case IDs compare as
/// [`CaseId`] does (letter case does not count).
#[async_trait]
pub trait IntakeJournal: Send + Sync {
    /// Records an upload, or replaces its state, reason and time if the
    /// ID is known (its other fields stay as first recorded).
    async fn record_upload(&self, entry: &UploadEntry) -> Result<()>;
    /// Moves a known upload to `state`; false when the ID is unknown.
    async fn set_upload_state(
        &self,
        id: &str,
        state: UploadState,
        reason: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<bool>;
    /// The upload with this ID, in this case.
    async fn upload(&self, case: &CaseId, id: &str) -> Result<Option<UploadEntry>>;
    /// The uploads of a case with these bytes, newest first.
    async fn uploads_with_sha256(&self, case: &CaseId, sha256: &Sha256Digest) -> Result<Vec<UploadEntry>>;
    /// Records a refused upload or chunk.
    async fn record_refusal(&self, refusal: &Refusal) -> Result<()>;
    /// Records a submission and its rows, all or nothing.
    async fn add_submission(&self, submission: &Submission, rows: &[SubmissionRow]) -> Result<()>;
    /// A submission of this case and its rows, in order, with the state of
    /// each named upload.
    async fn submission(&self, case: &CaseId, id: &str) -> Result<Option<(Submission, Vec<SubmissionRow>)>>;
    /// What the case received: counts, failures, refusals.
    async fn case_intake(&self, case: &CaseId) -> Result<CaseIntake>;
}

/// Text as stored: PostgreSQL text cannot hold NUL, which hostile input may
/// carry into a reason; it is kept as U+FFFD (as the read model does).
pub(crate) fn storable(text: &str) -> String {
    text.replace('\0', "\u{fffd}")
}
