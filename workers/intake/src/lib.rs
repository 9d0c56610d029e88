//! Intake: the first stages of the pipeline.
//!
//! [`plan_sources`] checks and walks what the operator pointed at (files and
//! folders; symlinks are recorded, never followed) and turns it into
//! `acquire` jobs. [`AcquireStage`] streams each file into the store once,
//! hashing as it copies, and records it; [`IdentifyStage`] finds the media
//! type from content signatures (infer, PRONOM), confirms audio and video
//! with libavformat, and writes the artefact's manifest.

mod acquire;
mod assemble;
mod av;
mod companions;
pub mod device;
pub mod explore;
mod facts;
mod format;
mod identify;
mod identify_policy;
mod lone_segments;
mod plan;
mod sets;
mod source_file;
mod walk_faults;
mod where_found;

pub use acquire::{AcquireStage, INLINE_IDENTIFY_BYTES};
pub use assemble::AssembleStage;
pub use av::{AvCandidate, av_candidate, confirm_av};
pub use companions::{SetKind, set_kind_of};
pub use explore::{ExploreInput, ExplorePolicy, ExploreStage, StoreMode};
pub use facts::AcquiredFacts;
pub use format::{detect_media_type, extension_mismatch, identify_bytes};
pub use identify::{IdentifyStage, PARAM_EXTENSION_MISMATCH, PARAM_UNIDENTIFIED};
pub use identify_policy::IdentifyPolicy;
pub use plan::{
    FOUND_BESIDE, IncompleteSet, Plan, PlanError, SourceItem, SourceKind, acquire_job_id, acquire_jobs, plan_sources,
};
pub use sets::{PlannedMember, PlannedSet, set_jobs};
pub use walk_faults::{EntryFault, EntryFaultKind};

/// Name of the acquire stage and its queue lane.
pub const ACQUIRE: &str = "acquire";
/// Name of the assemble stage (sets) and its queue lane.
pub const ASSEMBLE: &str = "assemble";
/// Name of the explore stage and its queue lane.
pub const EXPLORE: &str = "explore";
/// Name of the identify stage and its queue lane.
pub const IDENTIFY: &str = "identify";
/// Version of the intake policy, part of every job ID.
pub const POLICY_VERSION: &str = "intake-1";
