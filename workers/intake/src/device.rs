//! Acquiring a block device (`/dev/sr0`, `/dev/sdb`): read-only, retrying
//! failed reads down to single sectors, zero-filling what stays unreadable,
//! and recording a ddrescue mapfile and an acquisition record beside the
//! image. The image streams into the store while it is read.

use std::io::{Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use exhibit_core::event::{Action, ArtefactRef, InputRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::layout::objects_prefix;
use exhibit_core::manifest::{MediaType, ParentRef, RecordedPath, SourceInfo, ToolInfo};
use exhibit_core::params::{AcquiredParams, EventParams, MapfileRef};
use exhibit_media::sources::{AcquisitionRecord, BlockDevice, RetryPolicy, acquire};
use exhibit_pipeline::{StageContext, StageError, Tally, derivative_manifest};
use exhibit_queue::Job;
use exhibit_store::PutReceipt;

use crate::ACQUIRE;
use crate::facts::AcquiredFacts;
use crate::identify::identify_job;
use exhibit_pipeline::store_manifest;

/// Flag on an image acquired from a device.
pub const FLAG_DEVICE: &str = "device";

/// The writing half of an in-memory pipe: chunks go to the reader.
struct PipeWriter(SyncSender<Vec<u8>>);

impl Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the store stopped reading"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The reading half: ends when the writer is dropped.
struct PipeReader {
    rx: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => (self.chunk, self.pos) = (chunk, 0),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Acquires `device` as the original found at `path`, and returns the job
/// that identifies it (and so explores it).
pub async fn acquire_device(
    ctx: &StageContext,
    job: &Job,
    path: &[u8],
    mut device: Box<dyn BlockDevice>,
    policy: RetryPolicy,
) -> Result<Vec<Job>, StageError> {
    let (tx, rx) = sync_channel::<Vec<u8>>(4);
    let progress = ctx.progress.clone();
    let reader = std::thread::spawn(move || {
        let mut out = PipeWriter(tx);
        acquire(device.as_mut(), &mut out, policy, &mut |n| progress.bytes_read(n))
    });
    let body = PipeReader { rx, chunk: Vec::new(), pos: 0 };
    let stored = ctx.store.put_content(&objects_prefix(&ctx.case), Box::new(body), ctx.hashes).await;
    let record = reader
        .join()
        .map_err(|_| StageError::input("the device reader stopped unexpectedly"))?
        .map_err(|e| StageError::input(format!("{}: {e}", String::from_utf8_lossy(path))))?;
    let receipt = stored
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("the device image could not be stored: {e}")))?;
    if receipt.size != record.size {
        return Err(StageError::input(format!(
            "{}: read {} of {} bytes",
            String::from_utf8_lossy(path),
            receipt.size,
            record.size
        )));
    }
    Tally::add(&ctx.tally.bytes, receipt.size);
    let facts = device_facts(ctx, job, path, &receipt, &record);
    let mapfile = store_mapfile(ctx, job, &facts, &record).await?;
    let mut event = ctx.event(Action::Acquired, Some(&job.exhibit), ToolInfo::exhibit(ACQUIRE));
    event.artefact = Some(ArtefactRef {
        id: Some(facts.artefact.clone()),
        sha256: facts.digests.sha256,
        size: facts.size,
        manifest_sha256: None,
    });
    event.set_params(EventParams::Acquired(AcquiredParams {
        job_id: Some(job.job_id.0.clone()),
        source_key: Some(device_key(path, record.size, record.identity.serial.as_deref())),
        facts: Some(serde_json::to_value(&facts).unwrap_or_default()),
        acquisition: Some(serde_json::to_value(&record).unwrap_or_default()),
        mapfile: Some(MapfileRef { artefact: mapfile.0.to_string(), sha256: mapfile.1 }),
        found_beside: None,
    }));
    ctx.record(event).await?;
    Tally::add(&ctx.tally.stored, 1);
    ctx.progress.file_done();
    Ok(vec![identify_job(job, &facts)])
}

/// Identity of a device acquisition: path, size and serial.
pub fn device_key(path: &[u8], size: u64, serial: Option<&str>) -> String {
    format!("dev:{}:{size}:{}", hex::encode(path), serial.unwrap_or(""))
}

fn device_facts(
    ctx: &StageContext,
    job: &Job,
    path: &[u8],
    receipt: &PutReceipt,
    record: &AcquisitionRecord,
) -> AcquiredFacts {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let mut flags = vec![FLAG_DEVICE.to_owned()];
    if !record.bad_ranges.is_empty() {
        flags.push(crate::explore::FLAG_BAD_SECTORS.to_owned());
    }
    AcquiredFacts {
        artefact: ArtefactId::derive(&ctx.case, &job.exhibit, path, &receipt.digests.sha256),
        source: SourceInfo { path: RecordedPath::from_bytes(path), name: RecordedPath::from_bytes(name) },
        size: receipt.size,
        digests: receipt.digests,
        timestamps: Default::default(),
        flags,
        bad_ranges: record.bad_ranges.iter().map(|&(o, l)| [o, l]).collect(),
    }
}

/// Stores the ddrescue mapfile as a derivative of the image.
async fn store_mapfile(
    ctx: &StageContext,
    job: &Job,
    image: &AcquiredFacts,
    record: &AcquisitionRecord,
) -> Result<(ArtefactId, String), StageError> {
    let text = record.ddrescue_mapfile().into_bytes();
    let receipt = ctx
        .store
        .put_content(&objects_prefix(&ctx.case), Box::new(std::io::Cursor::new(text)), ctx.hashes)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot store the mapfile: {e}")))?;
    let locator = format!("mapfile:{}", image.artefact);
    let id = ArtefactId::derive(&ctx.case, &job.exhibit, locator.as_bytes(), &receipt.digests.sha256);
    let media_type = MediaType {
        mime: "text/x-ddrescue-mapfile".into(),
        extension: Some("map".into()),
        detected_by: "exhibit".into(),
        ..Default::default()
    };
    let parent = ParentRef { id: image.artefact.clone(), sha256: image.digests.sha256, offset: None };
    let mut manifest =
        derivative_manifest(ctx, &job.exhibit, id.clone(), &receipt, media_type, parent, ToolInfo::exhibit(ACQUIRE));
    manifest.flags = vec!["mapfile".into()];
    let manifest_sha256 = store_manifest(ctx, &manifest).await?;
    let mut event = ctx.event(Action::Stored, Some(&job.exhibit), ToolInfo::exhibit(ACQUIRE));
    event.artefact = Some(ArtefactRef {
        id: Some(id.clone()),
        sha256: receipt.digests.sha256,
        size: receipt.size,
        manifest_sha256: Some(manifest_sha256),
    });
    event.inputs = vec![InputRef { id: image.artefact.clone(), sha256: image.digests.sha256 }];
    ctx.record(event).await?;
    Ok((id, receipt.digests.sha256.to_hex()))
}
