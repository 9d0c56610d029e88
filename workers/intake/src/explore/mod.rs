//! The explore stage: opens a stored original as a medium (disk image,
//! optical image, E01, cue sheet), finds every volume and file system on it,
//! and stores every file (deleted ones where recoverable) as an extracted
//! artefact linked to the image, plus a listing of every entry.

mod bad_sectors;
mod evidence;
mod ewf_damage;
mod extract;
pub mod listing;
mod medium;
pub mod name_text;
mod policy;
mod sets;
mod view;
mod walk;

use async_trait::async_trait;
use exhibit_media::Limits;
use exhibit_pipeline::{Stage, StageContext, StageError};
use exhibit_queue::{Job, JobId, JobInput, StageInput};
use tracing::instrument;

pub use bad_sectors::zero_filled_ranges;
pub use evidence::{FLAG_SPARSE, FLAG_TRUNCATED};
pub use extract::{FLAG_BAD_SECTORS, FLAG_DELETED, FLAG_PARTIAL};
pub use policy::{ExplorePolicy, StoreMode};

use crate::{EXPLORE, POLICY_VERSION};

/// What an explore job reads: a stored artefact that is a medium.
pub use exhibit_queue::input::ExploreInput;

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
        input: JobInput::from(StageInput::Explore(input.clone())),
        attempt: 0,
        run: None,
        signature: None,
        after: Vec::new(),
    }
}

#[async_trait]
impl Stage for ExploreStage {
    fn name(&self) -> &'static str {
        EXPLORE
    }

    #[instrument(name = "explore", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let input = match job.input.for_stage(EXPLORE) {
            Ok(StageInput::Explore(input)) => input.clone(),
            Ok(other) => {
                return Err(StageError::input(format!("explore job {}: a {} input", job.job_id.0, other.kind())));
            }
            Err(e) => return Err(StageError::input(format!("explore job {}: {e}", job.job_id.0))),
        };
        if ctx.index().job_done(&job.job_id) {
            return Ok(Vec::new());
        }
        walk::explore(ctx, job, &input, &self.limits, (&self.policy, self.identify)).await
    }
}
