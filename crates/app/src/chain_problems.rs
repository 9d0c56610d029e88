//! The whole-ledger chain check as read-model problems: what `verify` and
//! the appending commands would refuse on, listed where `status`, the API
//! and the dashboard show a case's problems.

use exhibit_core::ids::CaseId;
use exhibit_custody::{LedgerSnapshot, TrustedKeys, check_read_ledger};
use exhibit_store::ObjectStore;

use crate::error::{AppError, Result};
use crate::readmodel::Problem;

/// What the chain check finds wrong with `case`'s ledger, each naming the
/// entry and the command that reports in full.
pub(crate) async fn chain_problems(
    store: &dyn ObjectStore,
    case: &CaseId,
    trusted: Option<&TrustedKeys>,
) -> Result<Vec<Problem>> {
    let snapshot = LedgerSnapshot::read(store, case)
        .await
        .map_err(|source| AppError::Ledger { case: case.to_string(), source })?;
    let checked = check_read_ledger(case, &snapshot, trusted);
    Ok(checked
        .problems
        .iter()
        .map(|problem| Problem {
            seq: problem.seq().unwrap_or(0),
            text: format!("the ledger fails its check: {problem}; run `exhibit verify --case {case}`"),
        })
        .collect())
}
