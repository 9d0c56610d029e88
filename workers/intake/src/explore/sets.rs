//! Media made of several stored files: E01 segment sets and cue sheets with
//! their `.bin` files. The explore job names the set's record by SHA-256;
//! the record (held by an `assembled` event in the ledger) lists every
//! member by artefact ID and hash, and each member is read from the store
//! by that hash. Nothing is looked up among the operator's paths.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::set_record::{SetKind, SetMember, SetRecord, SetRole};
use exhibit_core::view::{BaseDecode, BaseMember, ViewBase};
use exhibit_media::sources::{CueTrack, EwfImage, MAX_CUE_BYTES, open_cue_with};
use exhibit_media::{Limits, MediaError, MediumClass, ReadAt};
use exhibit_pipeline::{StageContext, StageError};

use super::ExploreInput;
use super::listing::TrackSectors;
use super::medium::{Medium, Opened, stored_object};
use super::view::ViewSource;

fn media_error(what: &str, e: exhibit_media::MediaError) -> StageError {
    StageError::from_kind(e.core_kind(), named_once(what, &e.to_string()))
}

/// `text` prefixed with `what`, unless it already begins with it (a
/// segment's own error names its path: "x.E01 has no EWF-E01 signature").
fn named_once(what: &str, text: &str) -> String {
    if !what.is_empty() && text.starts_with(what) { text.to_owned() } else { format!("{what}: {text}") }
}

/// Opens the set whose record has SHA-256 `set`; `input` is its head.
pub fn open_set(
    ctx: &StageContext,
    input: &ExploreInput,
    set: &Sha256Digest,
    limits: &Limits,
) -> Result<Opened, StageError> {
    let record = set_record(ctx, input, set)?;
    match record.head() {
        Some(head) if head.artefact == input.artefact && head.sha256 == input.sha256 => {}
        _ => {
            return Err(StageError::input(format!(
                "{}: the explore job's medium is not the head of set {set}",
                input.path
            )));
        }
    }
    if !record.missing.is_empty() {
        tracing::info!(path = %input.path, missing = ?record.missing, "a set with members that were not acquired");
    }
    match record.kind {
        SetKind::Ewf => open_ewf_set(ctx, input, &record, limits),
        SetKind::CueSheet => open_cue_set(ctx, input, &record, limits),
    }
}

/// The record the ledger holds under `set`: from the index, or, when
/// another worker recorded it, from the ledger caught up. Not there at all:
/// the input is not ready (retried later).
fn set_record(ctx: &StageContext, input: &ExploreInput, set: &Sha256Digest) -> Result<SetRecord, StageError> {
    if let Some(record) = ctx.index().set(set).cloned() {
        return Ok(record);
    }
    tokio::runtime::Handle::current().block_on(ctx.catch_up())?;
    ctx.index().set(set).cloned().ok_or_else(|| {
        StageError::transient(format!("{}: input not ready: no assembled event records set {set} yet", input.path))
    })
}

/// Opens an E01 set from its segments, in set order (each segment's number
/// is read from its own header, so a set without a middle segment is known
/// to lack it; the reader places later segments from the end of the media).
fn open_ewf_set(
    ctx: &StageContext,
    input: &ExploreInput,
    record: &SetRecord,
    limits: &Limits,
) -> Result<Opened, StageError> {
    let mut segments: Vec<(String, Arc<dyn ReadAt>)> = Vec::new();
    for member in record.members.iter().filter(|m| m.role == SetRole::Segment) {
        segments.push((member.path.clone(), stored_object(ctx, &member.sha256)?));
    }
    let image = Arc::new(EwfImage::from_segments(segments, limits).map_err(|e| media_error(&input.path, e))?);
    // Files on the media are views over the set: the runs are media
    // offsets, read back through the same verified chunk reads.
    let members = record.others().iter().map(base_member).collect();
    let decode = BaseDecode::Ewf { segments: members, media_size: image.size() };
    let base = ViewBase { decode: Some(decode), ..ViewBase::stored(input.artefact.clone(), input.sha256, input.size) };
    let view = Some(ViewSource::new(base, image.clone()).with_missing(image.missing_ranges()));
    let media = vec![Medium { label: "media".into(), disk: image.clone(), view, sectors: None }];
    Ok(Opened { class: MediumClass::Ewf, media, ewf: Some(image), cue: None })
}

fn base_member(member: &SetMember) -> BaseMember {
    BaseMember { artefact: member.artefact.clone(), sha256: member.sha256, size: member.size }
}

/// A data track as a view base: the stored `.bin` it is in, decoded to
/// its sectors' user data. `None` if the `.bin` is not a member (then the
/// track's files are copied).
fn track_view_source(
    track: &CueTrack,
    user_offset: u64,
    files: &[(PathBuf, SetMember)],
    disk: Arc<dyn ReadAt>,
) -> Option<ViewSource> {
    let (_, bin) = files.iter().find(|(shown, _)| *shown == track.file)?;
    let decode = BaseDecode::CdSectors {
        start: track.file_offset,
        sector_size: track.mode.sector_size(),
        user_offset,
        sectors: track.length,
    };
    let base = ViewBase { decode: Some(decode), ..ViewBase::stored(bin.artefact.clone(), bin.sha256, bin.size) };
    Some(ViewSource::new(base, disk))
}

/// Opens a cue sheet (the set's head) and the files it names, each the
/// member the record lists under that file name, read through the store.
fn open_cue_set(
    ctx: &StageContext,
    input: &ExploreInput,
    record: &SetRecord,
    limits: &Limits,
) -> Result<Opened, StageError> {
    let text = cue_text(ctx, &input.sha256, limits)?;
    let folder = Path::new(&input.path).parent().map(Path::to_owned).unwrap_or_default();
    let tracks: Vec<&SetMember> = record.members.iter().filter(|m| m.role == SetRole::TrackFile).collect();
    // Each file as the sheet names it, with its member: track views are
    // based on the stored `.bin` they read.
    let mut files: Vec<(PathBuf, SetMember)> = Vec::new();
    let cue = open_cue_with(&text, |name| {
        let shown = folder.join(OsStr::from_bytes(name));
        let Some(member) = tracks.iter().find(|m| m.name_bytes().as_deref() == Some(name)) else {
            return Err(MediaError::io(
                format!("cue FILE {}", shown.display()),
                std::io::Error::new(std::io::ErrorKind::NotFound, "not a member of the cue sheet's set"),
            ));
        };
        let at = stored_object(ctx, &member.sha256).map_err(|e| {
            MediaError::io(format!("cue FILE {}", shown.display()), std::io::Error::other(e.to_string()))
        })?;
        files.push((shown.clone(), (*member).clone()));
        Ok((shown, at))
    })
    .map_err(|e| media_error(&input.path, e))?;
    let mut media = Vec::new();
    for track in cue.tracks() {
        let Some(user_offset) = track.mode.user_data_offset() else { continue };
        let disk = cue.data_track_view(track.number).map_err(|e| media_error(&input.path, e))?;
        let view = track_view_source(track, user_offset, &files, disk.clone());
        let sectors = TrackSectors {
            file: track.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            start: track.file_offset,
            sector_size: track.mode.sector_size(),
            user_offset,
        };
        media.push(Medium { label: format!("track {:02}", track.number), disk, view, sectors: Some(sectors) });
    }
    Ok(Opened { class: MediumClass::CueSheet, media, ewf: None, cue: Some(cue) })
}

/// The cue sheet's text, read through the store (at most [`MAX_CUE_BYTES`]).
fn cue_text(ctx: &StageContext, sha256: &Sha256Digest, limits: &Limits) -> Result<Vec<u8>, StageError> {
    let sheet = stored_object(ctx, sha256)?;
    if sheet.size() > MAX_CUE_BYTES {
        return Err(StageError::input(format!("a cue sheet over {MAX_CUE_BYTES} bytes is not read")));
    }
    limits.check_alloc(sheet.size(), "cue sheet").map_err(|e| media_error("cue sheet", e))?;
    let mut text = vec![0u8; usize::try_from(sheet.size()).unwrap_or(0)];
    exhibit_media::read_exact_at(sheet.as_ref(), 0, &mut text)
        .map_err(|e| StageError::transient(format!("cannot read the stored cue sheet: {e}")))?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_error_that_names_its_path_is_not_prefixed_with_it_again() {
        assert_eq!(
            super::named_once("a/b.E01", "a/b.E01 has no EWF-E01 signature"),
            "a/b.E01 has no EWF-E01 signature"
        );
        assert_eq!(super::named_once("a/b.E01", "segment 2 is missing"), "a/b.E01: segment 2 is missing");
    }
}
