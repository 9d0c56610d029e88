//! Which recorded failures still need a person. A `failed` event whose job
//! later completed (an `ok` event of the same job ID follows it) is
//! resolved: a video over `transcode.max_duration`, converted once the key
//! was raised, no longer needs attention. `show` and the summary apply the
//! rule to a ledger's events ([`failures_done_since`]); the HTTP API and
//! the dashboard to the read model ([`open_failures`]).

use std::collections::{HashMap, HashSet};

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};

use super::{JobStatus, NotableEvent, ReadModel};
use crate::error::Result;

/// The positions in `events` of failures whose job completed after them.
pub fn failures_done_since(events: &[CustodyEvent]) -> HashSet<usize> {
    // Each event's job ID, parsed once.
    let jobs: Vec<Option<String>> = events.iter().map(job_of).collect();
    let mut last_done: HashMap<&str, usize> = HashMap::new();
    for (i, (e, job)) in events.iter().zip(&jobs).enumerate() {
        if let (true, Some(job)) = (e.action != Action::Failed && matches!(e.outcome, Outcome::Ok), job) {
            last_done.insert(job, i);
        }
    }
    let done_after = |i: usize| jobs[i].as_deref().and_then(|j| last_done.get(j)).is_some_and(|d| *d > i);
    events.iter().enumerate().filter(|(i, e)| e.action == Action::Failed && done_after(*i)).map(|(i, _)| i).collect()
}

/// The `failed` events of `case` (of one exhibit, if given) that are not
/// resolved, in ledger order. The read model keeps each job's latest
/// outcome, so a failure is resolved when its job's latest event is a
/// success; a job that failed, completed, then failed again keeps both
/// failures listed (it needs a person either way).
pub async fn open_failures(
    model: &dyn ReadModel,
    case: &CaseId,
    exhibit: Option<&ExhibitRef>,
) -> Result<Vec<NotableEvent>> {
    let mut open = Vec::new();
    for notable in model.notable_events(case, exhibit).await? {
        if !matches!((&notable.event.action, &notable.event.outcome), (Action::Failed, Outcome::Failed { .. })) {
            continue;
        }
        if !resolved(model, case, &notable.event).await? {
            open.push(notable);
        }
    }
    Ok(open)
}

/// Whether `event` is a failure whose job's latest recorded outcome is a
/// success (`show` drops it, as the API and the summary do).
pub async fn resolved(model: &dyn ReadModel, case: &CaseId, event: &CustodyEvent) -> Result<bool> {
    if event.action != Action::Failed {
        return Ok(false);
    }
    Ok(match job_of(event) {
        Some(job) => model.job_status(case, &job).await? == Some(JobStatus::Done),
        None => false,
    })
}

fn job_of(event: &CustodyEvent) -> Option<String> {
    event.typed_params().ok().and_then(|p| p.job_id().map(str::to_owned))
}
