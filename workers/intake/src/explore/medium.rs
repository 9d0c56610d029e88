//! Opening a stored artefact as a medium: the object's own bytes for raw
//! disk and optical images; for E01 sets and cue sheets, the members their
//! set record lists, by hash. Every byte is read through the store
//! ([`exhibit_store::open_read_at`]), never from a local file, so every
//! backend explores the same way.

use std::sync::Arc;

use exhibit_core::layout::object_key;
use exhibit_core::view::ViewBase;
use exhibit_media::{Limits, MediumClass, ReadAt, classify};
use exhibit_pipeline::{StageContext, StageError};

use super::ExploreInput;
use super::view::ViewSource;

/// One medium to look for volumes on.
pub struct Medium {
    /// What it is, for messages and the listing (`image`, `track 01`).
    pub label: String,
    /// Its bytes.
    pub disk: Arc<dyn ReadAt>,
    /// The stored artefact `disk` is read from (as stored, or decoded: E01
    /// media, a cue track's user data), so files on it can be kept as views.
    pub view: Option<ViewSource>,
    /// For a cue sheet's data track, where its sectors are in its `.bin`.
    pub sectors: Option<super::listing::TrackSectors>,
}

/// An opened artefact.
pub struct Opened {
    /// What it was classified as.
    pub class: MediumClass,
    /// The media to explore.
    pub media: Vec<Medium>,
    /// The E01 set, to verify against the hashes it stores.
    pub ewf: Option<Arc<exhibit_media::sources::EwfImage>>,
    /// The cue sheet, whose audio tracks become WAV artefacts.
    pub cue: Option<exhibit_media::sources::CueImage>,
}

/// Positional reads of a stored object through the store, on any backend
/// (block cache, read-ahead, SHA-256 checked where all of it is read). Call
/// from a blocking thread inside the runtime.
pub fn stored_object(ctx: &StageContext, sha256: &exhibit_core::Sha256Digest) -> Result<Arc<dyn ReadAt>, StageError> {
    let key = object_key(&ctx.case, sha256);
    tokio::runtime::Handle::current()
        .block_on(exhibit_store::open_read_at(&ctx.store, &key))
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot open stored object {key}: {e}")))
}

/// Opens `input` as a medium, or `None` when it is not one. A set (E01
/// segments, a cue sheet and its files) is opened from its record; an E01
/// segment or cue sheet without one (an `.E02` named alone) is not
/// explored on its own, and one nested in an image cannot be.
pub fn open(ctx: &StageContext, input: &ExploreInput, limits: &Limits) -> Result<Option<Opened>, StageError> {
    if let Some(set) = &input.set {
        return super::sets::open_set(ctx, input, set, limits).map(Some);
    }
    let disk = open_input(ctx, input)?;
    let Some(class) = classify(disk.as_ref()) else { return Ok(None) };
    match class {
        MediumClass::OpticalImage | MediumClass::DiskImage => {
            let base = ViewBase::stored(input.artefact.clone(), input.sha256, disk.size());
            let view = Some(ViewSource::new(base, disk.clone()));
            let media = vec![Medium { label: "image".into(), disk, view, sectors: None }];
            Ok(Some(Opened { class, media, ewf: None, cue: None }))
        }
        MediumClass::Ewf | MediumClass::CueSheet if input.depth == 0 => {
            tracing::info!(path = %input.path, "a set member without a set record: not explored on its own");
            Ok(None)
        }
        MediumClass::Ewf | MediumClass::CueSheet => Err(StageError::input(format!(
            "{}: {} that is not an original of this exhibit",
            input.path,
            if class == MediumClass::Ewf { "an E01 segment" } else { "a cue sheet" }
        ))),
    }
}

/// The bytes of the artefact to explore: its stored object, or, for a file
/// kept as a view (an image inside an image), the view, re-hashed in full
/// against the recorded SHA-256 before any of it is parsed.
fn open_input(ctx: &StageContext, input: &ExploreInput) -> Result<Arc<dyn ReadAt>, StageError> {
    let key = object_key(&ctx.case, &input.sha256);
    let handle = tokio::runtime::Handle::current();
    let store_error = |what: &str, e: exhibit_store::StoreError| {
        StageError::from_kind(e.kind().into(), format!("cannot open {what} {}: {e}", input.path))
    };
    match handle.block_on(exhibit_store::open_read_at(&ctx.store, &key)) {
        Ok(at) => return Ok(at),
        Err(e) if e.kind() != exhibit_store::StoreErrorKind::NotFound => return Err(store_error("stored object", e)),
        Err(_) => {}
    }
    let manifest = handle
        .block_on(exhibit_store::view::read_manifest(ctx.store.as_ref(), &ctx.case, &input.artefact))
        .map_err(|e| store_error("the manifest of", e))?;
    if manifest.view.is_none() || manifest.digests.sha256 != input.sha256 {
        return Err(StageError::transient(format!("{}: its content {key} is not in the store", input.path)));
    }
    let mut check = handle
        .block_on(exhibit_store::view::open_content(&ctx.store, &ctx.case, &manifest, input.sha256))
        .map_err(|e| store_error("the view", e))?;
    std::io::copy(&mut check, &mut std::io::sink())
        .map_err(|e| StageError::input(format!("{}: the view failed its hash check: {e}", input.path)))?;
    handle
        .block_on(exhibit_store::view::open_content_at(&ctx.store, &ctx.case, &manifest))
        .map_err(|e| store_error("the view", e))
}
