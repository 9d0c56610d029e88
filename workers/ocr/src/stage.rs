//! The OCR stage: reads one stored scan (TIFF, PNG, JPEG, PDF) in an
//! isolated child process and records its text, hOCR and searchable PDF as
//! derivative artefacts linked to the scan, with per-page confidence and
//! review flags.

use async_trait::async_trait;
use exhibit_core::event::{Action, ArtefactRef, InputRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{Derivation, MediaType, ParentRef, ToolInfo};
use exhibit_core::params::{EventParams, OcrParams};
use exhibit_pipeline::derive::{DeriveInput, OCR};
use exhibit_pipeline::{ArtefactBatch, Stage, StageContext, StageError, derivative_manifest};
use exhibit_queue::input::StageInput;
use exhibit_queue::{Job, JobId};
use serde_json::json;
use tracing::instrument;

use crate::{
    DocumentInfo, HOCR_FILE, OcrError, OcrErrorKind, OcrOutcome, OcrPolicy, PDF_FILE, TEXT_FILE, ocr_document,
};

/// Derivation detail keys that let `reproduce` rebuild the same PDF/A.
pub const DETAIL_PDF_TITLE: &str = "pdf_title";
/// See [`DETAIL_PDF_TITLE`]: the creation date, RFC 3339 UTC.
pub const DETAIL_PDF_CREATED: &str = "pdf_created";

/// An outcome with the document facts its PDF/A was made with.
struct Recorded {
    outcome: OcrOutcome,
    info: DocumentInfo,
}

impl std::ops::Deref for Recorded {
    type Target = OcrOutcome;
    fn deref(&self) -> &OcrOutcome {
        &self.outcome
    }
}

/// The PDF title: the exhibit and the scanned file's name.
pub fn pdf_title(exhibit: &str, path: &str) -> String {
    format!("Exhibit {exhibit}: {}", file_name(path))
}

/// The last component of a display path (the operator's own folders say nothing about the evidence).
fn file_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit(['/', '\\']).next().unwrap_or(path)
}

fn now_utc() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

/// OCRs a document and turns its searchable PDF into PDF/A-2b with `info`.
pub fn ocr_to_pdfa(
    source: &std::path::Path,
    mime: &str,
    policy: &OcrPolicy,
    out: &std::path::Path,
    info: &DocumentInfo,
) -> Result<OcrOutcome, OcrError> {
    let outcome = ocr_document(source, mime, policy, out)?;
    if outcome.searchable_pdf {
        crate::make_pdfa_file(&out.join(PDF_FILE), info)?;
    }
    Ok(outcome)
}

fn read_head(source: &std::path::Path) -> Result<Vec<u8>, StageError> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(source)
        .and_then(|f| f.take(crate::photo::PHOTO_HEAD_BYTES as u64).read_to_end(&mut head))
        .map_err(|e| StageError::transient(format!("cannot read {}: {e}", source.display())))?;
    Ok(head)
}

/// The selection settings a job is decided under, and the ID that marks
/// it decided (see `selection.rs`).
struct Decided {
    selection: String,
    job: JobId,
}

impl Decided {
    fn of(policy: &OcrPolicy, job: &Job, item: Option<bool>) -> Result<Self, StageError> {
        let input = match job.input.for_stage(&job.stage) {
            Ok(StageInput::Ocr(input)) => input,
            Ok(other) => return Err(StageError::input(format!("a {} input is not an OCR job's", other.kind()))),
            Err(e) => return Err(StageError::input(format!("{} job {}: {e}", job.stage, job.job_id.0))),
        };
        let selection = policy.selection(job.exhibit.as_str(), &input.mime, item);
        Ok(Self { job: crate::selection::selection_job(job, &selection), selection })
    }
}

/// Why an input was not OCRed, and its pages when they were counted.
struct Skip<'a> {
    reason: &'a str,
    pages: Option<u32>,
}

/// Records that the input was not OCRed and why, under the selection
/// settings that decided it, so it is not read again while they stand.
async fn record_skipped(
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    (version, decided): (&str, &Decided),
    Skip { reason, pages }: Skip<'_>,
) -> Result<(), StageError> {
    tracing::info!(path = %input.path, reason, pages, "not OCRed");
    let mut event = ctx.event(Action::Ocr, Some(&job.exhibit), ToolInfo::exhibit(OCR));
    event.inputs = vec![InputRef { id: input.artefact.clone(), sha256: input.sha256 }];
    event.set_params(EventParams::Ocr(OcrParams {
        policy_version: Some(version.into()),
        skipped: Some(reason.into()),
        pages: pages.map(u64::from),
        selection: Some(decided.selection.clone()),
        job_id: Some(decided.job.0.clone()),
        ..Default::default()
    }));
    ctx.record(event).await.map(|_| ())
}

/// Flag on OCR outputs with at least one page a person should check.
pub const FLAG_NEEDS_REVIEW: &str = "needs-review";

/// The three outputs: file, rule, media type, extension.
const OUTPUTS: [(&str, &str, &str, &str); 3] = [
    (TEXT_FILE, "ocr-text", "text/plain", "txt"),
    (HOCR_FILE, "ocr-hocr", "text/vnd.hocr+html", "html"),
    (PDF_FILE, "ocr-searchable-pdf", "application/pdf", "pdf"),
];

/// The output file name of an OCR rule (`ocr-text`, `ocr-hocr`, `ocr-searchable-pdf`).
pub fn output_file(rule: &str) -> Option<&'static str> {
    OUTPUTS.iter().find(|o| o.1 == rule).map(|o| o.0)
}

/// OCRs scans under a policy.
#[derive(Debug, Clone, Default)]
pub struct OcrStage {
    /// Languages, limits and review threshold.
    pub policy: OcrPolicy,
}

impl OcrStage {
    /// The policy version recorded with every output: what shapes the text.
    pub fn policy_version(&self) -> String {
        // The default render resolution is left out, so derivatives made
        // before pages were rendered keep their version (their image pages
        // OCR the same); another resolution makes other outputs.
        let dpi = match self.policy.render_dpi {
            crate::policy::DEFAULT_RENDER_DPI => String::new(),
            dpi => format!(":render-dpi={dpi}"),
        };
        format!(
            "ocr-2:{}:rotate={}:min-confidence={}:min-words={}{dpi}:pdfa-2b",
            self.policy.language_string(),
            self.policy.rotate,
            self.policy.min_confidence,
            self.policy.min_words
        )
    }
}

impl OcrStage {
    /// Whether a skip is because OCR is off for the exhibit (by its item
    /// row or the configuration) for a type that is OCRed otherwise: its
    /// pages are the bundle's pages all the same, so they are counted.
    fn off_for(&self, exhibit: &str, mime: &str, item: Option<bool>) -> bool {
        let off = item.map_or_else(|| self.policy.off_for(exhibit), |on| !on);
        off && self.policy.media_types.iter().any(|m| m.eq_ignore_ascii_case(mime))
    }

    /// The pages of a skipped document: a PDF's page tree or a TIFF's IFD
    /// chain walked in the OCR child (nothing decoded), 1 for another image.
    async fn count_pages(
        &self,
        source: &std::path::Path,
        mime: &str,
        head: &[u8],
        scratch: &std::path::Path,
    ) -> Result<Option<u32>, OcrError> {
        let paged = mime == "application/pdf"
            || head[..head.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
            || head.starts_with(b"II*\0")
            || head.starts_with(b"MM\0*");
        if !paged {
            return Ok(Some(1));
        }
        let (source, mime, policy, scratch) =
            (source.to_owned(), mime.to_owned(), self.policy.clone(), scratch.to_owned());
        tokio::task::spawn_blocking(move || crate::count_pages(&source, &mime, &policy, &scratch))
            .await
            .map_err(|e| OcrError::new(OcrErrorKind::Crashed, format!("the page count task failed: {e}")))?
            .map(Some)
    }
}

#[async_trait]
impl Stage for OcrStage {
    fn name(&self) -> &'static str {
        OCR
    }

    /// The limits a page is refused under, and this build's decoders.
    fn fault_settings(&self) -> Option<String> {
        let p = &self.policy;
        Some(format!(
            "ocr:max-pixels={}:max-pages={}:timeout={}s:max-memory={}:threads={}:v={}",
            p.max_pixels,
            p.max_pages,
            p.timeout.as_secs(),
            p.max_memory,
            p.threads,
            env!("CARGO_PKG_VERSION")
        ))
    }

    #[instrument(name = "ocr", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        // The item manifest row's setting for the exhibit, if one says.
        let item = ctx.index().ocr_setting(&job.exhibit);
        let decided = Decided::of(&self.policy, job, item)?;
        if ctx.index().job_done(&decided.job) {
            // Skipped (or found already text) under these same settings.
            return Ok(Vec::new());
        }
        let Some((input, source, scratch)) = exhibit_pipeline::derive::start(ctx, job).await? else {
            return Ok(Vec::new());
        };
        let version = self.policy_version();
        let head = read_head(source.path())?;
        if let Some(mut reason) = self.policy.skip_reason(job.exhibit.as_str(), &input.mime, item, &head) {
            // As other skip reasons name their key, the row's names its manifest and line.
            if let (Some(false), Some(origin)) = (item, ctx.index().described_by(&job.exhibit)) {
                reason = format!("{reason} ({origin}: ocr = off)");
            }
            let pages = if self.off_for(job.exhibit.as_str(), &input.mime, item) {
                self.count_pages(source.path(), &input.mime, &head, scratch.path()).await
            } else {
                Ok(None)
            };
            let pages = pages.unwrap_or_else(|why| {
                reason = format!("{reason}; its pages could not be counted: {why}");
                None
            });
            let skip = Skip { reason: &reason, pages };
            return record_skipped(ctx, job, &input, (&version, &decided), skip).await.map(|()| Vec::new());
        }
        // The PDF's date is when its source was recorded, not now: a rerun after
        // a crash then makes the same bytes, and stores nothing new.
        let recorded = ctx.index().first_recorded(&input.artefact);
        let created = recorded.map(|at| at.replace_nanosecond(0).unwrap_or(at)).unwrap_or_else(now_utc);
        let info = DocumentInfo { title: pdf_title(job.exhibit.as_str(), &input.path), created };
        let (policy, out, mime, pdf_info) =
            (self.policy.clone(), scratch.path().to_owned(), input.mime.clone(), info.clone());
        let outcome = tokio::task::spawn_blocking(move || ocr_to_pdfa(source.path(), &mime, &policy, &out, &pdf_info))
            .await
            .map_err(|e| StageError::transient(format!("OCR task failed: {e}")))?
            .map_err(|e| match e.kind {
                OcrErrorKind::Io => StageError::transient(format!("{}: {e}", input.path)),
                // The message names the limit, its key and the size.
                OcrErrorKind::Limit => StageError::limit(format!("{}: {}", input.path, e.message)),
                _ => StageError::input(format!("{}: {e}", input.path)),
            })?;
        let outcome = Recorded { outcome, info };
        let made: Vec<_> = OUTPUTS.iter().filter(|o| scratch.path().join(o.0).exists()).collect();
        if made.is_empty() {
            return record_nothing_to_do(ctx, job, &input, &outcome, (&version, &decided)).await.map(|()| Vec::new());
        }
        // Every output through one batch: a redelivered or duplicated job
        // skips outputs already recorded, and the ledger guard drops any
        // that another worker records meanwhile.
        let mut batch = ArtefactBatch::new(ctx);
        for (i, output) in made.iter().enumerate() {
            let last = i + 1 == made.len();
            let path = scratch.path().join(output.0);
            stage_output(&mut batch, ctx, job, &input, &outcome, &version, **output, &path, last).await?;
        }
        match batch.commit().await?.into_iter().next() {
            Some(failed) => Err(StageError::input(format!("{}: {}", failed.label, failed.reason))),
            None => Ok(Vec::new()),
        }
    }
}

/// Records that the scan needed no OCR (every page already has text), so
/// the job is not run again.
async fn record_nothing_to_do(
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    outcome: &OcrOutcome,
    (version, decided): (&str, &Decided),
) -> Result<(), StageError> {
    let mut event = ctx.event(Action::Ocr, Some(&job.exhibit), tool(outcome));
    event.inputs = vec![InputRef { id: input.artefact.clone(), sha256: input.sha256 }];
    let text_layer = outcome.pages.iter().filter(|p| p.had_text_layer).count();
    event.set_params(EventParams::Ocr(OcrParams {
        policy_version: Some(version.into()),
        pages: Some(outcome.pages.len() as u64),
        pages_with_text_layer: Some(text_layer as u64),
        not_ocred: Some(not_ocred_reason(text_layer, outcome.pages.len())),
        notes: document_notes(outcome),
        selection: Some(decided.selection.clone()),
        job_id: Some(decided.job.0.clone()),
        ..Default::default()
    }));
    tracing::info!(path = %input.path, "not OCRed: every page has a text layer");
    ctx.record(event).await.map(|_| ())
}

/// Ledger key of the reason a scan got no OCR outputs.
pub const PARAM_NOT_OCRED: &str = "not_ocred";

/// Why no page was OCRed, for the ledger and `show`.
fn not_ocred_reason(text_layer: usize, pages: usize) -> String {
    if text_layer == pages {
        format!("already text: every page ({pages}) has a text layer (born-digital or already searchable); not OCRed")
    } else {
        format!("{text_layer} of {pages} pages have a text layer and no page was OCRed")
    }
}

/// What a person calls the output, e.g. "searchable PDF of scans/ (12 pages)".
fn label(rule: &str, path: &str, pages: usize) -> String {
    let what = match rule {
        "ocr-searchable-pdf" => "searchable PDF/A",
        "ocr-hocr" => "hOCR",
        _ => "OCR text",
    };
    let plural = if pages == 1 { "" } else { "s" };
    format!("{what} of {} ({pages} page{plural})", file_name(path))
}

/// The document's notes for its `ocr` events, if it has any.
fn document_notes(outcome: &OcrOutcome) -> Option<Vec<String>> {
    (!outcome.notes.is_empty()).then(|| outcome.notes.clone())
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

/// Stages one output, its manifest and its `ocr` event, unless the ledger
/// already records that output. The last output's event carries the job
/// ID, which marks the job done.
#[allow(clippy::too_many_arguments)]
async fn stage_output(
    batch: &mut ArtefactBatch<'_>,
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    outcome: &Recorded,
    version: &str,
    (_, rule, mime, extension): (&str, &str, &str, &str),
    path: &std::path::Path,
    last: bool,
) -> Result<(), StageError> {
    let mut event = ctx.event(Action::Ocr, Some(&job.exhibit), tool(outcome));
    event.inputs = vec![InputRef { id: input.artefact.clone(), sha256: input.sha256 }];
    let mut params = OcrParams { rule: Some(rule.into()), policy_version: Some(version.into()), ..Default::default() };
    event.set_params(EventParams::Ocr(params.clone()));
    if ctx.index().records(&event) {
        return Ok(());
    }
    let file = std::fs::File::open(path)
        .map_err(|e| StageError::transient(format!("cannot read OCR output {}: {e}", path.display())))?;
    let receipt = batch.put_content(Box::new(file), ctx.hashes).await?;
    let locator = format!("ocr:{}:{version}:{rule}", input.artefact);
    let id = ArtefactId::derive(&ctx.case, &job.exhibit, locator.as_bytes(), &receipt.digests.sha256);
    let mut details = serde_json::Map::new();
    details.insert("pages".into(), serde_json::to_value(&outcome.pages).unwrap_or_default());
    details.insert("languages".into(), outcome.languages.clone().into());
    details.insert("pages_ocred".into(), outcome.pages_ocred.into());
    details.insert("label".into(), label(rule, &input.path, outcome.pages.len()).into());
    if !outcome.notes.is_empty() {
        details.insert("notes".into(), outcome.notes.clone().into());
    }
    if rule == "ocr-searchable-pdf" {
        details.insert(DETAIL_PDF_TITLE.into(), outcome.info.title.clone().into());
        let created = outcome.info.created.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        details.insert(DETAIL_PDF_CREATED.into(), created.into());
    }
    let media_type = MediaType {
        mime: mime.into(),
        extension: Some(extension.into()),
        detected_by: "exhibit-ocr".into(),
        ..Default::default()
    };
    let parent = ParentRef { id: input.artefact.clone(), sha256: input.sha256, offset: None };
    let mut manifest = derivative_manifest(ctx, &job.exhibit, id.clone(), &receipt, media_type, parent, tool(outcome));
    manifest.derivation =
        Some(Derivation { rule: rule.into(), policy_version: version.into(), deterministic: true, details });
    manifest.flags = flags(outcome);
    event.artefact =
        Some(ArtefactRef { id: Some(id), sha256: receipt.digests.sha256, size: receipt.size, manifest_sha256: None });
    params.pages = Some(outcome.pages.len() as u64);
    let review: Vec<serde_json::Value> = outcome
        .pages_needing_review()
        .map(|p| json!({"file": input.path, "page": p.index, "reason": p.reason, "mean_confidence": p.mean_confidence}))
        .collect();
    params.needs_review = (!review.is_empty()).then_some(review);
    params.notes = document_notes(outcome);
    params.job_id = last.then(|| job.job_id.0.clone());
    event.set_params(EventParams::Ocr(params));
    batch.add(rule.to_owned(), manifest, event).await
}
