//! A case's problems, as `GET /v1/cases/{case}` and its `/status` both
//! list them: what the projection found in the ledger (a damaged entry, a
//! manifest that does not match), then every failed job not resolved by a
//! later success of the same job ([`exhibit_app::readmodel::open_failures`]),
//! each worded with the case's name, never its storage ID.

use exhibit_app::readmodel::{NotableEvent, Problem, open_failures};
use exhibit_core::event::Outcome;

use crate::ApiState;
use crate::case_names::{CaseNames, hidden};
use crate::dto::ProblemInfo;
use crate::error::ApiError;

/// The problems of the case `names`, given what the projection found
/// (`recorded`, from a status read that brought it up to date).
pub(crate) async fn case_problems(
    state: &ApiState,
    names: &CaseNames,
    recorded: Vec<Problem>,
) -> Result<Vec<ProblemInfo>, ApiError> {
    let failed = open_failures(state.reader.model().as_ref(), &names.id, None).await?;
    let mut problems: Vec<ProblemInfo> = recorded.into_iter().map(ProblemInfo::from).collect();
    problems.extend(failed.iter().filter_map(failed_job));
    for problem in &mut problems {
        problem.text = hidden(&problem.text, names);
    }
    Ok(problems)
}

/// A job that failed for good (a `failed` event) as a problem: which
/// stage, on what, and why.
fn failed_job(notable: &NotableEvent) -> Option<ProblemInfo> {
    let event = &notable.event;
    let Outcome::Failed { reason } = &event.outcome else { return None };
    let params = event.failed_params().unwrap_or_default();
    let stage = params.stage.as_deref().unwrap_or("ingest");
    let exhibit = event.exhibit.as_ref().map_or_else(String::new, |e| format!(" of exhibit {e}"));
    let reason = path_once(reason, params.input_path().unwrap_or_default());
    Some(ProblemInfo { seq: notable.seq, text: format!("{stage}{exhibit} failed: {reason}") })
}

/// `reason` naming `path` once where a stage named it twice
/// (`PATH: PATH has no EWF-E01 signature`).
fn path_once<'a>(reason: &'a str, path: &str) -> &'a str {
    let twice = reason.strip_prefix(path).and_then(|r| r.strip_prefix(": ")).filter(|r| r.starts_with(path));
    match twice {
        Some(rest) if !path.is_empty() => rest,
        _ => reason,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_named_twice_is_named_once() {
        assert_eq!(super::path_once("a/b: a/b has no signature", "a/b"), "a/b has no signature");
        assert_eq!(super::path_once("a/b: cannot be read", "a/b"), "a/b: cannot be read");
        assert_eq!(super::path_once("x", ""), "x");
    }
}
