//! Checks what the operator pointed at and turns it into `acquire` jobs,
//! before anything is written: a bad path fails the whole ingest with a
//! clear message and records nothing.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::FileType;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_queue::input::SourceInput;
use exhibit_queue::{Job, JobId, JobInput, StageInput};
use thiserror::Error;
use walkdir::WalkDir;

use crate::companions::{self, SetKind, set_kind_of};
use crate::source_file::open_source;
use crate::walk_faults::{EntryFault, walk_error};
use crate::{ACQUIRE, POLICY_VERSION};

/// Job input and `acquired` event param: the named file a set member was
/// found beside, when the operator did not name it.
pub const FOUND_BESIDE: &str = "found_beside";

/// Why a set of sources cannot be ingested.
#[derive(Debug, Error)]
pub enum PlanError {
    /// A given path does not exist.
    #[error("{0}: no such file or folder; check the path")]
    NotFound(PathBuf),
    /// A file or folder cannot be read.
    #[error("{path}: cannot be read ({reason}); fix its permissions or leave it out")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// The OS's reason.
        reason: String,
    },
    /// A folder holds no files at all.
    #[error("{0}: the folder holds no files; nothing to ingest")]
    EmptyFolder(PathBuf),
    /// No paths were given.
    #[error("no paths given; name at least one file or folder")]
    NoPaths,
    /// A set (E01 segments, a cue sheet's files) lacks a member it needs.
    #[error("{named}: the {set} needs {expected}, which is missing; put it beside {named} and rerun ({advice})")]
    MissingMember {
        /// What to do if the member is lost, for this kind of set.
        advice: &'static str,
        /// The file that was named (or found in a folder).
        named: PathBuf,
        /// Which kind of set.
        set: &'static str,
        /// The member expected, by its full path.
        expected: PathBuf,
    },
    /// A cue sheet names a file that is not beside it.
    #[error("{named}: names FILE {name:?}, which is not a file beside it; only names in its own folder are followed")]
    MemberOutside {
        /// The cue sheet.
        named: PathBuf,
        /// The name it gave.
        name: PathBuf,
    },
}

impl PlanError {
    /// Every plan error is the operator's input; a rerun of the same
    /// command fails the same way.
    pub fn kind(&self) -> exhibit_core::ErrorKind {
        match self {
            Self::NotFound(_) | Self::MissingMember { .. } => exhibit_core::ErrorKind::NotFound,
            Self::Unreadable { .. } => exhibit_core::ErrorKind::Io,
            Self::EmptyFolder(_) | Self::NoPaths | Self::MemberOutside { .. } => exhibit_core::ErrorKind::Invalid,
        }
    }
}

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// A regular file: its bytes are acquired.
    File,
    /// A symbolic link: its target path is recorded, never followed.
    Symlink,
    /// A block device (`/dev/sr0`, `/dev/sdb`): imaged read-only.
    Device,
    /// A FIFO, socket or character device: recorded as not acquired.
    Special,
}

/// One thing to acquire.
#[derive(Debug, Clone)]
pub struct SourceItem {
    /// The path as given, joined with the path inside a walked folder.
    pub path: PathBuf,
    /// What it is.
    pub kind: SourceKind,
    /// Its size when planned (regular files).
    pub size: u64,
    /// For a set member the operator did not name: the named file it was
    /// found beside (`x.E01` for `x.E02`, the cue sheet for a `.bin`).
    pub found_beside: Option<PathBuf>,
    /// A member of one of the plan's sets: explored through the set only.
    pub in_set: bool,
    /// The path recorded in place of `path` (see [`Plan::record_under`]).
    pub recorded_as: Option<PathBuf>,
}

/// Everything to acquire, in a stable order.
#[derive(Debug, Default)]
pub struct Plan {
    /// The sources.
    pub items: Vec<SourceItem>,
    /// Sum of regular files' sizes.
    pub total_bytes: u64,
    /// The sets among the sources (E01 segment sets, cue sheets with their
    /// files), each recorded as one once its members are acquired.
    pub sets: Vec<crate::sets::PlannedSet>,
    /// Sets found inside a walked folder that cannot be planned (a member
    /// is missing): each head is acquired as a plain file, and the ingest
    /// records why, so that one incomplete set does not stop the folder.
    pub incomplete_sets: Vec<IncompleteSet>,
    /// Entries of a walked folder that cannot be read (a path too long to
    /// open, an unreadable sub-folder, an entry gone during the walk): the
    /// ingest records each as failed, and the rest of the folder goes ahead.
    pub entry_faults: Vec<EntryFault>,
}

/// A set found in a folder whose members are not all there.
#[derive(Debug, Clone)]
pub struct IncompleteSet {
    /// Its head (the `.E01`, the `.cue`), as read.
    pub head: PathBuf,
    /// What is missing and what to do.
    pub reason: String,
}

impl Plan {
    /// Records every source under `read_root` as if it were under
    /// `recorded_root` instead: the server reads an upload from its staging
    /// folder, but the ledger names the upload and the client's file name,
    /// never the server's folders. Set members are matched among recorded
    /// acquisitions by their recorded paths, so they move with them.
    pub fn record_under(&mut self, read_root: &Path, recorded_root: &Path) {
        let moved = |path: &Path| path.strip_prefix(read_root).ok().map(|rest| recorded_root.join(rest));
        for item in &mut self.items {
            item.recorded_as = moved(&item.path);
            if let Some(beside) = item.found_beside.as_deref().and_then(moved) {
                item.found_beside = Some(beside);
            }
        }
        for member in self.sets.iter_mut().flat_map(|s| s.members.iter_mut()) {
            if let Some(recorded) = moved(&member.path) {
                member.path = recorded;
            }
        }
        for incomplete in &mut self.incomplete_sets {
            if let Some(recorded) = moved(&incomplete.head) {
                incomplete.reason =
                    incomplete.reason.replace(&*incomplete.head.to_string_lossy(), &recorded.to_string_lossy());
                incomplete.head = recorded;
            }
        }
        for fault in &mut self.entry_faults {
            if let Some(recorded) = moved(&fault.path) {
                fault.path = recorded;
            }
        }
    }
}

fn kind_of(t: FileType) -> SourceKind {
    if t.is_symlink() {
        SourceKind::Symlink
    } else if t.is_file() {
        SourceKind::File
    } else if std::os::unix::fs::FileTypeExt::is_block_device(&t) {
        SourceKind::Device
    } else {
        SourceKind::Special
    }
}

pub(crate) fn unreadable(path: &Path, e: impl std::fmt::Display) -> PlanError {
    PlanError::Unreadable { path: path.to_owned(), reason: e.to_string() }
}

/// Walks `paths` (files and folders, symlinks not followed) and checks that
/// every regular file can be opened.
pub fn plan_sources(paths: &[PathBuf]) -> Result<Plan, PlanError> {
    if paths.is_empty() {
        return Err(PlanError::NoPaths);
    }
    let mut plan = Plan::default();
    for root in paths {
        let meta = std::fs::symlink_metadata(root).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PlanError::NotFound(root.clone()),
            _ => unreadable(root, e),
        })?;
        let before = (plan.items.len(), plan.entry_faults.len());
        if meta.is_dir() {
            walk_folder(root, &mut plan)?;
        } else {
            add(&mut plan, root.clone(), kind_of(meta.file_type()), meta.len())?;
        }
        if (plan.items.len(), plan.entry_faults.len()) == before {
            return Err(PlanError::EmptyFolder(root.clone()));
        }
    }
    add_companions(&mut plan, paths)?;
    Ok(plan)
}

/// Plans the unnamed members of every set among the planned files, each
/// after the files already planned and marked with the file it was found
/// beside.
/// A set whose head the operator named fails the plan when a member is
/// missing; one found while walking a folder is noted in
/// [`Plan::incomplete_sets`] and its head planned as a plain file.
fn add_companions(plan: &mut Plan, named: &[PathBuf]) -> Result<(), PlanError> {
    let heads: Vec<(PathBuf, SetKind)> = plan
        .items
        .iter()
        .filter(|i| i.kind == SourceKind::File)
        .filter_map(|i| Some((i.path.clone(), set_kind_of(&i.path)?)))
        .collect();
    let mut planned: HashSet<PathBuf> = plan.items.iter().map(|i| i.path.clone()).collect();
    let operator_named = planned.clone();
    for (head, set) in heads {
        let members = match companions::members(&head, set, &operator_named) {
            Ok(members) => members,
            Err(e @ (PlanError::MissingMember { .. } | PlanError::MemberOutside { .. })) if !named.contains(&head) => {
                tracing::warn!(head = %head.display(), reason = %e, "an incomplete set in a folder: stored as a file");
                plan.incomplete_sets.push(IncompleteSet { head, reason: e.to_string() });
                continue;
            }
            Err(e) => return Err(e),
        };
        for member in members.iter().cloned() {
            if !planned.insert(member.clone()) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&member).map_err(|e| unreadable(&member, e))?;
            add(plan, member, kind_of(meta.file_type()), meta.len())?;
            if let Some(item) = plan.items.last_mut() {
                item.found_beside = Some(head.clone());
            }
            tracing::info!(set = set.label(), named = %head.display(), "found a set member that was not named");
        }
        plan.sets.push(crate::sets::PlannedSet::new(set, &head, &members, &planned));
    }
    let in_sets: HashSet<PathBuf> = plan.sets.iter().flat_map(|s| s.members.iter().map(|m| m.path.clone())).collect();
    for item in &mut plan.items {
        item.in_set = in_sets.contains(&item.path);
    }
    crate::lone_segments::note_lone_segments(plan, named)
}

/// Plans every entry under `root`. An entry that cannot be read (its path
/// too long to open, its folder unreadable, gone meanwhile) is noted in
/// [`Plan::entry_faults`]; only `root` itself unreadable fails the plan.
fn walk_folder(root: &Path, plan: &mut Plan) -> Result<(), PlanError> {
    for entry in WalkDir::new(root).follow_links(false).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                note_fault(plan, walk_error(root, e)?);
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let kind = kind_of(entry.file_type());
        let size = match entry.metadata() {
            Ok(meta) => meta.len(),
            Err(e) => {
                note_fault(plan, walk_error(root, e)?);
                continue;
            }
        };
        add_walked(plan, entry.into_path(), kind, size)?;
    }
    Ok(())
}

/// [`add`] for an entry of a walked folder: a file that cannot be opened
/// (its path too long, gone, no read permission) fails alone, and the rest
/// of the folder goes ahead. A file the operator named still fails the
/// plan ([`add`]).
fn add_walked(plan: &mut Plan, path: PathBuf, kind: SourceKind, size: u64) -> Result<(), PlanError> {
    if kind != SourceKind::File {
        return add(plan, path, kind, size);
    }
    // One open per walked file: the check that it can be read.
    match open_source(&path) {
        Ok(_) => {
            plan.total_bytes += size;
            push_item(plan, path, kind, size);
        }
        Err(e) => note_fault(plan, EntryFault::from_io(&path, &e)),
    }
    Ok(())
}

fn note_fault(plan: &mut Plan, fault: EntryFault) {
    tracing::warn!(path = %fault.path.display(), reason = %fault.os_reason, "an entry of the folder cannot be read: recorded as failed");
    plan.entry_faults.push(fault);
}

fn add(plan: &mut Plan, path: PathBuf, kind: SourceKind, size: u64) -> Result<(), PlanError> {
    match kind {
        SourceKind::File => {
            open_source(&path).map_err(|e| unreadable(&path, e))?;
            plan.total_bytes += size;
        }
        SourceKind::Device => {
            let device = exhibit_media::sources::LinuxBlockDevice::open(&path).map_err(|e| unreadable(&path, e))?;
            plan.total_bytes += exhibit_media::sources::BlockDevice::size(&device);
        }
        SourceKind::Symlink | SourceKind::Special => {}
    }
    push_item(plan, path, kind, size);
    Ok(())
}

fn push_item(plan: &mut Plan, path: PathBuf, kind: SourceKind, size: u64) {
    plan.items.push(SourceItem { path, kind, size, found_beside: None, in_set: false, recorded_as: None });
}

/// The raw bytes of a path; Unix paths are bytes, not text.
pub(crate) fn path_bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

/// The path whose raw bytes are `bytes`.
pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// The ID of the acquire job of `path` (raw bytes) in `exhibit`.
pub fn acquire_job_id(exhibit: &ExhibitRef, path: &[u8]) -> JobId {
    JobId::derive(ACQUIRE, &exhibit_path_bytes(exhibit, path), POLICY_VERSION)
}

/// `exhibit`, a NUL, then `path`: what per-source job IDs are derived from.
pub(crate) fn exhibit_path_bytes(exhibit: &ExhibitRef, path: &[u8]) -> Vec<u8> {
    let mut bytes = exhibit.as_str().as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(path);
    bytes
}

/// One `acquire` job per planned source. The job ID depends on the exhibit
/// and path, so the same command submitted twice yields the same jobs.
pub fn acquire_jobs(plan: &Plan, case: &CaseId, exhibit: &ExhibitRef) -> Vec<Job> {
    plan.items
        .iter()
        .map(|item| {
            let bytes = path_bytes(&item.path);
            let shown = item.recorded_as.as_deref().unwrap_or(&item.path);
            let input = JobInput::from(StageInput::Acquire(SourceInput {
                path: shown.to_string_lossy().into_owned(),
                path_hex: hex::encode(bytes),
                // Found, not named: the acquired event says so.
                found_beside: item.found_beside.as_ref().map(|named| named.to_string_lossy().into_owned()),
                in_set: item.in_set,
                recorded_hex: item.recorded_as.as_deref().map(|r| hex::encode(path_bytes(r))),
            }));
            // The ID does not depend on how the file was found, so naming
            // it on a rerun does not acquire it again.
            Job {
                job_id: acquire_job_id(exhibit, bytes),
                case: case.clone(),
                exhibit: exhibit.clone(),
                stage: ACQUIRE.to_owned(),
                input,
                attempt: 0,
                run: None,
                signature: None,
                after: Vec::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_recorded_under_another_root_move_with_their_sets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("disk.E01"), b"EVF segment").unwrap();
        let mut plan = plan_sources(&[dir.path().join("disk.E01")]).unwrap();
        plan.record_under(dir.path(), Path::new("upload/u1"));
        let recorded = Path::new("upload/u1/disk.E01");
        assert_eq!(plan.items[0].path, dir.path().join("disk.E01"), "the path read stays");
        assert_eq!(plan.items[0].recorded_as.as_deref(), Some(recorded));
        assert_eq!(plan.sets[0].members[0].path, recorded, "members are matched by recorded path");
        let (case, exhibit) = ("42AB1234520".parse().unwrap(), "JS/1".parse().unwrap());
        let job = &acquire_jobs(&plan, &case, &exhibit)[0];
        let Ok(StageInput::Acquire(source)) = job.input.for_stage(ACQUIRE) else { panic!("{job:?}") };
        assert_eq!(source.path, "upload/u1/disk.E01", "messages show the recorded path");
        assert_eq!(source.recorded_hex.as_deref(), Some(hex::encode(path_bytes(recorded)).as_str()));
        assert_eq!(hex::decode(&source.path_hex).unwrap(), path_bytes(&dir.path().join("disk.E01")));
    }

    #[test]
    fn missing_paths_and_empty_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(matches!(plan_sources(&[missing]), Err(PlanError::NotFound(_))));
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let err = plan_sources(&[dir.path().join("empty")]).unwrap_err();
        assert!(matches!(err, PlanError::EmptyFolder(_)), "{err}");
        assert!(matches!(plan_sources(&[]), Err(PlanError::NoPaths)));
    }

    #[test]
    fn folders_are_walked_in_order_and_symlinks_kept_as_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.txt"), b"bb").unwrap();
        std::fs::write(dir.path().join("sub/a.txt"), b"a").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).unwrap();
        let plan = plan_sources(&[dir.path().to_owned()]).unwrap();
        let names: Vec<_> = plan.items.iter().map(|i| i.path.strip_prefix(dir.path()).unwrap().to_owned()).collect();
        assert_eq!(names, [PathBuf::from("b.txt"), "link".into(), "sub/a.txt".into()]);
        assert_eq!(plan.items[1].kind, SourceKind::Symlink);
        assert_eq!(plan.total_bytes, 3);
    }

    #[test]
    fn every_member_of_every_set_is_planned_and_marked() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources");
        let dir = tempfile::tempdir().unwrap();
        for name in ["ewf/split.E01", "ewf/split.E02", "ewf/split.E03", "cue/two-files.cue", "cue/audio.bin"] {
            std::fs::copy(fixtures.join(name), dir.path().join(Path::new(name).file_name().unwrap())).unwrap();
        }
        std::fs::copy(fixtures.join("cue/data track.bin"), dir.path().join("data track.bin")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"not in a set").unwrap();
        // The E01 and the sheet named alone: the rest is found beside them.
        let named = [dir.path().join("split.E01"), dir.path().join("two-files.cue"), dir.path().join("notes.txt")];
        let plan = plan_sources(&named).unwrap();
        assert_eq!(plan.items.len(), 7, "3 segments, the sheet, its 2 bins, notes.txt");
        let in_set: Vec<bool> = plan.items.iter().map(|i| i.in_set).collect();
        assert_eq!(in_set.iter().filter(|b| **b).count(), 6, "all but notes.txt");
        assert_eq!(plan.sets.len(), 2);
        let orders = |n: usize| plan.sets[n].members.iter().map(|m| (m.role, m.order)).collect::<Vec<_>>();
        use exhibit_core::set_record::SetRole::{Segment, Sheet, TrackFile};
        assert_eq!(orders(0), [(Segment, 1), (Segment, 2), (Segment, 3)]);
        assert_eq!(orders(1), [(Sheet, 0), (TrackFile, 1), (TrackFile, 2)]);
        let file = |n: usize, k: usize| plan.sets[n].members[k].path.file_name().unwrap().to_owned();
        assert_eq!(file(1, 1), "data track.bin", "in the sheet's FILE order");
        let jobs = crate::set_jobs(&plan, &"C1".parse().unwrap(), &"JS/1".parse().unwrap());
        assert_eq!(jobs.len(), 2);
        assert!(jobs.iter().all(|j| j.stage == crate::ASSEMBLE));
    }
}
