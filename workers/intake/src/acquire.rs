//! The acquire stage: streams one source into the store as an original,
//! hashing while it copies, and records an `acquired` event. A file that
//! changes while it is read is recorded as failed, with the reason.

use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use exhibit_core::event::{Action, ArtefactRef, CustodyEvent, Outcome};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{MediaType, RecordedPath, SourceInfo, ToolInfo};
use exhibit_core::params::{AcquiredParams, EventParams, FailedParams};
use exhibit_pipeline::derive::{DeriveInput, derive_job};
use exhibit_pipeline::{Commit, Committed, ProgressSink, Stage, StageContext, StageError, Tally};
use exhibit_queue::input::SourceInput;
use exhibit_queue::{Job, StageInput};
use exhibit_store::{ContentBody, PutReceipt, Staged};
use serde_json::json;
use tracing::{info, instrument};

use crate::ACQUIRE;
use crate::IdentifyPolicy;
use crate::facts::AcquiredFacts;
use crate::format::extension_mismatch;
use crate::identify::{identified_event, identify_in_memory, identify_job, manifest_for};
use crate::plan::{path_bytes, path_from_bytes};
use crate::source_file::{changed, open_source, source_key, timestamps};

/// Flag on an artefact that records a symbolic link's target path.
pub const FLAG_SYMLINK: &str = "symlink";

/// Largest regular file identified inline while it is acquired (see
/// [`AcquireStage`]); a larger one gets an identify job. Bounds the copy
/// each acquire job holds: `group_concurrency` (32) of them at most.
pub const INLINE_IDENTIFY_BYTES: u64 = 256 << 10;

/// Acquires files and symlinks into the store.
///
/// A regular file of at most [`INLINE_IDENTIFY_BYTES`] is also identified
/// from the bytes read to store it, as the identify stage would identify
/// the stored object, and its manifest and `identified` event go into the
/// same group commit as the content and the `acquired` event: one job, one
/// commit per file. Media, audio and video (which need the stored object),
/// symlinks, devices and larger files get an identify job as before.
#[derive(Debug, Clone)]
pub struct AcquireStage {
    /// How files identified inline are identified (`[identify]` in
    /// config); the identify stage's policy.
    pub identify: IdentifyPolicy,
    /// Largest file identified inline; 0 gives every file an identify job.
    pub inline_identify_bytes: u64,
}

impl Default for AcquireStage {
    fn default() -> Self {
        Self { identify: IdentifyPolicy::default(), inline_identify_bytes: INLINE_IDENTIFY_BYTES }
    }
}

#[async_trait]
impl Stage for AcquireStage {
    fn name(&self) -> &'static str {
        ACQUIRE
    }

    #[instrument(name = "acquire", skip_all, fields(path = job.input.path().unwrap_or("")))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let path = job_path(job)?;
        // What the ledger names: the path read, or what it is recorded as.
        let recorded = recorded_path(job)?;
        let shown = recorded.clone().unwrap_or_else(|| path.clone());
        let before = std::fs::symlink_metadata(&path).map_err(|e| {
            StageError::input(format!("{}: cannot be read ({e}); check that it is still there", shown.display()))
        })?;
        let key = source_key(path_bytes(&shown), &before);
        if let Some(done) = resume(ctx, job, &key) {
            return Ok(done);
        }
        let file_type = before.file_type();
        if file_type.is_block_device() {
            return acquire_block_device(ctx, job, &path).await;
        }
        if !(file_type.is_file() || file_type.is_symlink()) {
            let what = if file_type.is_fifo() {
                "a FIFO"
            } else if file_type.is_socket() {
                "a socket"
            } else {
                "a device node"
            };
            // Recorded once, as a fault of the evidence: a rerun cannot
            // read it either, so it is neither retried nor recorded again.
            if ctx.index().job_failed(&job.job_id) {
                return Ok(Vec::new());
            }
            let message =
                format!("{}: is {what}, not a regular file; its name is recorded, nothing was read", shown.display());
            return Err(StageError { fault: Some(exhibit_pipeline::FAULT_NOT_A_FILE), ..StageError::input(message) });
        }
        let (receipt, staged, after, media_type) =
            store_source(ctx, (&path, &shown), &before, (&self.identify, self.inline_identify_bytes)).await?;
        if let Some(reason) = after.as_ref().and_then(|after| changed(&before, after)) {
            record_changed(ctx, job, (&shown, &key), (&receipt, staged), &reason).await?;
            return Ok(Vec::new());
        }
        // A file recorded under another name (an upload) is a server's copy:
        // its times are when the bytes arrived, not the evidence's own.
        let own_times = recorded.is_none().then_some(&before);
        let facts = facts_for(ctx, job, (&shown, &before), own_times, &receipt);
        let identified = ctx.index().has_action(&facts.artefact, Action::Identified);
        if let Some(media_type) = media_type.filter(|_| !identified) {
            return record_acquired_identified(ctx, job, &key, &facts, staged, media_type).await;
        }
        record_acquired(ctx, job, &key, &facts, staged).await?;
        Ok(vec![identify_job(job, &facts)])
    }

    fn group_commits(&self) -> bool {
        true
    }
}

/// Acquires a block device, unless this device (same path, size and
/// serial) is already recorded.
async fn acquire_block_device(ctx: &StageContext, job: &Job, path: &Path) -> Result<Vec<Job>, StageError> {
    use exhibit_media::sources::{BlockDevice, LinuxBlockDevice, RetryPolicy};
    let device = LinuxBlockDevice::open(path).map_err(|e| {
        StageError::input(format!("{}: cannot open the device read-only ({e}); check it is connected", path.display()))
    })?;
    let key = crate::device::device_key(path_bytes(path), device.size(), device.identity().serial.as_deref());
    if let Some(done) = resume(ctx, job, &key) {
        return Ok(done);
    }
    crate::device::acquire_device(ctx, job, path_bytes(path), Box::new(device), RetryPolicy::default()).await
}

/// The source an acquire job names.
fn source_input(job: &Job) -> Result<&SourceInput, StageError> {
    match job.input.for_stage(ACQUIRE) {
        Ok(StageInput::Acquire(source)) => Ok(source),
        Ok(other) => Err(StageError::input(format!("acquire job {} has a {} input", job.job_id.0, other.kind()))),
        Err(e) => Err(StageError::input(format!("acquire job {}: {e}", job.job_id.0))),
    }
}

/// The path the job's source is recorded as, when not the path read.
fn recorded_path(job: &Job) -> Result<Option<PathBuf>, StageError> {
    let Some(hex) = &source_input(job)?.recorded_hex else { return Ok(None) };
    let bytes = hex::decode(hex)
        .map_err(|e| StageError::input(format!("acquire job {} has a bad recorded path: {e}", job.job_id.0)))?;
    Ok(Some(path_from_bytes(&bytes)))
}

fn job_path(job: &Job) -> Result<PathBuf, StageError> {
    let hex = &source_input(job)?.path_hex;
    let bytes =
        hex::decode(hex).map_err(|e| StageError::input(format!("acquire job {} has a bad path: {e}", job.job_id.0)))?;
    Ok(path_from_bytes(&bytes))
}

/// If this source in this state is already acquired, skips reading it and
/// returns only the work still missing.
fn resume(ctx: &StageContext, job: &Job, key: &str) -> Option<Vec<Job>> {
    let index = ctx.index();
    let record = index.source(&job.exhibit, key)?.clone();
    drop(index);
    Tally::add(&ctx.tally.skipped, 1);
    ctx.progress.file_done();
    let facts: AcquiredFacts = record.facts()?;
    // Identify again: it skips what is done and queues what follows it
    // (explore, transcode, OCR) unless that is done too.
    Some(vec![identify_job(job, &facts)])
}

/// What the store reads of an opened source: a regular file may be read
/// twice (hashed, then uploaded under its content key: see the store's
/// [`ContentBody`]); anything else is read once. Bytes are counted for the
/// progress bar as the read that stores them goes.
fn source_body(file: std::fs::File, progress: Arc<dyn ProgressSink>) -> std::io::Result<ContentBody> {
    ContentBody::from_file(file, Some(Arc::new(move |n| progress.bytes_read(n))))
}

/// Counts bytes as they pass, for the progress bar.
struct Counted<R> {
    inner: R,
    progress: Arc<dyn ProgressSink>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes_read(n as u64);
        Ok(n)
    }
}

/// Keeps a copy of the bytes that pass while they are at most `limit`,
/// and identifies them at the end of the stream, on the thread the store
/// reads on (identification is CPU work; this spares it a thread hop).
struct Identifying<R> {
    inner: R,
    limit: u64,
    copy: Option<Vec<u8>>,
    policy: IdentifyPolicy,
    found: Arc<Mutex<Option<MediaType>>>,
}

impl<R: Read> Read for Identifying<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            if let Some(copy) = self.copy.take() {
                let found = identify_in_memory(copy, &self.policy);
                *self.found.lock().unwrap_or_else(|p| p.into_inner()) = found;
            }
        } else if let Some(copy) = &mut self.copy {
            if copy.len() as u64 + n as u64 > self.limit {
                self.copy = None;
            } else {
                copy.extend_from_slice(buf.get(..n).unwrap_or_default());
            }
        }
        Ok(n)
    }
}

/// What [`store_source`] gives: the receipt, the staged put, for a regular
/// file its metadata after the read, and the media type of what was read
/// if it was identified inline.
type StoredSource = (PutReceipt, Staged, Option<Metadata>, Option<MediaType>);

/// Streams the source into the store, staged for a group commit. A
/// regular file of at most `inline.1` bytes is identified from what was
/// read, with `inline.0`, where that needs nothing else (see
/// [`identify_in_memory`]).
async fn store_source(
    ctx: &StageContext,
    (path, shown): (&Path, &Path),
    before: &Metadata,
    inline: (&IdentifyPolicy, u64),
) -> Result<StoredSource, StageError> {
    let unreadable = |e: std::io::Error| {
        StageError::input(format!("{}: cannot be read ({e}); check the media and rerun", shown.display()))
    };
    let found = Arc::new(Mutex::new(None));
    let (body, file) = if before.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_err(unreadable)?;
        (ContentBody::Stream(Box::new(std::io::Cursor::new(path_bytes(&target).to_vec()))), None)
    } else {
        let file = open_source(path).map_err(unreadable)?;
        let probe = file.try_clone().map_err(unreadable)?;
        let (policy, limit) = inline;
        if limit > 0 && before.len() <= limit {
            // Small: read once, identified from the copy as it passes.
            let counted = Counted { inner: file, progress: ctx.progress.clone() };
            let copy = Some(Vec::with_capacity(usize::try_from(before.len()).unwrap_or(0)));
            let found = found.clone();
            let identifying = Identifying { inner: counted, limit, copy, policy: *policy, found };
            (ContentBody::Stream(Box::new(identifying)), Some(probe))
        } else {
            (source_body(file, ctx.progress.clone()).map_err(unreadable)?, Some(probe))
        }
    };
    let (receipt, staged) = ctx
        .stage_content(body, ctx.hashes)
        .await
        .map_err(|e| StageError { message: format!("{}: {}", shown.display(), e.message), ..e })?;
    Tally::add(&ctx.tally.bytes, receipt.size);
    let after = match file {
        Some(f) => Some(f.metadata().map_err(unreadable)?),
        None => None,
    };
    let after = match (after, std::fs::symlink_metadata(path)) {
        (Some(fd_meta), Ok(path_meta)) if changed(&fd_meta, &path_meta).is_some() => Some(path_meta),
        (after, _) => after,
    };
    let media_type = found.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok((receipt, staged, after, media_type))
}

fn facts_for(
    ctx: &StageContext,
    job: &Job,
    (path, before): (&Path, &Metadata),
    own_times: Option<&Metadata>,
    receipt: &PutReceipt,
) -> AcquiredFacts {
    let bytes = path_bytes(path);
    let name = path.file_name().map_or(bytes, |n| path_bytes(Path::new(n)));
    AcquiredFacts {
        artefact: ArtefactId::derive(&ctx.case, &job.exhibit, bytes, &receipt.digests.sha256),
        source: SourceInfo { path: RecordedPath::from_bytes(bytes), name: RecordedPath::from_bytes(name) },
        size: receipt.size,
        digests: receipt.digests,
        timestamps: own_times.map(timestamps).unwrap_or_default(),
        flags: if before.file_type().is_symlink() { vec![FLAG_SYMLINK.to_owned()] } else { Vec::new() },
        bad_ranges: Vec::new(),
    }
}

async fn record_acquired(
    ctx: &StageContext,
    job: &Job,
    key: &str,
    facts: &AcquiredFacts,
    staged: Staged,
) -> Result<(), StageError> {
    let event = acquired_event(ctx, job, key, facts)?;
    commit(ctx, Commit::new().put(staged).event(event)).await?;
    acquired(ctx, facts);
    Ok(())
}

/// Records the acquisition and the identification of a file identified
/// inline, in one group commit: the content, the manifest, the `acquired`
/// and the `identified` events. The `identified` event names the identify
/// job this replaces, so a later identify job of the artefact finds it
/// done. Returns the jobs that follow identification.
async fn record_acquired_identified(
    ctx: &StageContext,
    job: &Job,
    key: &str,
    facts: &AcquiredFacts,
    staged: Staged,
    mut media_type: MediaType,
) -> Result<Vec<Job>, StageError> {
    let acquired_event = acquired_event(ctx, job, key, facts)?;
    let identify = identify_job(job, facts);
    media_type.extension_mismatch = extension_mismatch(&facts.source.name.display, &media_type);
    let manifest = manifest_for(ctx, job, facts, media_type);
    let (manifest_sha256, manifest_put) = ctx.stage_manifest(&manifest).await?;
    let identified = identified_event(ctx, &identify, facts, &manifest, manifest_sha256);
    let both = Commit::new().put(staged).put(manifest_put).event(acquired_event.clone()).event(identified);
    if let Committed::KeyTaken(_) = ctx.commit(both).await? {
        // An interrupted run stored this manifest, and nothing of this
        // commit was recorded (the content is published, content-addressed):
        // record the acquisition, and let the identify job adopt the manifest.
        commit(ctx, Commit::new().event(acquired_event)).await?;
        acquired(ctx, facts);
        return Ok(vec![identify]);
    }
    acquired(ctx, facts);
    let input = DeriveInput {
        path: facts.source.path.display.clone(),
        artefact: facts.artefact.clone(),
        sha256: facts.digests.sha256,
        size: facts.size,
        mime: manifest.media_type.mime.clone(),
    };
    Ok(derive_job(&identify, &input, &ctx.derive_policies).into_iter().collect())
}

/// Counts a recorded acquisition.
fn acquired(ctx: &StageContext, facts: &AcquiredFacts) {
    Tally::add(&ctx.tally.stored, 1);
    ctx.progress.file_done();
    info!(artefact = %facts.artefact, sha256 = %facts.digests.sha256, "acquired");
}

/// The `acquired` event of `facts`, by `job`.
fn acquired_event(ctx: &StageContext, job: &Job, key: &str, facts: &AcquiredFacts) -> Result<CustodyEvent, StageError> {
    let mut event = ctx.event(Action::Acquired, Some(&job.exhibit), ToolInfo::exhibit(ACQUIRE));
    event.artefact = Some(ArtefactRef {
        id: Some(facts.artefact.clone()),
        sha256: facts.digests.sha256,
        size: facts.size,
        manifest_sha256: None,
    });
    event.set_params(EventParams::Acquired(AcquiredParams {
        job_id: Some(job.job_id.0.clone()),
        source_key: Some(key.into()),
        facts: Some(serde_json::to_value(facts).map_err(|e| StageError::input(e.to_string()))?),
        found_beside: source_input(job)?.found_beside.clone(),
        ..Default::default()
    }));
    Ok(event)
}

/// Commits content puts and their event; a content put cannot find its key
/// taken, so anything but recorded is a fault of the store.
async fn commit(ctx: &StageContext, commit: Commit) -> Result<(), StageError> {
    match ctx.commit(commit).await? {
        Committed::Recorded => Ok(()),
        Committed::KeyTaken(key) => Err(StageError::transient(format!("the store reported {key} taken"))),
    }
}

/// Records content read from a file that changed during the read: the
/// bytes are kept and accounted for, but they are not an artefact.
async fn record_changed(
    ctx: &StageContext,
    job: &Job,
    (path, key): (&Path, &str),
    (receipt, staged): (&PutReceipt, Staged),
    reason: &str,
) -> Result<(), StageError> {
    let reason = format!("{}: {reason}; make sure nothing writes to it and rerun the same command", path.display());
    let mut event = ctx.event(Action::Failed, Some(&job.exhibit), ToolInfo::exhibit(ACQUIRE));
    event.artefact =
        Some(ArtefactRef { id: None, sha256: receipt.digests.sha256, size: receipt.size, manifest_sha256: None });
    event.set_params(EventParams::Failed(FailedParams {
        job_id: Some(job.job_id.0.clone()),
        source_key: Some(key.into()),
        input: Some(json!({"path": path.to_string_lossy(), "path_hex": hex::encode(crate::plan::path_bytes(path))})),
        ..Default::default()
    }));
    event.outcome = Outcome::Failed { reason: reason.clone() };
    commit(ctx, Commit::new().put(staged).event(event)).await?;
    ctx.tally.fail_noted(exhibit_pipeline::RunFailure {
        what: path.to_string_lossy().into_owned(),
        path_bytes: Some(crate::plan::path_bytes(path).to_vec()),
        reason: reason.clone(),
        rerun_may_help: true,
    });
    ctx.progress.file_done();
    ctx.progress.problem(&format!("failed: {reason}"));
    Ok(())
}
