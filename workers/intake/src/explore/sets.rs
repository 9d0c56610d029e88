//! Media made of several stored files: E01 segment sets and cue sheets with
//! their `.bin` files. The other members are found among the exhibit's
//! originals by name, in the same source folder, and read from the store.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_core::view::{BaseDecode, BaseMember, ViewBase};
use exhibit_media::sources::{CueTrack, EwfImage, MAX_CUE_BYTES, cue_binary_files, open_cue_with, segment_path};
use exhibit_media::{Limits, MediaError, MediumClass, ReadAt};
use exhibit_pipeline::{SourceRecord, StageContext, StageError};
use exhibit_queue::Job;

use super::ExploreInput;
use super::listing::TrackSectors;
use super::medium::{Medium, Opened, siblings, stored_object};
use super::view::ViewSource;

fn media_error(what: &str, e: exhibit_media::MediaError) -> StageError {
    StageError::from_kind(e.core_kind(), format!("{what}: {e}"))
}

/// The exhibit's originals, with their source paths.
fn originals(ctx: &StageContext, job: &Job) -> Vec<(PathBuf, SourceRecord)> {
    ctx.index().originals(&job.exhibit).iter().map(|(p, r)| (crate::plan::path_from_bytes(p), r.clone())).collect()
}

/// Opens an E01 set whose first segment is `input`. A later segment
/// (`.E02`...) is read with its first and yields nothing on its own.
pub fn open_ewf_set(
    ctx: &StageContext,
    job: &Job,
    input: &ExploreInput,
    limits: &Limits,
) -> Result<Option<Opened>, StageError> {
    let all = originals(ctx, job);
    let Some((first, _)) = all.iter().find(|(_, r)| r.artefact == input.artefact) else {
        return Err(StageError::input(format!(
            "{}: an E01 segment that is not an original of this exhibit",
            input.path
        )));
    };
    if !is_first_segment(first) {
        return Ok(None);
    }
    let mut segments: Vec<(String, Arc<dyn ReadAt>)> = Vec::new();
    let mut members = Vec::new();
    // Every segment of the set that is here, also past a missing one: the
    // reader places later segments from the end of the media.
    let by_path: std::collections::HashMap<&Path, &SourceRecord> = all.iter().map(|(p, r)| (p.as_path(), r)).collect();
    for number in 1..=u16::MAX {
        let Some(expected) = segment_path(first, number) else { break };
        let Some(record) = by_path.get(expected.as_path()) else { continue };
        segments.push((expected.display().to_string(), stored_object(ctx, &record.sha256)?));
        members.push(BaseMember { artefact: record.artefact.clone(), sha256: record.sha256, size: record.size });
    }
    let image = Arc::new(EwfImage::from_segments(segments, limits).map_err(|e| media_error(&input.path, e))?);
    // Files on the media are views over the set: the runs are media
    // offsets, read back through the same verified chunk reads.
    let decode = BaseDecode::Ewf { segments: members.split_off(1.min(members.len())), media_size: image.size() };
    let base = ViewBase { decode: Some(decode), ..ViewBase::stored(input.artefact.clone(), input.sha256, input.size) };
    let view = Some(ViewSource::new(base, image.clone()).with_missing(image.missing_ranges()));
    let media = vec![Medium { label: "media".into(), disk: image.clone(), view, sectors: None }];
    Ok(Some(Opened { class: MediumClass::Ewf, media, ewf: Some(image), cue: None }))
}

/// A data track as a view base: the stored `.bin` it is in, decoded to
/// its sectors' user data. `None` if the `.bin` is not among the links
/// (then the track's files are copied).
fn track_view_source(
    track: &CueTrack,
    user_offset: u64,
    links: &[(PathBuf, SourceRecord)],
    disk: Arc<dyn ReadAt>,
) -> Option<ViewSource> {
    let (_, bin) = links.iter().find(|(link, _)| *link == track.file)?;
    let decode = BaseDecode::CdSectors {
        start: track.file_offset,
        sector_size: track.mode.sector_size(),
        user_offset,
        sectors: track.length,
    };
    let base = ViewBase { decode: Some(decode), ..ViewBase::stored(bin.artefact.clone(), bin.sha256, bin.size) };
    Some(ViewSource::new(base, disk))
}

fn is_first_segment(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("e01"))
}

/// Opens a cue sheet and the `.bin` files it names, each read through the
/// store.
pub fn open_cue_set(
    ctx: &StageContext,
    job: &Job,
    input: &ExploreInput,
    limits: &Limits,
) -> Result<Option<Opened>, StageError> {
    let (path, record) =
        originals(ctx, job).into_iter().find(|(_, r)| r.artefact == input.artefact).ok_or_else(|| {
            StageError::input(format!("{}: a cue sheet that is not an original of this exhibit", input.path))
        })?;
    let text = cue_text(ctx, &record, limits)?;
    let members = siblings(ctx, job, &record);
    let folder = path.parent().map(Path::to_owned).unwrap_or_default();
    // Each `.bin` as the sheet names it, with its original: track views
    // are based on the stored `.bin` they read.
    let mut links: Vec<(PathBuf, SourceRecord)> = Vec::new();
    let cue = open_cue_with(&text, |name| {
        let name = OsStr::from_bytes(name);
        let shown = folder.join(name);
        let Some((_, member)) = members.iter().find(|(n, _)| n.as_os_str() == name) else {
            return Err(MediaError::io(
                format!("cue FILE {}", shown.display()),
                std::io::Error::new(std::io::ErrorKind::NotFound, "not among the exhibit's originals beside the sheet"),
            ));
        };
        let at = stored_object(ctx, &member.sha256).map_err(|e| {
            MediaError::io(format!("cue FILE {}", shown.display()), std::io::Error::other(e.to_string()))
        })?;
        links.push((shown.clone(), member.clone()));
        Ok((shown, at))
    })
    .map_err(|e| media_error(&input.path, e))?;
    let mut media = Vec::new();
    for track in cue.tracks() {
        let Some(user_offset) = track.mode.user_data_offset() else { continue };
        let disk = cue.data_track_view(track.number).map_err(|e| media_error(&input.path, e))?;
        let view = track_view_source(track, user_offset, &links, disk.clone());
        let sectors = TrackSectors {
            file: track.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            start: track.file_offset,
            sector_size: track.mode.sector_size(),
            user_offset,
        };
        media.push(Medium { label: format!("track {:02}", track.number), disk, view, sectors: Some(sectors) });
    }
    Ok(Some(Opened { class: MediumClass::CueSheet, media, ewf: None, cue: Some(cue) }))
}

/// Whether `input` is a `.bin` that a cue sheet beside it (among the
/// exhibit's originals) names: it is explored through that sheet, not
/// again on its own (a MODE1/2048 `.bin` is a plain ISO by itself).
pub fn read_through_a_cue(ctx: &StageContext, job: &Job, input: &ExploreInput, limits: &Limits) -> bool {
    if input.depth > 0 {
        return false;
    }
    let all = originals(ctx, job);
    let Some((path, _)) = all.iter().find(|(_, r)| r.artefact == input.artefact) else { return false };
    let (Some(name), folder) = (path.file_name(), path.parent()) else { return false };
    let is_cue = |p: &Path| p.parent() == folder && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cue"));
    all.iter().filter(|(p, _)| is_cue(p)).any(|(_, sheet)| {
        let names = cue_text(ctx, sheet, limits).map(|t| cue_binary_files(&t)).unwrap_or_default();
        names.iter().any(|n| OsStr::from_bytes(n) == name)
    })
}

/// The cue sheet's text, read through the store (at most [`MAX_CUE_BYTES`]).
fn cue_text(ctx: &StageContext, record: &SourceRecord, limits: &Limits) -> Result<Vec<u8>, StageError> {
    let sheet = stored_object(ctx, &record.sha256)?;
    if sheet.size() > MAX_CUE_BYTES {
        return Err(StageError::input(format!("a cue sheet over {MAX_CUE_BYTES} bytes is not read")));
    }
    limits.check_alloc(sheet.size(), "cue sheet").map_err(|e| media_error("cue sheet", e))?;
    let mut text = vec![0u8; usize::try_from(sheet.size()).unwrap_or(0)];
    exhibit_media::read_exact_at(sheet.as_ref(), 0, &mut text)
        .map_err(|e| StageError::transient(format!("cannot read the stored cue sheet: {e}")))?;
    Ok(text)
}
