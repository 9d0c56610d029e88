//! The identify stage: finds an artefact's media type from its first bytes
//! (content signatures, never the file name), writes its manifest, and
//! records an `identified` event.

use std::io::Read;

use async_trait::async_trait;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, ArtefactRef};
use exhibit_core::layout::object_key;
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, MANIFEST_FORMAT, MediaType, ToolInfo};
use exhibit_pipeline::{Stage, StageContext, StageError};
use exhibit_queue::{Job, JobId};
use tracing::instrument;

use crate::acquire::FLAG_SYMLINK;
use crate::explore::{ExploreInput, explore_job};
use crate::facts::AcquiredFacts;
use crate::{ACQUIRE, IDENTIFY, POLICY_VERSION};
use exhibit_media::{BytesAt, FileAt, MediumClass, classify};
use exhibit_pipeline::derive::{DeriveInput, derive_job};
use exhibit_pipeline::store_manifest;

/// How many leading bytes the signature check reads.
const SNIFF_BYTES: u64 = 64 * 1024;
/// Name and version of the signature detector, recorded in manifests.
const DETECTOR: &str = "infer 0.16 + exhibit text check";

/// Identifies media types and writes manifests.
#[derive(Debug, Default)]
pub struct IdentifyStage;

/// The identify job that follows an acquisition.
pub(crate) fn identify_job(acquire: &Job, facts: &AcquiredFacts) -> Job {
    Job {
        job_id: JobId::derive(IDENTIFY, facts.artefact.as_str().as_bytes(), POLICY_VERSION),
        case: acquire.case.clone(),
        exhibit: acquire.exhibit.clone(),
        stage: IDENTIFY.to_owned(),
        input: serde_json::json!({ "path": facts.source.path.display, "facts": facts }),
        attempt: 0,
    }
}

/// The media type of content that starts with `head`.
pub fn detect_media_type(head: &[u8], total_size: u64) -> MediaType {
    let (mime, extension) = if total_size == 0 {
        ("application/x-empty".to_owned(), None)
    } else if let Some(kind) = infer::get(head) {
        (kind.mime_type().to_owned(), Some(kind.extension().to_owned()))
    } else if looks_like_text(head) {
        ("text/plain".to_owned(), Some("txt".to_owned()))
    } else {
        ("application/octet-stream".to_owned(), None)
    };
    MediaType { mime, extension, detected_by: DETECTOR.to_owned() }
}

/// UTF-8 (allowing a character cut at the end of the sample) with no NULs.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[async_trait]
impl Stage for IdentifyStage {
    fn name(&self) -> &'static str {
        IDENTIFY
    }

    #[instrument(name = "identify", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let facts: AcquiredFacts = job
            .input
            .get("facts")
            .cloned()
            .and_then(|f| serde_json::from_value(f).ok())
            .ok_or_else(|| StageError::input(format!("identify job {} has no acquisition facts", job.job_id.0)))?;
        if ctx.index().has_action(&facts.artefact, Action::Identified) {
            return Ok(explore_if_pending(ctx, job, &facts).into_iter().collect());
        }
        let (media_type, medium) = if facts.flags.iter().any(|f| f == FLAG_SYMLINK) {
            (MediaType { mime: "inode/symlink".into(), extension: None, detected_by: "lstat".into() }, None)
        } else {
            let head = read_head(ctx, &facts.digests.sha256).await?;
            identify_content(ctx, &facts.digests.sha256, &head, facts.size)
        };
        let manifest = manifest_for(ctx, job, &facts, media_type);
        let manifest_sha256 = store_manifest(ctx, &manifest).await?;
        let mut event = ctx.event(Action::Identified, Some(&job.exhibit), ToolInfo::exhibit(IDENTIFY));
        event.artefact = Some(ArtefactRef {
            id: Some(facts.artefact.clone()),
            sha256: facts.digests.sha256,
            size: facts.size,
            manifest_sha256: Some(manifest_sha256),
        });
        event.params.insert("job_id".into(), job.job_id.0.clone().into());
        event.params.insert("media_type".into(), manifest.media_type.mime.clone().into());
        ctx.record(event).await?;
        if medium.is_some() {
            return Ok(vec![explore_job(job, &explore_input(&facts))]);
        }
        Ok(derive_job(job, &derive_input(&facts, &manifest.media_type.mime), &ctx.derive_policies)
            .into_iter()
            .collect())
    }
}

/// The media type of stored content; media that exhibit can open (disk and
/// optical images, E01, cue sheets) are recognised by their structures.
fn identify_content(
    ctx: &StageContext,
    sha256: &Sha256Digest,
    head: &[u8],
    size: u64,
) -> (MediaType, Option<MediumClass>) {
    let local = ctx.store.local_path(&object_key(&ctx.case, sha256)).and_then(|p| FileAt::open(&p).ok());
    let medium = match local {
        Some(file) => classify(&file),
        None => classify(&BytesAt::new(head.to_vec())),
    };
    match medium {
        Some(class) => {
            let mime = MediaType {
                mime: class.mime().into(),
                extension: Some(class.extension().into()),
                detected_by: "exhibit-media".into(),
            };
            (mime, Some(class))
        }
        None => (detect_media_type(head, size), None),
    }
}

/// For an artefact identified earlier: its explore job, if it is a medium
/// and an interrupted run did not finish exploring it.
fn explore_if_pending(ctx: &StageContext, job: &Job, facts: &AcquiredFacts) -> Option<Job> {
    let index = ctx.index();
    let mime = index.media_type(&facts.artefact)?;
    let next = match MediumClass::from_mime(mime) {
        Some(_) => explore_job(job, &explore_input(facts)),
        None => derive_job(job, &derive_input(facts, mime), &ctx.derive_policies)?,
    };
    (!index.job_done(&next.job_id)).then_some(next)
}

fn derive_input(facts: &AcquiredFacts, mime: &str) -> DeriveInput {
    DeriveInput {
        path: facts.source.path.display.clone(),
        artefact: facts.artefact.clone(),
        sha256: facts.digests.sha256,
        size: facts.size,
        mime: mime.to_owned(),
    }
}

fn explore_input(facts: &AcquiredFacts) -> ExploreInput {
    ExploreInput {
        path: facts.source.path.display.clone(),
        artefact: facts.artefact.clone(),
        sha256: facts.digests.sha256,
        size: facts.size,
        depth: 0,
        bad_ranges: facts.bad_ranges.clone(),
    }
}

async fn read_head(ctx: &StageContext, sha256: &Sha256Digest) -> Result<Vec<u8>, StageError> {
    let key = object_key(&ctx.case, sha256);
    let reader = ctx
        .store
        .get(&key, None)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read stored object {key}: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let mut head = Vec::with_capacity(SNIFF_BYTES as usize);
        reader.take(SNIFF_BYTES).read_to_end(&mut head).map(|_| head)
    })
    .await
    .map_err(|e| StageError::transient(format!("identify task failed: {e}")))?
    .map_err(|e| StageError::transient(format!("cannot read stored object {key}: {e}")))
}

fn manifest_for(ctx: &StageContext, job: &Job, facts: &AcquiredFacts, media_type: MediaType) -> ArtefactManifest {
    ArtefactManifest {
        format: MANIFEST_FORMAT.to_owned(),
        id: facts.artefact.clone(),
        case: ctx.case.clone(),
        exhibit: job.exhibit.clone(),
        kind: ArtefactKind::Original,
        source: Some(facts.source.clone()),
        size: facts.size,
        digests: facts.digests,
        media_type,
        timestamps: facts.timestamps.clone(),
        parent: None,
        inside: None,
        view: None,
        derivation: None,
        operator: ctx.actor.operator.clone(),
        tool: ToolInfo::exhibit(ACQUIRE),
        flags: facts.flags.clone(),
    }
}
