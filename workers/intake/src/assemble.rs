//! The assemble stage: records a set (an E01 segment set, a cue sheet and
//! its files) as one `assembled` event once every member is acquired, and
//! queues the set's explore job, whose input names the set's record by
//! hash. Members are found among the exhibit's recorded acquisitions, by
//! the paths planning gave; a member whose acquisition failed is recorded
//! as missing, one not yet acquired makes the input not ready (retried).

use std::os::unix::ffi::OsStrExt;

use async_trait::async_trait;
use exhibit_core::event::{Action, InputRef};
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{AssembledParams, EventParams};
use exhibit_core::set_record::{SetMember, SetRecord};
use exhibit_pipeline::{SourceRecord, Stage, StageContext, StageError};
use exhibit_queue::input::{SetInput, SetSource};
use exhibit_queue::{Job, StageInput};
use tracing::instrument;

use crate::ASSEMBLE;
use crate::explore::{ExploreInput, explore_job};
use crate::facts::AcquiredFacts;
use crate::plan::{acquire_job_id, path_from_bytes};

/// Records sets and queues their explore jobs.
#[derive(Debug, Default, Clone, Copy)]
pub struct AssembleStage;

#[async_trait]
impl Stage for AssembleStage {
    fn name(&self) -> &'static str {
        ASSEMBLE
    }

    #[instrument(name = "assemble", skip_all, fields(job = %job.job_id.0, path = job.input.path().unwrap_or("")))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let input = set_input(job)?;
        let record = match members(ctx, job, input) {
            Ok(record) => record,
            Err(_) => {
                // Another worker may have recorded the rest.
                ctx.catch_up().await?;
                members(ctx, job, input)?
            }
        };
        let Some(head) = record.head().cloned() else {
            tracing::info!(set = input.set.label(), "no member of the set was acquired; nothing to explore");
            return Ok(Vec::new());
        };
        let sha256 = record
            .sha256()
            .map_err(|e| StageError::input(format!("{}: the set has no canonical form: {e}", input.path)))?;
        let explore = explore_job(
            job,
            &ExploreInput {
                path: head.path.clone(),
                artefact: head.artefact.clone(),
                sha256: head.sha256,
                size: head.size,
                depth: 0,
                bad_ranges: Vec::new(),
                set: Some(sha256),
            },
        );
        // Explored already (by an earlier run, or a release before set
        // records): nothing to record, nothing to queue.
        if ctx.index().job_done(&explore.job_id) {
            return Ok(Vec::new());
        }
        if ctx.index().set(&sha256).is_none() {
            ctx.record(assembled_event(ctx, job, &record, sha256)).await?;
        }
        Ok(vec![explore])
    }
}

/// The assemble job's input.
fn set_input(job: &Job) -> Result<&SetInput, StageError> {
    match job.input.for_stage(ASSEMBLE) {
        Ok(StageInput::Assemble(input)) => Ok(input),
        Ok(other) => Err(StageError::input(format!("assemble job {}: a {} input", job.job_id.0, other.kind()))),
        Err(e) => Err(StageError::input(format!("assemble job {}: {e}", job.job_id.0))),
    }
}

/// The set as the ledger seen so far records its members; a member whose
/// acquisition is neither recorded nor failed is not ready.
fn members(ctx: &StageContext, job: &Job, input: &SetInput) -> Result<SetRecord, StageError> {
    let index = ctx.index();
    let originals = index.originals(&job.exhibit);
    let (mut members, mut missing) = (Vec::new(), Vec::new());
    for source in &input.members {
        let bytes = hex::decode(&source.path_hex)
            .map_err(|e| StageError::input(format!("{}: a set member with a bad path: {e}", input.path)))?;
        // The latest acquisition of that path (a changed file is acquired again).
        match originals.iter().rev().find(|(path, _)| *path == bytes) {
            Some((_, record)) => members.push(member(source, &bytes, record)),
            None if index.job_failed(&acquire_job_id(&job.exhibit, &bytes)) => missing.push(source.path.clone()),
            None => {
                return Err(StageError::transient(format!(
                    "{}: input not ready: set member {} is not acquired yet",
                    input.path, source.path
                )));
            }
        }
    }
    Ok(SetRecord::new(input.set, members, missing))
}

fn member(source: &SetSource, path: &[u8], record: &SourceRecord) -> SetMember {
    let path = path_from_bytes(path);
    let name = path.file_name().map(|n| n.as_bytes().to_vec()).unwrap_or_default();
    // The path as its acquisition recorded it, as identify names it.
    let shown = record.facts::<AcquiredFacts>().map_or_else(|| source.path.clone(), |f| f.source.path.display);
    SetMember::new((source.role, source.order), (&shown, &name), record.artefact.clone(), record.sha256, record.size)
}

/// The `assembled` event: the members as inputs, in set order, and the
/// record itself with its SHA-256 in params.
fn assembled_event(
    ctx: &StageContext,
    job: &Job,
    record: &SetRecord,
    sha256: exhibit_core::Sha256Digest,
) -> exhibit_core::event::CustodyEvent {
    let mut event = ctx.event(Action::Assembled, Some(&job.exhibit), ToolInfo::exhibit(ASSEMBLE));
    event.inputs = record.members.iter().map(|m| InputRef { id: m.artefact.clone(), sha256: m.sha256 }).collect();
    event.set_params(EventParams::Assembled(AssembledParams {
        job_id: Some(job.job_id.0.clone()),
        set: Some(record.clone()),
        set_sha256: Some(sha256.to_hex()),
    }));
    event
}
