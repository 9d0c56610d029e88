//! The explore stage: opens a stored original as a medium (disk image,
//! optical image, E01, cue sheet), finds every volume and file system on it,
//! and stores every file (deleted ones where recoverable) as an extracted
//! artefact linked to the image, plus a listing of every entry.

mod bad_sectors;
mod evidence;
mod extract;
pub mod listing;
mod medium;
pub mod name_text;
mod policy;
mod sets;
mod view;
mod walk;

use async_trait::async_trait;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::ArtefactId;
use exhibit_media::Limits;
use exhibit_pipeline::{Stage, StageContext, StageError};
use exhibit_queue::{Job, JobId};
use serde::{Deserialize, Serialize};
use tracing::instrument;

pub use bad_sectors::zero_filled_ranges;
pub use evidence::{FLAG_SPARSE, FLAG_TRUNCATED};
pub use extract::{FLAG_BAD_SECTORS, FLAG_DELETED, FLAG_PARTIAL};
pub use policy::{ExplorePolicy, StoreMode};

use crate::{EXPLORE, POLICY_VERSION};

/// What an explore job reads: a stored artefact that is a medium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploreInput {
    /// Display path of the artefact, for messages.
    pub path: String,
    /// The artefact to explore.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
    /// How many containers it is nested in (0 for an original).
    pub depth: u32,
    /// Unreadable image ranges `[offset, len]` that were zero-filled.
    #[serde(default)]
    pub bad_ranges: Vec<[u64; 2]>,
}

/// Explores media. Limits come from config.
#[derive(Debug, Default, Clone)]
pub struct ExploreStage {
    /// Caps against hostile media.
    pub limits: Limits,
    /// Views or copies.
    pub policy: ExplorePolicy,
    /// How files found inside images are identified.
    pub identify: crate::IdentifyPolicy,
}

/// The explore job for an artefact.
pub fn explore_job(template: &Job, input: &ExploreInput) -> Job {
    Job {
        job_id: JobId::derive(EXPLORE, input.artefact.as_str().as_bytes(), POLICY_VERSION),
        case: template.case.clone(),
        exhibit: template.exhibit.clone(),
        stage: EXPLORE.to_owned(),
        input: serde_json::to_value(input).unwrap_or_default(),
        attempt: 0,
    }
}

#[async_trait]
impl Stage for ExploreStage {
    fn name(&self) -> &'static str {
        EXPLORE
    }

    #[instrument(name = "explore", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let input: ExploreInput = serde_json::from_value(job.input.clone())
            .map_err(|e| StageError::input(format!("explore job {} is malformed: {e}", job.job_id.0)))?;
        if ctx.index().job_done(&job.job_id) {
            return Ok(Vec::new());
        }
        walk::explore(ctx, job, &input, &self.limits, (&self.policy, self.identify)).await
    }
}
