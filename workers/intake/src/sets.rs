//! Sets as planning sees them: an E01 segment set or a cue sheet with its
//! files, every member by path, and the `assemble` job that records the
//! set once every member is acquired (see [`crate::AssembleStage`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::set_record::{SetKind, SetRole};
use exhibit_media::sources::segment_path;
use exhibit_queue::input::{SetInput, SetSource};
use exhibit_queue::{Job, JobId, JobInput, StageInput};

use crate::plan::{Plan, exhibit_path_bytes, path_bytes};
use crate::{ASSEMBLE, POLICY_VERSION};

/// One planned member of a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMember {
    /// What it is to the set.
    pub role: SetRole,
    /// Its place (segment number; 0 for a sheet, 1.. for its files).
    pub order: u32,
    /// Its path, as planned.
    pub path: PathBuf,
}

/// A set among the planned sources, head first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSet {
    /// Which kind of set.
    pub kind: SetKind,
    /// Every member, the head (`.E01`, `.cue`) first, in set order.
    pub members: Vec<PlannedMember>,
}

impl PlannedSet {
    /// The set `head` heads, from the members companion discovery found
    /// (`found`) and, for EWF, every later segment that is planned at all
    /// (the operator may name segments past a lost one).
    pub fn new(kind: SetKind, head: &Path, found: &[PathBuf], planned: &HashSet<PathBuf>) -> Self {
        let mut members = Vec::new();
        match kind {
            SetKind::Ewf => {
                members.push(PlannedMember { role: SetRole::Segment, order: 1, path: head.to_owned() });
                for number in 2..=u16::MAX {
                    let Some(path) = segment_path(head, number) else { break };
                    if planned.contains(&path) || found.contains(&path) {
                        members.push(PlannedMember { role: SetRole::Segment, order: u32::from(number), path });
                    }
                }
            }
            SetKind::CueSheet => {
                members.push(PlannedMember { role: SetRole::Sheet, order: 0, path: head.to_owned() });
                for (n, path) in (1u32..).zip(found) {
                    members.push(PlannedMember { role: SetRole::TrackFile, order: n, path: path.clone() });
                }
            }
        }
        Self { kind, members }
    }

    /// The head's path.
    pub fn head(&self) -> &Path {
        self.members.first().map_or(Path::new(""), |m| m.path.as_path())
    }
}

/// One `assemble` job per planned set. Its ID depends on the exhibit and
/// the head's path, as acquire jobs' do.
pub fn set_jobs(plan: &Plan, case: &CaseId, exhibit: &ExhibitRef) -> Vec<Job> {
    plan.sets
        .iter()
        .map(|set| {
            let members = set
                .members
                .iter()
                .map(|m| SetSource {
                    role: m.role,
                    order: m.order,
                    path: m.path.to_string_lossy().into_owned(),
                    path_hex: hex::encode(path_bytes(&m.path)),
                })
                .collect();
            let input = SetInput { path: set.head().to_string_lossy().into_owned(), set: set.kind, members };
            Job {
                job_id: JobId::derive(ASSEMBLE, &exhibit_path_bytes(exhibit, path_bytes(set.head())), POLICY_VERSION),
                case: case.clone(),
                exhibit: exhibit.clone(),
                stage: ASSEMBLE.to_owned(),
                input: JobInput::from(StageInput::Assemble(input)),
                attempt: 0,
                run: None,
                signature: None,
                after: Vec::new(),
            }
        })
        .collect()
}
