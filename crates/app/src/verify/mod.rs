//! The `verify` use case: the archivist's check of a whole case, from one
//! read of its ledger. Besides the integrity report (problems, signers,
//! anchors, head), it gives the notes that need a person but are not
//! damage (OCR pages for review, bundle page counts, truncated images) and,
//! on request, the integrity report `exhibit_report` renders.
//! `verify --all` checks every case in the store ([`all_cases`],
//! [`VerdictTally`]).

mod all;
mod notes;

use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::CaseId;
use exhibit_custody::{LedgerSnapshot, VerifyOptions, VerifyReport};
use exhibit_report::{IntegrityReport, Verdict};
use exhibit_store::ObjectStore;
use serde_json::Value;
use tracing::instrument;

pub use all::{VerdictTally, all_cases};
pub use notes::{review_notes, review_text, truncation_notes};

use crate::Result;

/// One case verified.
#[derive(Debug, Clone)]
pub struct CaseVerification {
    /// What verify found.
    pub report: VerifyReport,
    /// Trusted, intact but unchecked, or failed.
    pub verdict: Verdict,
    /// Things a person should look at that are not damage, as JSON
    /// objects with a `kind` and a `text`.
    pub notes: Vec<Value>,
    /// The parsed ledger entries' events with their sequence numbers (the
    /// integrity report's input), from the same read as the report.
    pub events: Vec<(u64, CustodyEvent)>,
}

/// Verifies `case`, reading its ledger once: the chain, signers, anchors,
/// every object and manifest it names, and the notes of its events.
#[instrument(skip(store, options), fields(case = %case))]
pub async fn verify_case(store: &dyn ObjectStore, case: &CaseId, options: &VerifyOptions) -> Result<CaseVerification> {
    let snapshot = LedgerSnapshot::read(store, case).await?;
    let report = exhibit_custody::verify_read_case(store, case, &snapshot, options).await?;
    let events: Vec<(u64, CustodyEvent)> = snapshot.events().map(|(seq, e)| (seq, e.clone())).collect();
    drop(snapshot);
    let plain: Vec<CustodyEvent> = events.iter().map(|(_, e)| e.clone()).collect();
    let mut notes = review_notes(&plain);
    notes.extend(truncation_notes(&plain));
    Ok(CaseVerification { verdict: Verdict::of(&report), report, notes, events })
}

impl CaseVerification {
    /// The integrity report (`verify --report`, `--json`, and the one
    /// `export` puts into every bag): reads the case's manifests, not the
    /// ledger again.
    pub async fn integrity_report(&self, store: &dyn ObjectStore) -> Result<IntegrityReport> {
        let manifests = exhibit_report::read_manifests(store, &self.report.case).await?;
        Ok(exhibit_report::build_report(self.report.clone(), self.notes.clone(), &self.events, manifests))
    }
}
