//! Listing problems found outside a projection (a ledger that lost
//! entries, the whole chain check) among a case's problems, each once,
//! without moving the projection.

use exhibit_core::ids::CaseId;
use tracing::warn;

use super::{Cursor, Problem, Projection, ReadModel};
use crate::error::{AppError, Result};

/// Lists `problems` among the case's problems (each once), without moving
/// the projection from `cursor`.
pub(crate) async fn list_problems(
    model: &dyn ReadModel,
    case: &CaseId,
    cursor: Option<&Cursor>,
    problems: &[Problem],
) -> Result<()> {
    let Some(at) = cursor else { return Ok(()) };
    let listed = model.problems(case).await?;
    let new: Vec<Problem> = problems.iter().filter(|p| !listed.contains(p)).cloned().collect();
    if new.is_empty() {
        return Ok(());
    }
    let projection = Projection { problems: new, ..Projection::default() };
    match model.apply(case, Some(at), at, &projection).await {
        // Another process moved the projection on: the next check lists them.
        Err(AppError::Conflict { .. }) => {
            warn!("the read model moved on; the chain's problems are listed by the next check");
            Ok(())
        }
        other => other,
    }
}
