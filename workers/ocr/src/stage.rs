//! The OCR stage: reads one stored scan (TIFF, PNG, JPEG, PDF) in an
//! isolated child process and records its text, hOCR and searchable PDF as
//! derivative artefacts linked to the scan, with per-page confidence and
//! review flags.

use async_trait::async_trait;
use exhibit_core::event::{Action, ArtefactRef, InputRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::layout::objects_prefix;
use exhibit_core::manifest::{Derivation, MediaType, ParentRef, ToolInfo};
use exhibit_pipeline::derive::{DeriveInput, OCR};
use exhibit_pipeline::{PARAM_JOB_ID, Stage, StageContext, StageError, Tally, derivative_manifest, store_manifest};
use exhibit_queue::Job;
use serde_json::json;
use tracing::instrument;

use crate::{HOCR_FILE, OcrErrorKind, OcrOutcome, OcrPolicy, PDF_FILE, TEXT_FILE, ocr_document};

/// Flag on OCR outputs with at least one page a person should check.
pub const FLAG_NEEDS_REVIEW: &str = "needs-review";

/// The three outputs: file, rule, media type, extension.
const OUTPUTS: [(&str, &str, &str, &str); 3] = [
    (TEXT_FILE, "ocr-text", "text/plain", "txt"),
    (HOCR_FILE, "ocr-hocr", "text/vnd.hocr+html", "html"),
    (PDF_FILE, "ocr-searchable-pdf", "application/pdf", "pdf"),
];

/// OCRs scans under a policy.
#[derive(Debug, Clone, Default)]
pub struct OcrStage {
    /// Languages, limits and review threshold.
    pub policy: OcrPolicy,
}

impl OcrStage {
    /// The policy version recorded with every output: what shapes the text.
    pub fn policy_version(&self) -> String {
        format!(
            "ocr-1:{}:rotate={}:min-confidence={}",
            self.policy.language_string(),
            self.policy.rotate,
            self.policy.min_confidence
        )
    }
}

#[async_trait]
impl Stage for OcrStage {
    fn name(&self) -> &'static str {
        OCR
    }

    #[instrument(name = "ocr", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let Some((input, source, scratch)) = exhibit_pipeline::derive::start(ctx, job).await? else {
            return Ok(Vec::new());
        };
        let (policy, out, mime) = (self.policy.clone(), scratch.path().to_owned(), input.mime.clone());
        let outcome = tokio::task::spawn_blocking(move || ocr_document(&source, &mime, &policy, &out))
            .await
            .map_err(|e| StageError::transient(format!("OCR task failed: {e}")))?
            .map_err(|e| match e.kind {
                OcrErrorKind::Io => StageError::transient(format!("{}: {e}", input.path)),
                _ => StageError::input(format!("{}: {e}", input.path)),
            })?;
        let version = self.policy_version();
        let made: Vec<_> = OUTPUTS.iter().filter(|o| scratch.path().join(o.0).exists()).collect();
        if made.is_empty() {
            return record_nothing_to_do(ctx, job, &input, &outcome, &version).await.map(|()| Vec::new());
        }
        for (i, output) in made.iter().enumerate() {
            let last = i + 1 == made.len();
            record_output(ctx, job, &input, &outcome, &version, **output, &scratch.path().join(output.0), last).await?;
        }
        Ok(Vec::new())
    }
}

/// Records that the scan needed no OCR (every page already has text), so
/// the job is not run again.
async fn record_nothing_to_do(
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    outcome: &OcrOutcome,
    version: &str,
) -> Result<(), StageError> {
    let mut event = ctx.event(Action::Ocr, Some(&job.exhibit), tool(outcome));
    event.inputs = vec![InputRef { id: input.artefact.clone(), sha256: input.sha256 }];
    event.params.insert("policy_version".into(), version.into());
    event.params.insert("pages".into(), (outcome.pages.len() as u64).into());
    event.params.insert(
        "pages_with_text_layer".into(),
        (outcome.pages.iter().filter(|p| p.had_text_layer).count() as u64).into(),
    );
    event.params.insert(PARAM_JOB_ID.into(), job.job_id.0.clone().into());
    ctx.record(event).await.map(|_| ())
}

fn flags(outcome: &OcrOutcome) -> Vec<String> {
    if outcome.pages_needing_review().next().is_some() { vec![FLAG_NEEDS_REVIEW.to_owned()] } else { Vec::new() }
}

fn tool(outcome: &OcrOutcome) -> ToolInfo {
    let mut tool = ToolInfo::exhibit(OCR);
    tool.libraries.insert("tesseract".into(), outcome.tesseract_version.clone());
    tool.libraries.insert("leptonica".into(), outcome.leptonica_version.clone());
    tool
}

#[allow(clippy::too_many_arguments)]
async fn record_output(
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    outcome: &OcrOutcome,
    version: &str,
    (_, rule, mime, extension): (&str, &str, &str, &str),
    path: &std::path::Path,
    last: bool,
) -> Result<(), StageError> {
    let file = std::fs::File::open(path)
        .map_err(|e| StageError::transient(format!("cannot read OCR output {}: {e}", path.display())))?;
    let receipt = ctx
        .store
        .put_content(&objects_prefix(&ctx.case), Box::new(file), ctx.hashes)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot store OCR output {rule}: {e}")))?;
    Tally::add(&ctx.tally.stored, 1);
    let locator = format!("ocr:{}:{version}:{rule}", input.artefact);
    let id = ArtefactId::derive(&ctx.case, &job.exhibit, locator.as_bytes(), &receipt.digests.sha256);
    let mut details = serde_json::Map::new();
    details.insert("pages".into(), serde_json::to_value(&outcome.pages).unwrap_or_default());
    details.insert("languages".into(), outcome.languages.clone().into());
    details.insert("pages_ocred".into(), outcome.pages_ocred.into());
    let media_type =
        MediaType { mime: mime.into(), extension: Some(extension.into()), detected_by: "exhibit-ocr".into() };
    let parent = ParentRef { id: input.artefact.clone(), sha256: input.sha256, offset: None };
    let mut manifest = derivative_manifest(ctx, &job.exhibit, id.clone(), &receipt, media_type, parent, tool(outcome));
    manifest.derivation =
        Some(Derivation { rule: rule.into(), policy_version: version.into(), deterministic: true, details });
    manifest.flags = flags(outcome);
    let manifest_sha256 = store_manifest(ctx, &manifest).await?;
    let mut event = ctx.event(Action::Ocr, Some(&job.exhibit), tool(outcome));
    event.artefact = Some(ArtefactRef {
        id: Some(id),
        sha256: receipt.digests.sha256,
        size: receipt.size,
        manifest_sha256: Some(manifest_sha256),
    });
    event.inputs = vec![InputRef { id: input.artefact.clone(), sha256: input.sha256 }];
    event.params.insert("rule".into(), rule.into());
    event.params.insert("policy_version".into(), version.into());
    event.params.insert("pages".into(), (outcome.pages.len() as u64).into());
    let review: Vec<serde_json::Value> = outcome
        .pages_needing_review()
        .map(|p| json!({"page": p.index, "reason": p.reason, "mean_confidence": p.mean_confidence}))
        .collect();
    if !review.is_empty() {
        event.params.insert(FLAG_NEEDS_REVIEW.into(), review.into());
    }
    if last {
        event.params.insert(PARAM_JOB_ID.into(), job.job_id.0.clone().into());
    }
    ctx.record(event).await?;
    Ok(())
}
