//! Storing one file-system entry's content as an extracted artefact.

use std::io::Read;
use std::sync::{Arc, Mutex};

use exhibit_core::digest::Digests;
use exhibit_core::event::{Action, ArtefactRef, InputRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{
    ArtefactKind, ArtefactManifest, InsideInfo, MANIFEST_FORMAT, MediaType, ParentRef, RecoveryInfo, ToolInfo,
    VolumeRef,
};
use exhibit_core::params::{EventParams, ExtractedParams};
use exhibit_media::{BytesAt, ContentMap, DataLayout, FsEntry, classify, open_content};
use exhibit_pipeline::{ArtefactBatch, StageContext, StageError, Tally};
use exhibit_queue::Job;
use serde_json::json;

use super::ExploreInput;
use super::policy::{ExplorePolicy, StoreMode};
use super::view::{self, ViewSource};
use crate::EXPLORE;
use crate::identify::detect_media_type;

/// Bytes kept from the start of each file, to identify it.
const HEAD_BYTES: usize = 64 * 1024;

/// Flags on extracted artefacts.
pub const FLAG_DELETED: &str = "deleted";
/// Only part of a deleted file could be recovered.
pub const FLAG_PARTIAL: &str = "partially-recovered";
/// Some of the file lies over unreadable sectors, zero-filled.
pub const FLAG_BAD_SECTORS: &str = "bad-sectors";

/// What extraction made of one entry.
#[derive(Debug, Clone)]
pub struct Extracted {
    /// The new (or already recorded) artefact.
    pub id: ArtefactId,
    /// Its digests.
    pub digests: Digests,
    /// Bytes stored.
    pub size: u64,
    /// Its media type.
    pub mime: String,
    /// Whether it is itself a medium to explore.
    pub is_medium: bool,
}

/// Copies the first bytes that pass through, for identification.
struct HeadTap<R> {
    inner: R,
    head: Arc<Mutex<Vec<u8>>>,
}

impl<R: Read> Read for HeadTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        let room = HEAD_BYTES.saturating_sub(head.len()).min(n);
        head.extend_from_slice(&buf[..room]);
        Ok(n)
    }
}

/// The identity of an entry within its image, stable across runs.
pub fn source_key(image: &ArtefactId, volume: u32, entry: &FsEntry) -> String {
    let stream = entry.stream.as_deref().map(hex::encode).unwrap_or_default();
    format!("x:{image}:{volume}:{}:{stream}", hex::encode(entry.path.to_bytes()))
}

/// The bytes of `entry` that can be read: all of an allocated file, the
/// recoverable part of a deleted one.
pub fn readable_bytes(entry: &FsEntry) -> u64 {
    match (entry.allocated, entry.recovery) {
        (true, _) => entry.size,
        (false, Some(r)) => r.recoverable_bytes.min(entry.size),
        (false, None) => 0,
    }
}

/// Everything about where the entry sits, for its manifest.
pub struct Place<'a> {
    pub input: &'a ExploreInput,
    pub volume: VolumeRef,
    pub zero_filled: Vec<[u64; 2]>,
    /// Sparse runs and runs past the end of a truncated medium.
    pub map: ContentMap,
    /// How the files found are identified.
    pub identify: crate::IdentifyPolicy,
}

/// Keeps the first error the entry's source gave, so a failed put can tell
/// damaged evidence apart from a failing store.
struct SourceTap<R> {
    inner: R,
    error: Arc<Mutex<Option<std::io::Error>>>,
}

impl<R: Read> Read for SourceTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}

/// Why a put failed: the evidence's own damage (a record whose data runs
/// off the image or does not hold together) is the input's fault and is
/// never retried; anything else is the store's.
fn put_failed(entry: &FsEntry, source: Option<std::io::Error>, store: StageError) -> StageError {
    let path = entry.path.recorded().display;
    match source {
        Some(e) if matches!(e.kind(), std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData) => {
            StageError::input(format!("{path}: a damaged record; its data cannot be read from the image: {e}"))
        }
        _ => StageError { message: format!("{path}: {}", store.message), ..store },
    }
}

/// Records the entry's content: as a view into the image when `source` is
/// given, its content is plain runs on it and `policy` wants a view for its
/// media type; else streamed from its volume into the store as a copy.
#[allow(clippy::too_many_arguments)]
pub fn extract(
    ctx: &StageContext,
    batch: &mut ArtefactBatch<'_>,
    job: &Job,
    place: &Place<'_>,
    key: &str,
    vol: Arc<dyn exhibit_media::ReadAt>,
    entry: &FsEntry,
    source: Option<(&ViewSource, &ExplorePolicy)>,
) -> Result<Extracted, StageError> {
    let want = readable_bytes(entry);
    if let Some((source, policy)) = source {
        // A compressed file's runs are its stored stream, not `want` bytes.
        let stored = view::stored_len(entry).unwrap_or(want);
        let runs = view::runs_of(entry, stored, place.volume.offset, vol.size());
        if let Some(runs) = runs.map(|r| view::split_missing(r, &source.missing)) {
            if let Some(done) = extract_view(ctx, batch, job, place, key, entry, source, runs, want, policy)? {
                return Ok(done);
            }
        }
    }
    let content = open_content(vol, entry);
    let content = if place.map.missing.is_empty() { content } else { content.filling_missing() };
    extract_stream(ctx, batch, job, place, key, entry, Box::new(content.take(want)), want)
}

/// Records `entry` as a view of `want` bytes on `source`, or `None` when
/// the policy wants a copy of its media type.
#[allow(clippy::too_many_arguments)]
fn extract_view(
    ctx: &StageContext,
    batch: &mut ArtefactBatch<'_>,
    job: &Job,
    place: &Place<'_>,
    key: &str,
    entry: &FsEntry,
    source: &ViewSource,
    runs: Vec<exhibit_core::view::ViewRun>,
    want: u64,
    policy: &ExplorePolicy,
) -> Result<Option<Extracted>, StageError> {
    let view = view::view_info(source, runs, entry.transform);
    let (head, digests) = view::read_view(source, &view, want, HEAD_BYTES, ctx.hashes).map_err(|e| {
        // Damage to the image is the record's; any other read error may
        // pass, so it is retried.
        let retry = StageError::transient(format!("cannot read the stored image: {e}"));
        put_failed(entry, Some(e), retry)
    })?;
    let (media_type, is_medium) = identify(&head, want, &place.identify);
    if policy.mode_for(&media_type.mime) == StoreMode::Copy {
        return Ok(None);
    }
    Tally::add(&ctx.tally.bytes, want);
    let found = Found { digests, size: want, media_type, is_medium, view: Some(view) };
    record(ctx, batch, job, place, key, entry, found).map(Some)
}

/// What reading an entry's content found.
struct Found {
    digests: Digests,
    size: u64,
    media_type: MediaType,
    is_medium: bool,
    view: Option<exhibit_core::view::ViewInfo>,
}

/// The media type of content that starts with `head`, and whether it is a
/// medium to explore.
fn identify(head: &[u8], size: u64, policy: &crate::IdentifyPolicy) -> (MediaType, bool) {
    match classify(&BytesAt::new(head.to_vec())) {
        Some(class) => (
            MediaType {
                mime: class.mime().into(),
                extension: Some(class.extension().into()),
                detected_by: "exhibit-media".into(),
                ..Default::default()
            },
            true,
        ),
        None => (detect_media_type(head, size, policy), false),
    }
}

/// Stages `want` bytes of `body` as the content of `entry`, with its
/// manifest and event, in `batch`; they are recorded when it commits.
#[allow(clippy::too_many_arguments)]
pub fn extract_stream(
    ctx: &StageContext,
    batch: &mut ArtefactBatch<'_>,
    job: &Job,
    place: &Place<'_>,
    key: &str,
    entry: &FsEntry,
    body: Box<dyn Read + Send>,
    want: u64,
) -> Result<Extracted, StageError> {
    let handle = tokio::runtime::Handle::current();
    let head = Arc::new(Mutex::new(Vec::with_capacity(HEAD_BYTES.min(want as usize))));
    let source_error = Arc::new(Mutex::new(None));
    let body = SourceTap { inner: HeadTap { inner: body, head: head.clone() }, error: source_error.clone() };
    let receipt = handle
        .block_on(batch.put_content(Box::new(body), ctx.hashes))
        .map_err(|e| put_failed(entry, source_error.lock().unwrap_or_else(|p| p.into_inner()).take(), e))?;
    if receipt.size != want {
        return Err(StageError::input(format!(
            "{}: read {} of {want} bytes",
            entry.path.recorded().display,
            receipt.size
        )));
    }
    Tally::add(&ctx.tally.bytes, receipt.size);
    let head = head.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (media_type, is_medium) = identify(&head, receipt.size, &place.identify);
    let found = Found { digests: receipt.digests, size: receipt.size, media_type, is_medium, view: None };
    record(ctx, batch, job, place, key, entry, found)
}

/// Stages the manifest and event of an entry whose content was read.
fn record(
    ctx: &StageContext,
    batch: &mut ArtefactBatch<'_>,
    job: &Job,
    place: &Place<'_>,
    key: &str,
    entry: &FsEntry,
    found: Found,
) -> Result<Extracted, StageError> {
    let Found { digests, size, media_type, is_medium, view } = found;
    let id = ArtefactId::derive(&ctx.case, &job.exhibit, key.as_bytes(), &digests.sha256);
    let mut manifest = manifest(ctx, job, place, entry, &id, digests, size, media_type.clone());
    manifest.view = view;
    let mut event = ctx.event(Action::Extracted, Some(&job.exhibit), ToolInfo::exhibit(EXPLORE));
    event.artefact = Some(ArtefactRef { id: Some(id.clone()), sha256: digests.sha256, size, manifest_sha256: None });
    event.inputs = vec![InputRef { id: place.input.artefact.clone(), sha256: place.input.sha256 }];
    event.set_params(EventParams::Extracted(ExtractedParams {
        source_key: Some(key.into()),
        facts: Some(json!({"digests": digests, "media_type": media_type.mime})),
    }));
    tokio::runtime::Handle::current().block_on(batch.add(entry.path.recorded().display, manifest, event))?;
    Ok(Extracted { id, digests, size, mime: media_type.mime, is_medium })
}

fn flags(entry: &FsEntry, zero_filled: &[[u64; 2]], map: &ContentMap) -> Vec<String> {
    let mut flags = Vec::new();
    if !entry.allocated {
        flags.push(FLAG_DELETED.to_owned());
        if entry.recovery.is_some_and(|r| !r.complete) {
            flags.push(FLAG_PARTIAL.to_owned());
        }
    }
    if !zero_filled.is_empty() {
        flags.push(FLAG_BAD_SECTORS.to_owned());
    }
    if !map.sparse.is_empty() {
        flags.push(super::evidence::FLAG_SPARSE.to_owned());
    }
    if !map.missing.is_empty() {
        flags.push(super::evidence::FLAG_TRUNCATED.to_owned());
    }
    flags
}

#[allow(clippy::too_many_arguments)]
fn manifest(
    ctx: &StageContext,
    job: &Job,
    place: &Place<'_>,
    entry: &FsEntry,
    id: &ArtefactId,
    digests: Digests,
    size: u64,
    media_type: MediaType,
) -> ArtefactManifest {
    let first_offset = match &entry.data {
        DataLayout::Extents(extents) => extents.iter().find_map(|e| e.volume_offset).map(|o| place.volume.offset + o),
        _ => None,
    };
    ArtefactManifest {
        format: MANIFEST_FORMAT.to_owned(),
        id: id.clone(),
        case: ctx.case.clone(),
        exhibit: job.exhibit.clone(),
        kind: ArtefactKind::Extracted,
        source: None,
        size,
        digests,
        media_type,
        timestamps: entry.timestamps.clone(),
        parent: Some(ParentRef { id: place.input.artefact.clone(), sha256: place.input.sha256, offset: first_offset }),
        inside: Some(InsideInfo {
            volume: place.volume.clone(),
            path: entry.path.recorded(),
            stream: entry.stream.as_deref().map(exhibit_core::manifest::RecordedPath::from_bytes),
            address: entry.address,
            allocated: entry.allocated,
            recovery: entry
                .recovery
                .filter(|_| !entry.allocated)
                .map(|r| RecoveryInfo { recovered_bytes: size, complete: r.complete }),
            attributes: entry.attributes.clone(),
            zero_filled: place.zero_filled.clone(),
            sparse: place.map.sparse.clone(),
            missing: place.map.missing.clone(),
        }),
        view: None,
        derivation: None,
        operator: ctx.actor.operator.clone(),
        tool: ToolInfo::exhibit(EXPLORE),
        flags: flags(entry, &place.zero_filled, &place.map),
    }
}
