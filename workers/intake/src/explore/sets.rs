//! Media made of several stored files: E01 segment sets and cue sheets with
//! their `.bin` files. The other members are found among the exhibit's
//! originals by name, in the same source folder, and read from the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_core::view::{BaseDecode, BaseMember, ViewBase};
use exhibit_media::sources::{CueTrack, EwfImage, open_cue, segment_path};
use exhibit_media::{FileAt, Limits, MediumClass, ReadAt};
use exhibit_pipeline::{SourceRecord, StageContext, StageError};
use exhibit_queue::Job;

use super::ExploreInput;
use super::medium::{Medium, Opened, link_siblings, object_file};
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
    for number in 1..=u16::MAX {
        let Some(expected) = segment_path(first, number) else { break };
        let Some((path, record)) = all.iter().find(|(p, _)| *p == expected) else { break };
        let file = FileAt::open(&object_file(ctx, &record.sha256)?)
            .map_err(|e| StageError::transient(format!("cannot open stored segment {}: {e}", path.display())))?;
        segments.push((path.display().to_string(), Arc::new(file)));
        members.push(BaseMember { artefact: record.artefact.clone(), sha256: record.sha256, size: record.size });
    }
    let image = Arc::new(EwfImage::from_segments(segments, limits).map_err(|e| media_error(&input.path, e))?);
    // Files on the media are views over the set: the runs are media
    // offsets, read back through the same verified chunk reads.
    let decode = BaseDecode::Ewf { segments: members.split_off(1.min(members.len())), media_size: image.size() };
    let base = ViewBase { decode: Some(decode), ..ViewBase::stored(input.artefact.clone(), input.sha256, input.size) };
    let view = Some(ViewSource { base, disk: image.clone() });
    let media = vec![Medium { label: "media".into(), disk: image.clone(), view }];
    Ok(Some(Opened { class: MediumClass::Ewf, media, ewf: Some(image), cue: None, _members: None }))
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
    Some(ViewSource { base, disk })
}

fn is_first_segment(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("e01"))
}

/// Opens a cue sheet and the `.bin` files it names.
pub fn open_cue_set(
    ctx: &StageContext,
    job: &Job,
    input: &ExploreInput,
    limits: &Limits,
) -> Result<Option<Opened>, StageError> {
    let record =
        originals(ctx, job).into_iter().find(|(_, r)| r.artefact == input.artefact).map(|(_, r)| r).ok_or_else(
            || StageError::input(format!("{}: a cue sheet that is not an original of this exhibit", input.path)),
        )?;
    let (members, cue_path, links) = link_siblings(ctx, job, &record)?;
    let cue = open_cue(&cue_path, limits).map_err(|e| media_error(&input.path, e))?;
    let mut media = Vec::new();
    for track in cue.tracks() {
        let Some(user_offset) = track.mode.user_data_offset() else { continue };
        let disk = cue.data_track_view(track.number).map_err(|e| media_error(&input.path, e))?;
        let view = track_view_source(track, user_offset, &links, disk.clone());
        media.push(Medium { label: format!("track {:02}", track.number), disk, view });
    }
    Ok(Some(Opened { class: MediumClass::CueSheet, media, ewf: None, cue: Some(cue), _members: Some(members) }))
}
