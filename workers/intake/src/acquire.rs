//! The acquire stage: streams one source into the store as an original,
//! hashing while it copies, and records an `acquired` event. A file that
//! changes while it is read is recorded as failed, with the reason.

use std::fs::Metadata;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use exhibit_core::event::{Action, ArtefactRef, Outcome};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{RecordedPath, SourceInfo, ToolInfo};
use exhibit_core::params::{AcquiredParams, EventParams, FailedParams};
use exhibit_pipeline::{Commit, Committed, ProgressSink, Stage, StageContext, StageError, Tally};
use exhibit_queue::input::SourceInput;
use exhibit_queue::{Job, StageInput};
use exhibit_store::{ContentBody, PutReceipt, Staged};
use serde_json::json;
use tracing::{info, instrument};

use crate::ACQUIRE;
use crate::facts::AcquiredFacts;
use crate::identify::identify_job;
use crate::plan::{path_bytes, path_from_bytes};
use crate::source_file::{changed, open_source, source_key, timestamps};

/// Flag on an artefact that records a symbolic link's target path.
pub const FLAG_SYMLINK: &str = "symlink";

/// Acquires files and symlinks into the store.
#[derive(Debug, Default)]
pub struct AcquireStage;

#[async_trait]
impl Stage for AcquireStage {
    fn name(&self) -> &'static str {
        ACQUIRE
    }

    #[instrument(name = "acquire", skip_all, fields(path = job.input.path().unwrap_or("")))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let path = job_path(job)?;
        // What the ledger names: the path read, or what it is recorded as.
        let shown = recorded_path(job)?.unwrap_or_else(|| path.clone());
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
            return Err(StageError::input(format!(
                "{}: is {what}, not a regular file; it was recorded but not read",
                shown.display()
            )));
        }
        let (receipt, staged, after) = store_source(ctx, (&path, &shown), &before).await?;
        if let Some(reason) = after.as_ref().and_then(|after| changed(&before, after)) {
            record_changed(ctx, job, (&shown, &key), (&receipt, staged), &reason).await?;
            return Ok(Vec::new());
        }
        let facts = facts_for(ctx, job, &shown, &before, &receipt);
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

/// Streams the source into the store, staged for a group commit. Returns
/// the receipt, the staged put and, for a regular file, its metadata after
/// the read.
async fn store_source(
    ctx: &StageContext,
    (path, shown): (&Path, &Path),
    before: &Metadata,
) -> Result<(PutReceipt, Staged, Option<Metadata>), StageError> {
    let unreadable = |e: std::io::Error| {
        StageError::input(format!("{}: cannot be read ({e}); check the media and rerun", shown.display()))
    };
    let (body, file) = if before.file_type().is_symlink() {
        let target = std::fs::read_link(path).map_err(unreadable)?;
        (ContentBody::Stream(Box::new(std::io::Cursor::new(path_bytes(&target).to_vec()))), None)
    } else {
        let file = open_source(path).map_err(unreadable)?;
        let probe = file.try_clone().map_err(unreadable)?;
        (source_body(file, ctx.progress.clone()).map_err(unreadable)?, Some(probe))
    };
    let (receipt, staged) = ctx
        .stage_content(body, ctx.hashes)
        .await
        .map_err(|e| StageError { kind: e.kind, message: format!("{}: {}", shown.display(), e.message) })?;
    Tally::add(&ctx.tally.bytes, receipt.size);
    let after = match file {
        Some(f) => Some(f.metadata().map_err(unreadable)?),
        None => None,
    };
    let after = match (after, std::fs::symlink_metadata(path)) {
        (Some(fd_meta), Ok(path_meta)) if changed(&fd_meta, &path_meta).is_some() => Some(path_meta),
        (after, _) => after,
    };
    Ok((receipt, staged, after))
}

fn facts_for(ctx: &StageContext, job: &Job, path: &Path, before: &Metadata, receipt: &PutReceipt) -> AcquiredFacts {
    let bytes = path_bytes(path);
    let name = path.file_name().map_or(bytes, |n| path_bytes(Path::new(n)));
    AcquiredFacts {
        artefact: ArtefactId::derive(&ctx.case, &job.exhibit, bytes, &receipt.digests.sha256),
        source: SourceInfo { path: RecordedPath::from_bytes(bytes), name: RecordedPath::from_bytes(name) },
        size: receipt.size,
        digests: receipt.digests,
        timestamps: timestamps(before),
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
    commit(ctx, Commit::new().put(staged).event(event)).await?;
    Tally::add(&ctx.tally.stored, 1);
    ctx.progress.file_done();
    info!(artefact = %facts.artefact, sha256 = %facts.digests.sha256, "acquired");
    Ok(())
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
        input: Some(json!({"path": path.to_string_lossy()})),
        ..Default::default()
    }));
    event.outcome = Outcome::Failed { reason: reason.clone() };
    commit(ctx, Commit::new().put(staged).event(event)).await?;
    ctx.tally.fail(&path.to_string_lossy(), &reason);
    ctx.progress.file_done();
    ctx.progress.message(&format!("failed: {reason}"));
    Ok(())
}
