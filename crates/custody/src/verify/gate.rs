//! The ledger check commands run before they rely on a ledger (`ingest`,
//! `get`, `reproduce`, `introduce-key`): the same chain and signer walk as
//! `verify`, without re-hashing content. A forged entry with a bad
//! signature, a broken link or an untrusted signer makes it fail, so no
//! command builds on what an attacker planted.

use exhibit_core::ids::CaseId;
use exhibit_store::ObjectStore;
use tracing::{info, instrument};

use super::{HeadReceipt, Problem, chain, receipt, signers};
use crate::entry::LedgerEntry;
use crate::error::Result;
use crate::ledger::LedgerSnapshot;
use crate::trust::TrustedKeys;

/// A ledger after its chain check.
#[derive(Debug, Clone)]
pub struct CheckedLedger {
    /// Intact entries, in chain order. Rely on them only when
    /// [`CheckedLedger::problems`] is empty.
    pub entries: Vec<LedgerEntry>,
    /// What is wrong with the chain (entries, links, signatures, signers),
    /// first entry first.
    pub problems: Vec<Problem>,
    /// The last entry of the chain.
    pub head: Option<HeadReceipt>,
}

impl CheckedLedger {
    /// The first problem, when the chain cannot be relied on.
    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

/// Checks every entry's signature, the `prev` links, the sequence and, with
/// `trusted`, that every signer is pinned or introduced by a pinned key.
#[instrument(skip(store, trusted), fields(case = %case))]
pub async fn check_ledger(
    store: &dyn ObjectStore,
    case: &CaseId,
    trusted: Option<&TrustedKeys>,
) -> Result<CheckedLedger> {
    let snapshot = LedgerSnapshot::read(store, case).await?;
    Ok(check_read_ledger(case, &snapshot, trusted))
}

/// [`check_ledger`] over a ledger already read, so a command that also
/// opens the ledger for appending reads it once.
pub fn check_read_ledger(case: &CaseId, snapshot: &LedgerSnapshot, trusted: Option<&TrustedKeys>) -> CheckedLedger {
    let chain = chain::check(case, snapshot);
    let mut problems = chain.problems;
    problems.extend(signers::check(&chain.signed, trusted).problems);
    problems.extend(super::recorded::hash_conflicts(&chain.trusted));
    info!(entries = chain.entries, problems = problems.len(), "checked ledger chain");
    CheckedLedger { entries: chain.trusted, problems, head: receipt::head(&chain.hashes) }
}
