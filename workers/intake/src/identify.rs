//! The identify stage: finds an artefact's media type from its first bytes
//! (content signatures, never the file name), writes its manifest, and
//! records an `identified` event.

use std::io::Read;

use async_trait::async_trait;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, ArtefactRef};
use exhibit_core::layout::{manifest_key, object_key};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, MANIFEST_FORMAT, MediaType, ToolInfo};
use exhibit_pipeline::{Stage, StageContext, StageError};
use exhibit_queue::{Job, JobId};
use exhibit_store::StoreErrorKind;
use tracing::instrument;

use crate::acquire::FLAG_SYMLINK;
use crate::facts::AcquiredFacts;
use crate::{ACQUIRE, IDENTIFY, POLICY_VERSION};

/// How many leading bytes the signature check reads.
const SNIFF_BYTES: u64 = 8192;
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
            return Ok(Vec::new());
        }
        let media_type = if facts.flags.iter().any(|f| f == FLAG_SYMLINK) {
            MediaType { mime: "inode/symlink".into(), extension: None, detected_by: "lstat".into() }
        } else {
            let head = read_head(ctx, &facts.digests.sha256).await?;
            detect_media_type(&head, facts.size)
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
        Ok(Vec::new())
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
        operator: ctx.actor.operator.clone(),
        tool: ToolInfo::exhibit(ACQUIRE),
        flags: facts.flags.clone(),
    }
}

/// Writes the manifest create-only. If an interrupted run already wrote one
/// for this artefact, that one is kept when it describes the same content.
async fn store_manifest(ctx: &StageContext, manifest: &ArtefactManifest) -> Result<Sha256Digest, StageError> {
    let key = manifest_key(&ctx.case, &manifest.id);
    let bytes = exhibit_core::canonical::to_canonical_vec(manifest).map_err(|e| StageError::input(e.to_string()))?;
    let body = Box::new(std::io::Cursor::new(bytes));
    match ctx.store.put_new(&key, body, exhibit_core::HashSelection::SHA256_ONLY).await {
        Ok(receipt) => Ok(receipt.digests.sha256),
        Err(e) if e.kind() == StoreErrorKind::AlreadyExists => adopt_manifest(ctx, manifest, &key).await,
        Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot store manifest {key}: {e}"))),
    }
}

async fn adopt_manifest(
    ctx: &StageContext,
    manifest: &ArtefactManifest,
    key: &exhibit_core::layout::ObjectKey,
) -> Result<Sha256Digest, StageError> {
    let existing = exhibit_store::read_small(ctx.store.as_ref(), key, 1 << 20)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read manifest {key}: {e}")))?;
    let parsed: ArtefactManifest = serde_json::from_slice(&existing).map_err(|e| {
        StageError::input(format!("manifest {key} exists but is not valid ({e}); run `exhibit verify`"))
    })?;
    if parsed.id != manifest.id || parsed.digests != manifest.digests || parsed.source != manifest.source {
        return Err(StageError::input(format!(
            "manifest {key} exists and describes different content; run `exhibit verify`"
        )));
    }
    Ok(Sha256Digest::of(&existing))
}
