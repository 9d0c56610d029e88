//! `verify --all`: every case in the store, for scheduled runs. The worst
//! case's verdict decides (failed over unchecked over trusted); a case that
//! cannot be checked at all counts as failed.

use std::collections::BTreeSet;

use exhibit_core::ids::CaseId;
use exhibit_core::layout::parse_case_from_key;
use exhibit_report::Verdict;
use exhibit_store::ObjectStore;

use crate::Result;

/// Every case with anything stored under it, in order.
pub async fn all_cases(store: &dyn ObjectStore) -> Result<Vec<CaseId>> {
    let cases: BTreeSet<CaseId> =
        store.list("cases/").await?.iter().filter_map(|meta| parse_case_from_key(meta.key.as_str())).collect();
    Ok(cases.into_iter().collect())
}

/// How many cases got each verdict, and the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerdictTally {
    /// Cases trusted, intact but unchecked, failed.
    pub counts: [usize; 3],
    /// The worst verdict so far.
    pub worst: Verdict,
}

impl Default for VerdictTally {
    fn default() -> Self {
        Self { counts: [0; 3], worst: Verdict::Trusted }
    }
}

impl VerdictTally {
    /// Counts one case's verdict.
    pub fn add(&mut self, verdict: Verdict) {
        self.counts[rank(verdict)] += 1;
        if rank(verdict) > rank(self.worst) {
            self.worst = verdict;
        }
    }

    /// Cases counted.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }
}

fn rank(v: Verdict) -> usize {
    match v {
        Verdict::Trusted => 0,
        Verdict::IntactUnchecked => 1,
        Verdict::Failed => 2,
    }
}
