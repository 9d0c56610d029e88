//! The identify stage: finds an artefact's media type from its content
//! (signatures at its start and end, and media structures; never the file
//! name), writes its manifest, and
//! records an `identified` event.

use async_trait::async_trait;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, ArtefactRef, CustodyEvent};
use exhibit_core::layout::object_key;
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, MANIFEST_FORMAT, MediaType, ToolInfo};
use exhibit_core::params::{EventParams, IdentifiedParams};
use exhibit_pipeline::{Commit, Committed, Stage, StageContext, StageError};
use exhibit_queue::input::ArtefactInput;
use exhibit_queue::{Job, JobId, JobInput, StageInput};
use tracing::instrument;

use crate::acquire::FLAG_SYMLINK;
use crate::av::{av_candidate, confirm_av};
use crate::explore::{ExploreInput, explore_job};
use crate::facts::AcquiredFacts;
use crate::identify_policy::IdentifyPolicy;
use crate::{ACQUIRE, IDENTIFY, POLICY_VERSION};
use exhibit_media::{MediumClass, ReadAt, classify};
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
        input: JobInput::from(StageInput::Identify(ArtefactInput {
            path: facts.source.path.display.clone(),
            artefact: facts.artefact.clone(),
            sha256: facts.digests.sha256,
            size: facts.size,
            in_set: matches!(acquire.input.for_stage(ACQUIRE), Ok(StageInput::Acquire(s)) if s.in_set),
        })),
        attempt: 0,
        run: None,
        signature: None,
        after: Vec::new(),
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

    fn group_commits(&self) -> bool {
        true
    }

    #[instrument(name = "identify", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let (facts, in_set) = acquired_facts(ctx, job).await?;
        if ctx.index().has_action(&facts.artefact, Action::Identified) {
            return Ok(explore_if_pending(ctx, job, &facts, in_set).into_iter().collect());
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
            let (mut media_type, medium, head) = identify_content(ctx, &facts.digests.sha256, &self.policy).await?;
            if medium.is_none() {
                media_type = confirm_media(ctx, &facts, &head, media_type).await?;
            }
            media_type.extension_mismatch = extension_mismatch(&facts.source.name.display, &media_type);
            (media_type, medium)
        };
        let manifest = manifest_for(ctx, job, &facts, media_type);
        let (manifest_sha256, staged) = ctx.stage_manifest(&manifest).await?;
        let mut event = identified_event(ctx, job, &facts, &manifest, manifest_sha256);
        if let Committed::KeyTaken(_) = ctx.commit(Commit::new().put(staged).event(event.clone())).await? {
            // An interrupted run stored this manifest: keep it if it
            // describes the same artefact, and record that one.
            let adopted = store_manifest(ctx, &manifest).await?;
            if let Some(artefact) = event.artefact.as_mut() {
                artefact.manifest_sha256 = Some(adopted);
            }
            ctx.record(event).await?;
        }
        if medium.is_some() {
            // A set's members are explored through its record, once all
            // are acquired (the assemble stage queues that job).
            return Ok(if in_set { Vec::new() } else { vec![explore_job(job, &explore_input(&facts))] });
        }
        Ok(derive_job(job, &derive_input(&facts, &manifest.media_type.mime), &ctx.derive_policies)
            .into_iter()
            .collect())
    }
}

/// The `identified` event of `facts`' artefact, whose manifest (with the
/// SHA-256 given) is `manifest`, recorded by the job `job` names (an
/// identify job, or the acquire job that identified inline).
pub(crate) fn identified_event(
    ctx: &StageContext,
    job: &Job,
    facts: &AcquiredFacts,
    manifest: &ArtefactManifest,
    manifest_sha256: Sha256Digest,
) -> CustodyEvent {
    let mut event = ctx.event(Action::Identified, Some(&job.exhibit), ToolInfo::exhibit(IDENTIFY));
    event.artefact = Some(ArtefactRef {
        id: Some(facts.artefact.clone()),
        sha256: facts.digests.sha256,
        size: facts.size,
        manifest_sha256: Some(manifest_sha256),
    });
    event.set_params(EventParams::Identified(IdentifiedParams {
        job_id: Some(job.job_id.0.clone()),
        media_type: Some(manifest.media_type.mime.clone()),
        puid: manifest.media_type.pronom.as_ref().map(|p| p.puid.clone()),
        extension_mismatch: manifest.media_type.extension_mismatch.clone(),
        unidentified: manifest.media_type.unidentified.clone(),
    }));
    event
}

/// The media type of `content` (all of an artefact's bytes, as read while
/// acquiring it), exactly as the identify stage would find it in the
/// stored object, when that needs nothing else: `None` for a medium
/// (explore follows) and for audio or video (libavformat confirms it from
/// a local copy of the stored object). The extension check is the caller's.
pub(crate) fn identify_in_memory(content: Vec<u8>, policy: &IdentifyPolicy) -> Option<MediaType> {
    let at = exhibit_core::read_at::BytesAt::new(content);
    let (media_type, medium, head) = classify_stored(&at, policy).ok()?;
    (medium.is_none() && av_candidate(&media_type, &head).is_none()).then_some(media_type)
}

/// The facts the `acquired` event of the job's artefact records: from the
/// index, or, when another worker recorded it, from the ledger caught up.
/// Not there at all: the input is not ready (retried later). With it,
/// whether the artefact is a member of a set.
async fn acquired_facts(ctx: &StageContext, job: &Job) -> Result<(AcquiredFacts, bool), StageError> {
    let input = match job.input.for_stage(IDENTIFY) {
        Ok(StageInput::Identify(input)) => input,
        Ok(other) => return Err(StageError::input(format!("identify job {}: a {} input", job.job_id.0, other.kind()))),
        Err(e) => return Err(StageError::input(format!("identify job {}: {e}", job.job_id.0))),
    };
    let recorded = |ctx: &StageContext| ctx.index().acquired(&input.artefact).cloned();
    let record = match recorded(ctx) {
        Some(record) => record,
        None => {
            ctx.catch_up().await?;
            recorded(ctx).ok_or_else(|| {
                StageError::transient(format!(
                    "{}: input not ready: no acquired event for artefact {} yet",
                    input.path, input.artefact
                ))
            })?
        }
    };
    let facts: AcquiredFacts = record.facts().ok_or_else(|| {
        StageError::input(format!(
            "{}: the acquired event of artefact {} has unreadable facts",
            input.path, input.artefact
        ))
    })?;
    if facts.digests.sha256 != input.sha256 || record.sha256 != input.sha256 {
        return Err(StageError::input(format!(
            "{}: the job names content {} but artefact {} was acquired as {}",
            input.path, input.sha256, input.artefact, facts.digests.sha256
        )));
    }
    Ok((facts, input.in_set))
}

/// The media type of stored content; media that exhibit can open (disk and
/// optical images, E01, cue sheets) are recognised by their structures.
/// Reads through the store's positional reader, so every backend sees the
/// same bytes (the start, the end, and whatever structures classification
/// follows) and gives the same answer.
async fn identify_content(
    ctx: &StageContext,
    sha256: &Sha256Digest,
    policy: &IdentifyPolicy,
) -> Result<(MediaType, Option<MediumClass>, Vec<u8>), StageError> {
    let key = object_key(&ctx.case, sha256);
    let at = exhibit_store::open_read_at(&ctx.store, &key)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read stored object {key}: {e}")))?;
    let span = tracing::Span::current();
    let policy = *policy;
    tokio::task::spawn_blocking(move || span.in_scope(|| classify_stored(at.as_ref(), &policy)))
        .await
        .map_err(|e| StageError::transient(format!("identify task failed: {e}")))?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                StageError::input(format!("stored object {key} failed its hash check: {e}"))
            }
            _ => StageError::transient(format!("cannot read stored object {key}: {e}")),
        })
}

/// Sniffs the first and last [`SNIFF_BYTES`] of `at` and classifies it as
/// a medium; on a blocking thread (ranged reads block).
fn classify_stored(
    at: &dyn ReadAt,
    policy: &IdentifyPolicy,
) -> std::io::Result<(MediaType, Option<MediumClass>, Vec<u8>)> {
    let size = at.size();
    let head = read_span(at, 0, size.min(SNIFF_BYTES))?;
    let tail = if size > SNIFF_BYTES {
        let start = size - SNIFF_BYTES.min(size);
        read_span(at, start, size - start)?
    } else {
        head.clone()
    };
    let sniffed = identify_bytes(&head, &tail, size, policy);
    let medium = classify(at);
    Ok(match medium {
        Some(class) => {
            let mime = MediaType {
                mime: class.mime().into(),
                extension: Some(class.extension().into()),
                detected_by: "exhibit-media".into(),
                pronom: sniffed.pronom,
                ..Default::default()
            };
            (mime, Some(class), head)
        }
        None => (sniffed, None, head),
    })
}

/// `len` bytes (at most [`SNIFF_BYTES`]) at `offset`.
fn read_span(at: &dyn ReadAt, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; usize::try_from(len.min(SNIFF_BYTES)).unwrap_or(0)];
    exhibit_media::read_exact_at(at, offset, &mut buf)?;
    Ok(buf)
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
    let key = object_key(&ctx.case, &facts.digests.sha256);
    let copy = exhibit_store::materialise(ctx.store.as_ref(), &key, facts.digests.sha256, scratch.path())
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read stored object {key}: {e}")))?;
    let name = facts.source.path.display.clone();
    tokio::task::spawn_blocking(move || {
        let typed = confirm_av(media, candidate, copy.path());
        drop(copy);
        drop(scratch);
        typed
    })
    .await
    .map_err(|e| StageError::transient(format!("identify task failed: {e}")))?
    .map_err(|e| StageError::transient(format!("{name}: cannot probe it with libavformat: {e}")))
}

/// For an artefact identified earlier: its explore job, if it is a medium
/// outside a set and an interrupted run did not finish exploring it.
fn explore_if_pending(ctx: &StageContext, job: &Job, facts: &AcquiredFacts, in_set: bool) -> Option<Job> {
    let index = ctx.index();
    let mime = index.media_type(&facts.artefact)?;
    let next = match MediumClass::from_mime(mime) {
        Some(_) if in_set => return None,
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
        set: None,
    }
}

pub(crate) fn manifest_for(
    ctx: &StageContext,
    job: &Job,
    facts: &AcquiredFacts,
    media_type: MediaType,
) -> ArtefactManifest {
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
