//! Walking every volume of a medium: listing each entry, extracting each
//! file, enforcing limits, and recording what happened.

use std::sync::Arc;

use exhibit_core::event::{Action, ArtefactRef, InputRef, Outcome};
use exhibit_core::ids::ArtefactId;
use exhibit_core::layout::objects_prefix;
use exhibit_core::manifest::{ArtefactManifest, MediaType, ParentRef, ToolInfo, VolumeRef};
use exhibit_core::params::{EventParams, ExploredParams, FailedParams, VerifiedParams};
use exhibit_media::sources::{CueImage, EwfImage, TrackMode};
use exhibit_media::{
    ContentMap, DataLayout, EntryKind, FsEntry, Limits, MediaError, NamePath, OpenedVolume, VolumeFailure, open_volumes,
};
use exhibit_pipeline::{ArtefactBatch, FAULT_DAMAGED, FAULT_LIMIT, FAULT_UNCONVERTED, StageContext, StageError};
use exhibit_queue::Job;
use serde_json::json;
use tokio::runtime::Handle;
use tracing::{info, info_span};

use super::evidence::{Budget, Truncation, map_content, volume_truncation};
use super::extract::{Extracted, Place, extract, extract_stream, source_key};
use super::listing::{EntryRow, LISTING_MIME, ListingLine, ListingWriter, VolumeRow};
use super::medium::{self, Opened};
use super::policy::ExplorePolicy;
use super::view::ViewSource;
use super::{ExploreInput, explore_job, zero_filled_ranges};
use crate::EXPLORE;
use crate::IdentifyPolicy;
use exhibit_pipeline::derivative_manifest;
use exhibit_pipeline::derive::{DeriveInput, derive_job};
use exhibit_pipeline::store_manifest;

/// Size of the RIFF/WAVE header before CDDA samples.
const WAV_HEADER_BYTES: u64 = 44;

/// Counts for the `explored` event and the limits.
#[derive(Debug, Default)]
struct Counts {
    entries: u64,
    files: u64,
    deleted: u64,
    failed: u64,
    bytes: u64,
}

struct Walker<'a> {
    ctx: &'a StageContext,
    /// Extracted files waiting for their group commit.
    batch: ArtefactBatch<'a>,
    job: &'a Job,
    input: &'a ExploreInput,
    limits: &'a Limits,
    listing: ListingWriter,
    counts: Counts,
    budget: Budget,
    /// What the image is missing: truncated media and the files they cut.
    truncation: Truncation,
    follow_ups: Vec<Job>,
    /// Views or copies.
    policy: &'a ExplorePolicy,
    /// How files found are identified.
    identify: IdentifyPolicy,
    /// The image the medium being walked is, when files on it can be views.
    view: Option<ViewSource>,
    /// Where the medium being walked lies in its `.bin` (a cue data track).
    sectors: Option<super::listing::TrackSectors>,
}

fn io(e: std::io::Error) -> StageError {
    StageError::transient(format!("cannot write the listing: {e}"))
}

/// Explores one artefact; returns the jobs that follow (nested media).
pub async fn explore(
    ctx: &StageContext,
    job: &Job,
    input: &ExploreInput,
    limits: &Limits,
    (policy, identify): (&ExplorePolicy, IdentifyPolicy),
) -> Result<Vec<Job>, StageError> {
    tokio::task::block_in_place(|| {
        let Some(opened) = medium::open(ctx, input, limits)? else { return Ok(Vec::new()) };
        let declared: Vec<u64> =
            opened.media.iter().map(|m| m.disk.size()).chain(opened.ewf.as_ref().map(|e| e.declared_size())).collect();
        let mut walker = Walker {
            ctx,
            batch: ArtefactBatch::new(ctx),
            job,
            input,
            limits,
            listing: ListingWriter::new().map_err(io)?,
            counts: Counts::default(),
            budget: Budget::new(limits, input.size, &declared),
            truncation: Truncation::default(),
            follow_ups: Vec::new(),
            policy,
            identify,
            view: None,
            sectors: None,
        };
        let mut volumes = Vec::new();
        for m in &opened.media {
            walker.view = m.view.clone();
            walker.sectors = m.sectors.clone();
            for volume in open_volumes(m.disk.clone(), limits) {
                let index = u32::try_from(volumes.len()).unwrap_or(u32::MAX);
                volumes.push(walker.volume(&m.label, index, volume)?);
            }
        }
        if let Some(cue) = &opened.cue {
            walker.truncation.media.extend(cue.truncation());
            walker.audio_tracks(cue)?;
        }
        if let Some(ewf) = &opened.ewf {
            walker.verify_ewf(ewf)?;
        }
        walker.finish(&opened, volumes)
    })
}

impl Walker<'_> {
    fn volume(
        &mut self,
        medium: &str,
        index: u32,
        volume: Result<OpenedVolume, Box<VolumeFailure>>,
    ) -> Result<VolumeRow, StageError> {
        let OpenedVolume { place, fs } = match volume {
            Ok(v) => v,
            Err(f) => {
                let mut row = volume_row(medium, index, &f.place, None, Some(f.error.to_string()));
                row.sectors = self.sectors.clone().map(Box::new);
                self.listing.write(&ListingLine::Volume(row.clone())).map_err(io)?;
                return Ok(row);
            }
        };
        let _span = info_span!("volume", index, fs = fs.kind(), offset = place.offset).entered();
        let mut row = volume_row(medium, index, &place, Some(fs.as_ref()), None);
        row.sectors = self.sectors.clone().map(Box::new);
        self.listing.write(&ListingLine::Volume(row.clone())).map_err(io)?;
        let volume_ref = VolumeRef {
            partition: place.partition.as_ref().map(|p| p.index),
            scheme: place.partition.as_ref().map(|p| format!("{:?}", p.scheme).to_lowercase()),
            offset: place.offset,
            fs: fs.kind().to_owned(),
        };
        let data = fs.volume();
        let truncated = volume_truncation(fs.as_ref());
        if let Some((declared, held)) = truncated {
            self.truncation.media.push(format!(
                "volume {index} ({}) at byte {} declares {declared} bytes; the image holds {held} of them",
                fs.kind(),
                place.offset
            ));
        }
        let fs_declared = fs.declared_size();
        self.budget.widen(fs_declared);
        let mut fatal = None;
        let walked =
            fs.walk(self.limits, &mut |entry| match self.entry(index, &volume_ref, &data, fs_declared, entry) {
                Ok(()) => Ok(()),
                Err(e) => {
                    let message = e.message.clone();
                    fatal = Some(e);
                    Err(MediaError::limit(message))
                }
            });
        if let Some(e) = fatal {
            if e.kind == exhibit_pipeline::StageErrorKind::Transient {
                return Err(e);
            }
        }
        if let Err(e) = walked {
            let what = format!("volume {index} ({})", fs.kind());
            // On a volume cut short, structures past the cut are missing
            // evidence, not a fault a rerun could fix; limits still fail.
            if truncated.is_some() && e.kind != exhibit_media::MediaErrorKind::LimitExceeded {
                self.truncation.media.push(format!("{what}: the walk ended early: {e}"));
            } else {
                let limit = e.kind == exhibit_media::MediaErrorKind::LimitExceeded;
                let fault = if limit { FAULT_LIMIT } else { FAULT_DAMAGED };
                self.fail_with(&what, &format!("the walk ended early: {e}"), Some(fault))?;
            }
            row.error = Some(e.to_string());
        }
        Ok(row)
    }

    fn entry(
        &mut self,
        volume: u32,
        volume_ref: &VolumeRef,
        data: &Arc<dyn exhibit_media::ReadAt>,
        fs_declared: Option<u64>,
        entry: FsEntry,
    ) -> Result<(), StageError> {
        self.counts.entries += 1;
        if self.counts.entries > self.limits.max_entries {
            return Err(StageError::input(format!(
                "more than {} entries on this image (limits.max_entries); the rest was not read",
                self.limits.max_entries
            )));
        }
        self.counts.deleted += u64::from(!entry.allocated);
        let zero_filled = match &entry.data {
            DataLayout::Extents(extents) => zero_filled_ranges(extents, volume_ref.offset, &self.input.bad_ranges),
            _ => Vec::new(),
        };
        let (extracted, error, map) = if entry.has_content() {
            self.content(volume, volume_ref, data, fs_declared, &entry, &zero_filled)?
        } else {
            (None, entry.damage.clone(), ContentMap::default())
        };
        let mut row = entry_row(self.input.artefact.clone(), volume, entry, extracted, zero_filled, error);
        (row.sparse, row.missing) = (map.sparse, map.missing);
        self.listing.write(&ListingLine::Entry(Box::new(row))).map_err(io)
    }

    fn content(
        &mut self,
        volume: u32,
        volume_ref: &VolumeRef,
        data: &Arc<dyn exhibit_media::ReadAt>,
        fs_declared: Option<u64>,
        entry: &FsEntry,
        zero_filled: &[[u64; 2]],
    ) -> Result<(Option<Extracted>, Option<String>, ContentMap), StageError> {
        let path = entry.path.recorded().display;
        let refused = |walker: &mut Self, why: String, fault: Option<&str>| {
            walker.fail_with(&path, &why, fault).map(|()| (None, Some(why), ContentMap::default()))
        };
        if let Some(damage) = &entry.damage {
            return refused(self, format!("a damaged record: {damage}"), Some(FAULT_DAMAGED));
        }
        if let Some(note) = entry.attributes.get("content").filter(|n| n.contains("not extracted")) {
            return refused(self, format!("its content is {note}"), Some(FAULT_UNCONVERTED));
        }
        let mut map = match map_content(entry, data.as_ref(), fs_declared) {
            Ok(map) => map,
            Err(why) => return refused(self, why, Some(FAULT_DAMAGED)),
        };
        if let Err(why) = self.add_holes(entry, volume_ref.offset, &mut map) {
            return refused(self, why, Some(FAULT_DAMAGED));
        }
        if !map.missing.is_empty() {
            self.truncation.files.push(path.clone());
        }
        let key = source_key(&self.input.artefact, volume, entry);
        if let Some(done) = self.already(&key) {
            self.counts.files += 1;
            self.nested(&done, &path)?;
            return Ok((Some(done), None, map));
        }
        let scope = (volume, data.size());
        if let Err(why) = self.budget.admit(scope, entry, super::extract::readable_bytes(entry), &map) {
            return refused(self, why, Some(FAULT_LIMIT));
        }
        let place = Place {
            input: self.input,
            volume: volume_ref.clone(),
            zero_filled: zero_filled.to_vec(),
            map,
            identify: self.identify,
        };
        let source = self.view.as_ref().map(|v| (v, self.policy));
        match extract(self.ctx, &mut self.batch, self.job, &place, &key, data.clone(), entry, source) {
            Ok(done) => {
                self.counts.files += 1;
                self.counts.bytes += done.size;
                self.nested(&done, &path)?;
                if self.batch.is_full() {
                    self.commit()?;
                }
                Ok((Some(done), None, place.map))
            }
            Err(e) if e.kind == exhibit_pipeline::StageErrorKind::Input => {
                self.fail_with(&path, &e.message, Some(FAULT_DAMAGED))?;
                Ok((None, Some(e.message), ContentMap::default()))
            }
            Err(e) => Err(e),
        }
    }

    /// Adds to `map` the file ranges over media a missing E01 segment held
    /// (read as zeros). A compressed stream with a hole cannot be decoded.
    fn add_holes(&self, entry: &FsEntry, volume_offset: u64, map: &mut ContentMap) -> Result<(), String> {
        let holes = match (&self.view, &entry.data) {
            (Some(v), DataLayout::Extents(extents)) if !v.missing.is_empty() => {
                let as_len: Vec<[u64; 2]> = v.missing.iter().map(|h| [h[0], h[1] - h[0]]).collect();
                zero_filled_ranges(extents, volume_offset, &as_len)
            }
            _ => return Ok(()),
        };
        let readable = super::extract::readable_bytes(entry);
        let holes: Vec<[u64; 2]> =
            holes.into_iter().filter(|h| h[0] < readable).map(|h| [h[0], h[1].min(readable)]).collect();
        if holes.is_empty() {
            return Ok(());
        }
        if entry.transform.is_some() {
            return Err(
                "its compressed stream lies partly in media a missing E01 segment held; it cannot be decoded".into()
            );
        }
        let mut all: Vec<[u64; 2]> = map.missing.drain(..).chain(holes).collect();
        all.sort_unstable();
        for range in all {
            exhibit_media::push_merged(&mut map.missing, range);
        }
        Ok(())
    }

    /// Stores each CDDA audio track of a cue sheet as a WAV artefact.
    fn audio_tracks(&mut self, cue: &CueImage) -> Result<(), StageError> {
        for track in cue.tracks().iter().filter(|t| t.mode == TrackMode::Audio) {
            let name = format!("track{:02}.wav", track.number);
            let mut entry = FsEntry::new(NamePath::root().join(name.as_bytes()), EntryKind::File);
            entry.size = WAV_HEADER_BYTES + track.length.saturating_mul(track.mode.sector_size());
            entry.address = Some(track.start);
            let key = format!("cdda:{}:{}", self.input.artefact, track.number);
            let volume_ref = VolumeRef {
                partition: Some(u32::from(track.number)),
                scheme: Some("cue".into()),
                offset: track.file_offset,
                fs: "cdda".into(),
            };
            let extracted = match self.already(&key) {
                Some(done) => Some(done),
                None => {
                    let body = cue
                        .audio_track_wav(track.number)
                        .map_err(|e| StageError::input(format!("{}: {e}", self.input.path)))?;
                    let place = Place {
                        input: self.input,
                        volume: volume_ref,
                        zero_filled: Vec::new(),
                        map: ContentMap::default(),
                        identify: self.identify,
                    };
                    let done = extract_stream(
                        self.ctx,
                        &mut self.batch,
                        self.job,
                        &place,
                        &key,
                        &entry,
                        Box::new(body),
                        entry.size,
                    )?;
                    self.counts.bytes += done.size;
                    Some(done)
                }
            };
            self.counts.files += 1;
            if let Some(done) = &extracted {
                // The WAV goes to its derivation (the `cdda` rules), as
                // every other extracted file of a derivable type does.
                self.nested(done, &name)?;
            }
            let row = entry_row(self.input.artefact.clone(), u32::MAX, entry, extracted, Vec::new(), None);
            self.listing.write(&ListingLine::Entry(Box::new(row))).map_err(io)?;
        }
        Ok(())
    }

    /// Re-hashes the media of an E01 set through checksum-verified chunk
    /// reads, and records the stored and computed hashes and the
    /// acquisition metadata the set carries.
    fn verify_ewf(&mut self, ewf: &EwfImage) -> Result<(), StageError> {
        let mut event = self.ctx.event(Action::Verified, Some(&self.job.exhibit), ToolInfo::exhibit(EXPLORE));
        event.inputs = vec![InputRef { id: self.input.artefact.clone(), sha256: self.input.sha256 }];
        let mut params = VerifiedParams {
            metadata: Some(serde_json::to_value(ewf.metadata()).unwrap_or_default()),
            segments: Some(ewf.segment_names()),
            stored: Some(json!({"md5": ewf.stored_md5().map(hex::encode), "sha1": ewf.stored_sha1().map(hex::encode)})),
            ..Default::default()
        };
        if let Some(why) = ewf.truncation() {
            let (declared, held) = (ewf.declared_size(), ewf.held());
            params.truncated = Some(json!({"declared": declared, "held": held, "reason": why}));
            self.truncation
                .media
                .push(format!("the E01 set declares {declared} bytes of media and holds {held}: {why}"));
        }
        match ewf.verify() {
            Ok(v) => {
                params.computed = Some(json!({"md5": hex::encode(v.md5), "sha1": hex::encode(v.sha1)}));
                params.md5_matches = v.md5_matches;
                params.sha1_matches = v.sha1_matches;
                if let Some(reason) = super::ewf_damage::reason(&self.input.path, &v) {
                    event.outcome = Outcome::Failed { reason };
                }
            }
            // A read that failed may succeed when tried again.
            Err(e) if e.kind == exhibit_media::MediaErrorKind::Io => {
                return Err(StageError::transient(format!("{}: {e}", self.input.path)));
            }
            Err(e) => event.outcome = Outcome::Failed { reason: format!("{}: {e}", self.input.path) },
        }
        // Damaged media is a fact about the evidence, listed for a person
        // (`damaged-media`), not a failure a rerun could fix: not counted
        // as failed, so every run of it reads the same (exit 3).
        event.set_params(EventParams::Verified(params));
        Handle::current().block_on(self.ctx.record(event)).map(|_| ())
    }

    /// Records the extracted files staged so far, and any that could not be.
    fn commit(&mut self) -> Result<(), StageError> {
        let failures = Handle::current().block_on(self.batch.commit())?;
        for f in failures {
            self.fail(&f.label, &f.reason)?;
        }
        Ok(())
    }

    /// The artefact an earlier, interrupted run already made of this entry.
    fn already(&self, key: &str) -> Option<Extracted> {
        let index = self.ctx.index();
        let record = index.source(&self.job.exhibit, key)?;
        let facts: serde_json::Value = record.facts()?;
        let digests = serde_json::from_value(facts.get("digests")?.clone()).ok()?;
        let mime = facts.get("media_type")?.as_str()?.to_owned();
        let is_medium = exhibit_media::MediumClass::from_mime(&mime).is_some();
        Some(Extracted { id: record.artefact.clone(), digests, size: record.size, mime, is_medium })
    }

    fn nested(&mut self, done: &Extracted, path: &str) -> Result<(), StageError> {
        if !done.is_medium {
            let input = DeriveInput {
                path: format!("{} > {path}", self.input.path),
                artefact: done.id.clone(),
                sha256: done.digests.sha256,
                size: done.size,
                mime: done.mime.clone(),
            };
            self.follow_ups.extend(derive_job(self.job, &input, &self.ctx.derive_policies));
            return Ok(());
        }
        if self.input.depth + 1 > self.limits.max_depth {
            let why = format!(
                "a medium nested {} deep is not explored (limits.max_depth is {})",
                self.input.depth + 1,
                self.limits.max_depth
            );
            return self.fail_with(path, &why, Some(FAULT_LIMIT));
        }
        let input = ExploreInput {
            path: format!("{} > {path}", self.input.path),
            artefact: done.id.clone(),
            sha256: done.digests.sha256,
            size: done.size,
            depth: self.input.depth + 1,
            bad_ranges: Vec::new(),
            set: None,
        };
        self.follow_ups.push(explore_job(self.job, &input));
        Ok(())
    }

    /// Records that one item failed; the walk goes on.
    fn fail(&mut self, what: &str, reason: &str) -> Result<(), StageError> {
        self.fail_with(what, reason, None)
    }

    /// Records that one item failed. With a `fault`, the evidence itself is
    /// at fault (a rerun cannot mend it): the event names the fault and the
    /// run's tally of failures leaves it out; the summary reads it from the
    /// ledger as needing attention.
    fn fail_with(&mut self, what: &str, reason: &str, fault: Option<&str>) -> Result<(), StageError> {
        self.counts.failed += 1;
        let reason = format!("{} > {what}: {reason}", self.input.path);
        let mut event = self.ctx.event(Action::Failed, Some(&self.job.exhibit), ToolInfo::exhibit(EXPLORE));
        event.inputs = vec![InputRef { id: self.input.artefact.clone(), sha256: self.input.sha256 }];
        event.outcome = Outcome::Failed { reason: reason.clone() };
        if fault.is_none() {
            self.ctx.tally.fail(what, &reason);
        }
        event.set_params(EventParams::Failed(FailedParams {
            input: Some(json!({"path": what})),
            fault: fault.map(str::to_owned),
            ..Default::default()
        }));
        Handle::current().block_on(self.ctx.record(event)).map(|_| ())
    }

    fn finish(mut self, opened: &Opened, volumes: Vec<VolumeRow>) -> Result<Vec<Job>, StageError> {
        self.commit()?;
        let file = self.listing.finish().map_err(io)?;
        let handle = Handle::current();
        let receipt = handle
            .block_on(self.ctx.store.put_content(&objects_prefix(&self.ctx.case), Box::new(file), self.ctx.hashes))
            .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot store the listing: {e}")))?;
        let locator = format!("listing:{}", self.input.artefact);
        let id = ArtefactId::derive(&self.ctx.case, &self.job.exhibit, locator.as_bytes(), &receipt.digests.sha256);
        let manifest = listing_manifest(self.ctx, self.job, self.input, &id, &receipt);
        let manifest_sha256 = handle.block_on(store_manifest(self.ctx, &manifest))?;
        let mut event = self.ctx.event(Action::Explored, Some(&self.job.exhibit), ToolInfo::exhibit(EXPLORE));
        event.artefact = Some(ArtefactRef {
            id: Some(id),
            sha256: receipt.digests.sha256,
            size: receipt.size,
            manifest_sha256: Some(manifest_sha256),
        });
        event.inputs = vec![InputRef { id: self.input.artefact.clone(), sha256: self.input.sha256 }];
        let c = &self.counts;
        event.set_params(EventParams::Explored(ExploredParams {
            job_id: Some(self.job.job_id.0.clone()),
            medium: Some(opened.class.mime().into()),
            volumes: Some(serde_json::to_value(&volumes).unwrap_or_default()),
            truncated: self.truncation.recorded(self.ctx, &self.input.path),
            counts: Some(
                json!({"entries": c.entries, "files": c.files, "deleted": c.deleted, "failed": c.failed, "bytes": c.bytes}),
            ),
        }));
        handle.block_on(self.ctx.record(event))?;
        info!(entries = c.entries, files = c.files, deleted = c.deleted, failed = c.failed, "explored");
        Ok(self.follow_ups)
    }
}

fn volume_row(
    medium: &str,
    index: u32,
    place: &exhibit_media::VolumePlace,
    fs: Option<&dyn exhibit_media::FileSystem>,
    error: Option<String>,
) -> VolumeRow {
    VolumeRow {
        medium: medium.to_owned(),
        index,
        partition: place.partition.as_ref().map(|p| p.index),
        scheme: place.partition.as_ref().map(|p| format!("{:?}", p.scheme).to_lowercase()),
        partition_type: place.partition.as_ref().map(|p| p.type_id.clone()),
        offset: place.offset,
        len: place.len,
        fs: fs.map(|f| f.kind().to_owned()),
        label: fs.and_then(|f| f.label()),
        error,
        sectors: None,
    }
}

fn entry_row(
    image: ArtefactId,
    volume: u32,
    entry: FsEntry,
    extracted: Option<Extracted>,
    zero_filled: Vec<[u64; 2]>,
    error: Option<String>,
) -> EntryRow {
    EntryRow {
        image,
        volume,
        path: entry.path.recorded(),
        stream: entry.stream.as_deref().map(exhibit_core::manifest::RecordedPath::from_bytes),
        kind: entry.kind,
        size: entry.size,
        allocated: entry.allocated,
        recovery: entry.recovery,
        timestamps: entry.timestamps,
        attributes: entry.attributes,
        address: entry.address,
        extents: match entry.data {
            DataLayout::Extents(extents) => extents,
            _ => Vec::new(),
        },
        artefact: extracted.as_ref().map(|e| e.id.clone()),
        digests: extracted.map(|e| e.digests),
        zero_filled,
        sparse: Vec::new(),
        missing: Vec::new(),
        error,
    }
}

fn listing_manifest(
    ctx: &StageContext,
    job: &Job,
    input: &ExploreInput,
    id: &ArtefactId,
    receipt: &exhibit_store::PutReceipt,
) -> ArtefactManifest {
    let media_type = MediaType {
        mime: LISTING_MIME.into(),
        extension: Some("jsonl".into()),
        detected_by: "exhibit".into(),
        ..Default::default()
    };
    let parent = ParentRef { id: input.artefact.clone(), sha256: input.sha256, offset: None };
    let mut manifest =
        derivative_manifest(ctx, &job.exhibit, id.clone(), receipt, media_type, parent, ToolInfo::exhibit(EXPLORE));
    manifest.flags = vec!["listing".into()];
    manifest
}
