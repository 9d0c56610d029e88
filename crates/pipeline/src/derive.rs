//! Jobs that make derivatives (transcode, OCR) from a stored artefact, and
//! which media types go to which.

use exhibit_core::digest::Sha256Digest;
use exhibit_queue::{Job, JobId, JobInput, StageInput};
use serde::Serialize;

use crate::{StageContext, StageError};

/// Lane of the transcode stage.
pub const TRANSCODE: &str = "transcode";
/// Lane of the OCR stage.
pub const OCR: &str = "ocr";

pub use exhibit_queue::input::DeriveInput;

/// Which derivation stage, if any, a media type goes to.
pub fn stage_for(mime: &str) -> Option<&'static str> {
    if mime.starts_with("audio/") || mime.starts_with("video/") {
        return Some(TRANSCODE);
    }
    matches!(mime, "image/tiff" | "image/png" | "image/jpeg" | "application/pdf").then_some(OCR)
}

/// Identity of a derivation policy in use before policies were hashed into
/// job IDs; jobs recorded under it keep their IDs.
pub const LEGACY_DERIVE_POLICY: &str = "derive-1";

/// The identity of each derivation stage's policy. It is part of every
/// derive job ID, so a changed policy makes new jobs (and new outputs
/// beside the old ones), while an unchanged policy reruns nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivePolicies {
    /// Identity of the transcode policy (`normalisation.toml`).
    pub transcode: String,
    /// Identity of the OCR policy (`[ocr]`).
    pub ocr: String,
}

impl Default for DerivePolicies {
    /// The legacy constant for both stages, for contexts that derive
    /// nothing (get, reproduce) and for tests.
    fn default() -> Self {
        Self { transcode: LEGACY_DERIVE_POLICY.into(), ocr: LEGACY_DERIVE_POLICY.into() }
    }
}

impl DerivePolicies {
    /// The identity for a derivation stage's lane.
    pub fn for_stage(&self, stage: &str) -> &str {
        if stage == OCR { &self.ocr } else { &self.transcode }
    }
}

/// The identity of a parsed policy: `<version>+sha256:<hex>` over its
/// JSON form, so comments and layout in its file do not count, but every
/// setting does.
pub fn policy_identity<P: Serialize>(version: &str, policy: &P) -> Result<String, serde_json::Error> {
    let json = serde_json::to_vec(policy)?;
    Ok(format!("{version}+sha256:{}", Sha256Digest::of(&json).to_hex()))
}

/// The derivation job for an artefact, if its media type has one. The job
/// ID depends on the stage, the content and that stage's policy identity,
/// so the same content under the same policy is derived once.
pub fn derive_job(template: &Job, input: &DeriveInput, policies: &DerivePolicies) -> Option<Job> {
    let stage = stage_for(&input.mime)?;
    let mut id = input.sha256.as_bytes().to_vec();
    id.extend_from_slice(input.artefact.as_str().as_bytes());
    Some(Job {
        job_id: JobId::derive(stage, &id, policies.for_stage(stage)),
        case: template.case.clone(),
        exhibit: template.exhibit.clone(),
        stage: stage.to_owned(),
        input: JobInput::from(if stage == OCR {
            StageInput::Ocr(input.clone())
        } else {
            StageInput::Transcode(input.clone())
        }),
        attempt: 0,
        run: None,
        signature: None,
        after: Vec::new(),
    })
}

/// What a derivation stage starts from: its input, a checked local copy of
/// the source's content (see [`crate::content::content_file`]), and a scratch folder for outputs. `None` when the ledger
/// already records the job as done.
pub async fn start(
    ctx: &StageContext,
    job: &Job,
) -> Result<Option<(DeriveInput, exhibit_store::LocalCopy, tempfile::TempDir)>, StageError> {
    let input = match job.input.for_stage(&job.stage) {
        Ok(StageInput::Transcode(input) | StageInput::Ocr(input)) => input.clone(),
        Ok(other) => return Err(StageError::input(format!("a {} input is not a derivation's", other.kind()))),
        Err(e) => return Err(StageError::input(format!("{} job {}: {e}", job.stage, job.job_id.0))),
    };
    if ctx.index().job_done(&job.job_id) {
        return Ok(None);
    }
    let scratch = crate::scratch::scratch_dir()?;
    let source = crate::content::content_file(ctx, &input.artefact, &input.sha256, scratch.path()).await?;
    Ok(Some((input, source, scratch)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_route_to_their_stage() {
        assert_eq!(stage_for("video/x-msvideo"), Some(TRANSCODE));
        assert_eq!(stage_for("audio/x-wav"), Some(TRANSCODE));
        assert_eq!(stage_for("image/tiff"), Some(OCR));
        assert_eq!(stage_for("application/pdf"), Some(OCR));
        assert_eq!(stage_for("text/plain"), None);
    }
}
