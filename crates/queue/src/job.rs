//! The job message: small JSON, enough to find the input by hash.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{CaseId, ExhibitRef};
use serde::{Deserialize, Serialize};

/// A job's identity, derived from what it does so that a redelivered or
/// re-submitted job has the same ID and can be skipped when already done.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(pub String);

impl JobId {
    /// Derives an ID from the stage, a digest of its input, and the version
    /// of the policy that shapes the result.
    pub fn derive(stage: &str, input: &[u8], policy_version: &str) -> Self {
        let mut bytes = Vec::with_capacity(stage.len() + input.len() + policy_version.len() + 2);
        for part in [stage.as_bytes(), input, policy_version.as_bytes()] {
            bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
            bytes.extend_from_slice(part);
        }
        Self(Sha256Digest::of(&bytes).to_hex())
    }
}

/// One unit of work for one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Stable identity (see [`JobId::derive`]).
    pub job_id: JobId,
    /// The case it belongs to.
    pub case: CaseId,
    /// The exhibit it belongs to.
    pub exhibit: ExhibitRef,
    /// Which stage runs it, e.g. `acquire`.
    pub stage: String,
    /// Stage-specific input: a source description, or IDs and hashes.
    pub input: crate::input::JobInput,
    /// How many times it has been tried before.
    pub attempt: u32,
    /// The ingest run it belongs to, whose completion records a worker in
    /// another process writes (`cases/<case>/runs/<run>/jobs/<id>`). Unset
    /// for jobs that never leave the process that made them; a worker
    /// stamps a job's follow-ups with the job's run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// Who published it (see [`crate::signed`]): set by a
    /// [`crate::SignedQueue`] as it publishes, checked as it receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::signed::JobSignature>,
    /// Jobs of the same run that must be complete (done, failed or
    /// dead-lettered) before this one runs: a barrier. A worker that
    /// receives it earlier puts it back, uncounted, for a little while.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<JobId>,
}
