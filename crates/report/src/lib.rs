//! The integrity report of a case, for archivists, courts and the
//! defence: one data model ([`IntegrityReport`]) built from a verify run,
//! the ledger and the stored manifests, rendered as one self-contained,
//! accessible HTML page ([`render_report`]) or serialised as JSON.
//!
//! It opens with the verdict, the ledger head, the signers and their
//! trust, the anchors, the problems and the recorded failures; then each
//! exhibit: acquisition, E01 checks, pages for review, derivatives and
//! their reproduction, and every artefact with digests and lineage.
//! Evidence-derived text is escaped by [`escape::html`].
//!
//! ```no_run
//! # async fn demo(store: &dyn exhibit_store::ObjectStore, case: &exhibit_core::ids::CaseId,
//! #     entries: Vec<(u64, exhibit_core::event::CustodyEvent)>) -> Result<(), Box<dyn std::error::Error>> {
//! let verify = exhibit_custody::verify_case(store, case).await?;
//! let manifests = exhibit_report::read_manifests(store, case).await?;
//! let report = exhibit_report::build_report(verify, Vec::new(), &entries, manifests);
//! std::fs::write("report.html", exhibit_report::render_report(&report))?;
//! # Ok(()) }
//! ```

mod artefacts;
mod build;
mod error;
pub mod escape;
mod events;
pub mod fixity;
mod html;
mod html_exhibit;
mod html_summary;
mod model;

pub use artefacts::StoredManifest;
pub use build::{build_report, read_manifests};
pub use error::ReportError;
pub use html::render_report;
pub use model::{
    Acquisition, ArtefactRow, AuditHistory, Counts, DerivativeCheck, ExhibitReport, ImageCheck, IntegrityReport,
    ManifestState, RecordedFailure, Reproduction, ReviewPages, Verdict,
};
