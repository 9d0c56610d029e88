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
use crate::av::{av_candidate, confirm_av};
use crate::explore::{ExploreInput, explore_job};
use crate::facts::AcquiredFacts;
use crate::identify_policy::IdentifyPolicy;
use crate::{ACQUIRE, IDENTIFY, POLICY_VERSION};
use exhibit_media::{BytesAt, FileAt, MediumClass, classify};
use exhibit_pipeline::derive::{DeriveInput, derive_job};
use exhibit_pipeline::store_manifest;

/// Identifies media types and writes manifests.
#[derive(Debug, Default, Clone)]
pub struct IdentifyStage {
    /// What identification runs (`[identify]` in config).
    pub policy: IdentifyPolicy,
}

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

pub(crate) use crate::format::detect_media_type;
use crate::format::{SNIFF_BYTES, extension_mismatch, identify_bytes};

/// Event param of an `identified` event: why the file name's extension
/// does not fit the content.
pub const PARAM_EXTENSION_MISMATCH: &str = "extension_mismatch";
/// Event param of an `identified` event: why content whose signature
/// claims audio or video is left unidentified.
pub const PARAM_UNIDENTIFIED: &str = "unidentified";

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
            (
                MediaType {
                    mime: "inode/symlink".into(),
                    extension: None,
                    detected_by: "lstat".into(),
                    ..Default::default()
                },
                None,
            )
        } else {
            let head = read_head(ctx, &facts.digests.sha256).await?;
            let (mut media_type, medium) =
                identify_content(ctx, &facts.digests.sha256, &head, facts.size, &self.policy);
            if medium.is_none() {
                media_type = confirm_media(ctx, &facts, &head, media_type).await?;
            }
            media_type.extension_mismatch = extension_mismatch(&facts.source.name.display, &media_type);
            (media_type, medium)
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
        if let Some(pronom) = &manifest.media_type.pronom {
            event.params.insert("puid".into(), pronom.puid.clone().into());
        }
        if let Some(text) = &manifest.media_type.extension_mismatch {
            event.params.insert(PARAM_EXTENSION_MISMATCH.into(), text.clone().into());
        }
        if let Some(text) = &manifest.media_type.unidentified {
            event.params.insert(PARAM_UNIDENTIFIED.into(), text.clone().into());
        }
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
    policy: &IdentifyPolicy,
) -> (MediaType, Option<MediumClass>) {
    let local = ctx.store.local_path(&object_key(&ctx.case, sha256)).and_then(|p| FileAt::open(&p).ok());
    let tail = match &local {
        Some(file) if size > head.len() as u64 => read_tail(file, size),
        _ if size > head.len() as u64 => Vec::new(),
        _ => head.to_vec(),
    };
    let sniffed = identify_bytes(head, &tail, size, policy);
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
                pronom: sniffed.pronom,
                ..Default::default()
            };
            (mime, Some(class))
        }
        None => (sniffed, None),
    }
}

/// Audio and video typed by what libavformat finds in the stored content
/// (see [`crate::av`]); other types are returned as they are.
#[instrument(name = "identify.av", skip_all, fields(mime = %media.mime))]
async fn confirm_media(
    ctx: &StageContext,
    facts: &AcquiredFacts,
    head: &[u8],
    media: MediaType,
) -> Result<MediaType, StageError> {
    let Some(candidate) = av_candidate(&media, head) else {
        return Ok(media);
    };
    let scratch = exhibit_pipeline::scratch_dir()?;
    let path = local_content(ctx, &facts.digests.sha256, scratch.path()).await?;
    let name = facts.source.path.display.clone();
    tokio::task::spawn_blocking(move || {
        let typed = confirm_av(media, candidate, &path);
        drop(scratch);
        typed
    })
    .await
    .map_err(|e| StageError::transient(format!("identify task failed: {e}")))?
    .map_err(|e| StageError::transient(format!("{name}: cannot probe it with libavformat: {e}")))
}

/// A local file of a stored object: the store's own, else a copy in `scratch`.
async fn local_content(
    ctx: &StageContext,
    sha256: &Sha256Digest,
    scratch: &std::path::Path,
) -> Result<std::path::PathBuf, StageError> {
    let key = object_key(&ctx.case, sha256);
    if let Some(path) = ctx.store.local_path(&key).filter(|p| p.is_file()) {
        return Ok(path);
    }
    let mut reader = ctx
        .store
        .get(&key, Some(*sha256))
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read stored object {key}: {e}")))?;
    let path = scratch.join("content");
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::create_new(&target)?;
        std::io::copy(&mut reader, &mut file).map(|_| ())
    })
    .await
    .map_err(|e| StageError::transient(format!("identify task failed: {e}")))?
    .map_err(|e| StageError::transient(format!("cannot copy stored object {key} for probing: {e}")))?;
    Ok(path)
}

/// The last [`SNIFF_BYTES`] of a stored file; empty when it cannot be read
/// (end-of-file signatures then do not match, which only costs a PUID).
fn read_tail(file: &FileAt, size: u64) -> Vec<u8> {
    let start = size.saturating_sub(SNIFF_BYTES);
    let mut tail = vec![0; usize::try_from(size - start).unwrap_or(0)];
    match exhibit_media::read_exact_at(file, start, &mut tail) {
        Ok(()) => tail,
        Err(e) => {
            tracing::debug!("cannot read the tail of a stored object: {e}");
            Vec::new()
        }
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
