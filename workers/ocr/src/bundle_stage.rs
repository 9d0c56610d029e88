//! The bundle stage: joins the searchable PDFs of a bundle's page files
//! into one PDF/A-2b in page order, recorded as a derivative of every page
//! PDF (the event's inputs, in page order, each with its SHA-256).

use async_trait::async_trait;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, ArtefactRef, InputRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{Derivation, MediaType, ParentRef, ToolInfo};
use exhibit_core::params::{EventParams, OcrParams};
use exhibit_pipeline::{ArtefactBatch, Stage, StageContext, StageError, derivative_manifest};
use exhibit_queue::{Job, StageInput};
use serde_json::json;
use tracing::instrument;

use crate::bundle_plan::{
    BUNDLE_LANE, BUNDLE_RULE, BundleFacts, BundleInput, FLAG_INCOMPLETE, PARAM_BUNDLE, bundle_job,
};
use crate::{DETAIL_PDF_CREATED, DETAIL_PDF_TITLE, DocumentInfo, OcrError, OcrPolicy, OcrStage};

/// Joins page PDFs into one PDF/A-2b with `info`; returns it and its page count.
pub fn bundle_pdf(docs: &[Vec<u8>], info: &DocumentInfo) -> Result<(Vec<u8>, u64), OcrError> {
    let (merged, pages) = crate::bundle_pdf::merge_documents(docs)?;
    Ok((crate::make_pdfa(&merged, info)?, pages))
}

/// The bundle PDF's title: the exhibit and the folder.
pub fn bundle_title(exhibit: &str, folder: &str) -> String {
    format!("Exhibit {exhibit}: {folder}")
}

/// Makes one searchable PDF/A per scan bundle.
#[derive(Debug, Clone, Default)]
pub struct OcrBundleStage {
    /// The OCR policy the page PDFs were made under (its version is recorded).
    pub policy: OcrPolicy,
}

#[async_trait]
impl Stage for OcrBundleStage {
    fn name(&self) -> &'static str {
        BUNDLE_LANE
    }

    #[instrument(name = "ocr-bundle", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        if let exhibit_queue::JobInput::V1(StageInput::OcrBundlePlan(plan)) = &job.input {
            return self.plan(ctx, job, plan.expected_pages).await;
        }
        let input = match job.input.for_stage(BUNDLE_LANE) {
            Ok(StageInput::OcrBundle(input)) => input.clone(),
            Ok(other) => {
                return Err(StageError::input(format!("bundle job {}: a {} input", job.job_id.0, other.kind())));
            }
            Err(e) => return Err(StageError::input(format!("bundle job {}: {e}", job.job_id.0))),
        };
        if ctx.index().job_done(&job.job_id) {
            return Ok(Vec::new());
        }
        let scratch = exhibit_pipeline::scratch_dir()?;
        let mut docs = Vec::with_capacity(input.pages.len());
        // Pages, not page files, so a progress bar counts what a person does.
        ctx.progress.pages_to_do(input.pages.iter().map(|p| p.pages.max(1)).sum());
        for page in &input.pages {
            docs.push(read_verified(ctx, &page.pdf, &page.pdf_sha256, scratch.path(), &page.path).await?);
            ctx.progress.pages_done(page.pages.max(1));
        }
        // Dated by the first-recorded page file, so a rerun makes the same bytes.
        let created = input.pages.iter().filter_map(|p| ctx.index().first_recorded(&p.original)).min();
        let created = created.unwrap_or_else(time::OffsetDateTime::now_utc);
        let info = DocumentInfo {
            title: bundle_title(job.exhibit.as_str(), &input.folder),
            created: created.replace_nanosecond(0).unwrap_or(created),
        };
        let pdf_info = info.clone();
        let (pdf, pages) = tokio::task::spawn_blocking(move || bundle_pdf(&docs, &pdf_info))
            .await
            .map_err(|e| StageError::transient(format!("bundle task failed: {e}")))?
            .map_err(|e| StageError::input(format!("bundle {}: {e}", input.folder)))?;
        tracing::info!(folder = %input.folder, pages, missing = input.missing.len(), "bundle PDF made");
        record(ctx, job, &input, &info, pdf, pages, &OcrStage { policy: self.policy.clone() }.policy_version()).await
    }
}

impl OcrBundleStage {
    /// The bundle jobs of `job`'s exhibit, planned from the ledger: run once
    /// the OCR jobs of its page files are complete (a barrier, see
    /// `exhibit_queue::Job::after`), wherever the run's jobs run.
    async fn plan(&self, ctx: &StageContext, job: &Job, expected: Option<u32>) -> Result<Vec<Job>, StageError> {
        let mut facts = BundleFacts::new(&job.exhibit);
        for event in ctx.read_events().await? {
            facts.note(&event);
        }
        let version = OcrStage { policy: self.policy.clone() }.policy_version();
        let bundles = facts.plan(&version, expected);
        tracing::info!(bundles = bundles.len(), "bundles planned");
        Ok(bundles.iter().filter_map(|b| bundle_job(&ctx.case, &job.exhibit, b, &version)).collect())
    }
}

/// The content of a page PDF, checked against its recorded SHA-256.
async fn read_verified(
    ctx: &StageContext,
    id: &ArtefactId,
    sha256: &Sha256Digest,
    scratch: &std::path::Path,
    path: &str,
) -> Result<Vec<u8>, StageError> {
    let file = exhibit_pipeline::content::content_file(ctx, id, sha256, scratch).await?;
    let bytes = tokio::fs::read(file.path())
        .await
        .map_err(|e| StageError::transient(format!("cannot read the searchable PDF of {path}: {e}")))?;
    if Sha256Digest::of(&bytes) != *sha256 {
        return Err(StageError::input(format!("the searchable PDF of {path} ({id}) failed its hash check")));
    }
    Ok(bytes)
}

/// Stores the bundle PDF and records it, unless the ledger already does.
async fn record(
    ctx: &StageContext,
    job: &Job,
    input: &BundleInput,
    info: &DocumentInfo,
    pdf: Vec<u8>,
    pages: u64,
    version: &str,
) -> Result<Vec<Job>, StageError> {
    let mut event = ctx.event(Action::Ocr, Some(&job.exhibit), ToolInfo::exhibit(BUNDLE_LANE));
    event.inputs = input.pages.iter().map(|p| InputRef { id: p.pdf.clone(), sha256: p.pdf_sha256 }).collect();
    let mut params =
        OcrParams { rule: Some(BUNDLE_RULE.into()), policy_version: Some(version.into()), ..Default::default() };
    event.set_params(EventParams::Ocr(params.clone()));
    let (Some(first), false) = (input.pages.first(), ctx.index().records(&event)) else {
        return Ok(Vec::new());
    };
    let mut batch = ArtefactBatch::new(ctx);
    let size = pdf.len() as u64;
    let receipt = batch.put_content(Box::new(std::io::Cursor::new(pdf)), ctx.hashes).await?;
    let locator = format!("ocr-bundle:{}:{version}:{}", input.folder, job.job_id.0);
    let id = ArtefactId::derive(&ctx.case, &job.exhibit, locator.as_bytes(), &receipt.digests.sha256);
    let bundle = bundle_param(input, pages);
    let mut details = serde_json::Map::new();
    details.insert("label".into(), input.label(pages).into());
    details.insert(PARAM_BUNDLE.into(), bundle.clone());
    details.insert(DETAIL_PDF_TITLE.into(), info.title.clone().into());
    let created = info.created.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    details.insert(DETAIL_PDF_CREATED.into(), created.into());
    let media_type = MediaType {
        mime: "application/pdf".into(),
        extension: Some("pdf".into()),
        detected_by: "exhibit-ocr".into(),
        ..Default::default()
    };
    let parent = ParentRef { id: first.pdf.clone(), sha256: first.pdf_sha256, offset: None };
    let tool = ToolInfo::exhibit(BUNDLE_LANE);
    let mut manifest = derivative_manifest(ctx, &job.exhibit, id.clone(), &receipt, media_type, parent, tool);
    manifest.derivation =
        Some(Derivation { rule: BUNDLE_RULE.into(), policy_version: version.into(), deterministic: true, details });
    manifest.flags = flags(input);
    event.artefact = Some(ArtefactRef { id: Some(id), sha256: receipt.digests.sha256, size, manifest_sha256: None });
    params.pages = Some(pages);
    params.bundle_files = Some(bundle);
    params.job_id = Some(job.job_id.0.clone());
    event.set_params(EventParams::Ocr(params));
    batch.add(BUNDLE_RULE.to_owned(), manifest, event).await?;
    match batch.commit().await?.into_iter().next() {
        Some(failed) => Err(StageError::input(format!("{}: {}", failed.label, failed.reason))),
        None => Ok(Vec::new()),
    }
}

/// What the bundle holds, in page order, and what it lacks.
fn bundle_param(input: &BundleInput, pages: u64) -> serde_json::Value {
    let files: Vec<_> = input
        .pages
        .iter()
        .map(|p| {
            json!({"path": p.path, "original": p.original, "original_sha256": p.original_sha256,
                   "pdf": p.pdf, "pdf_sha256": p.pdf_sha256, "pages": p.pages, "needs_review": p.review})
        })
        .collect();
    let missing: Vec<_> = input.missing.iter().map(|m| json!({"path": m.path, "why": m.why})).collect();
    json!({
        "folder": input.folder,
        "pages": pages,
        "page_files": input.pages.len() + input.missing.len(),
        "inputs": files,
        "missing": missing,
    })
}

/// `needs-review` when a page PDF carries it; `incomplete-bundle` when a page file is missing.
fn flags(input: &BundleInput) -> Vec<String> {
    let mut flags = Vec::new();
    if input.pages.iter().any(|p| !p.review.is_empty()) {
        flags.push(crate::FLAG_NEEDS_REVIEW.to_owned());
    }
    if !input.missing.is_empty() {
        flags.push(FLAG_INCOMPLETE.to_owned());
    }
    flags
}
