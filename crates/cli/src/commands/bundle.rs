//! Bundle reconciliation: the pages an operator says a paper bundle has,
//! against the pages OCR found in the exhibit's scans. (The jobs that join
//! each folder bundle's pages into one searchable PDF/A are queued by the
//! pipeline itself: see `exhibit_app`'s bundle gate.)

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::ExhibitRef;
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{EventParams, VerifiedParams};
use exhibit_pipeline::StageContext;
use serde_json::json;

/// Pages found by OCR in the exhibit: one count per scanned document (from
/// its text output's event).
fn pages_found(events: &[CustodyEvent], exhibit: &ExhibitRef) -> u64 {
    events
        .iter()
        .filter(|e| e.exhibit.as_ref() == Some(exhibit))
        .filter_map(CustodyEvent::ocr_params)
        .filter(|p| p.rule.as_deref() == Some("ocr-text"))
        .filter_map(|p| p.pages)
        .sum()
}

/// Records the comparison on the exhibit; a mismatch is a failed check
/// that `exhibit show`, `exhibit verify` and the ingest summary report.
/// A comparison equal to the exhibit's latest one (same expected and found
/// pages) is not recorded again, so rerunning with `--pages` adds nothing,
/// and the latest check is always the one that stands.
/// `events` are the exhibit's events so far, in ledger order (the summary's
/// facts, caught up after the run).
/// With OCR off for the exhibit (by its item manifest row, else by the
/// configuration: `policy_off`) no page is OCRed, so the stored page files
/// themselves are counted (`"counted": "page-files"` in the check).
pub async fn reconcile_pages(
    ctx: &StageContext,
    facts: &super::summary_facts::LedgerFacts,
    exhibit: &ExhibitRef,
    expected: u32,
    policy_off: bool,
) -> anyhow::Result<()> {
    let events = &facts.events;
    let ocr_off = facts.item.as_ref().and_then(|i| i.ocr).map_or(policy_off, |on| !on);
    let (found, check) = if ocr_off {
        let found = facts.bundles.page_files();
        (found, json!({"expected_pages": expected, "found_pages": found, "counted": "page-files"}))
    } else {
        let found = pages_found(events, exhibit);
        (found, json!({"expected_pages": expected, "found_pages": found}))
    };
    let latest = events
        .iter()
        .rev()
        .filter(|e| e.exhibit.as_ref() == Some(exhibit))
        .find_map(|e| e.verified_params().and_then(|v| v.bundle));
    if latest.as_ref() == Some(&check) {
        return Ok(());
    }
    let mismatch = exhibit_ocr::reconcile(Some(expected), usize::try_from(found).unwrap_or(usize::MAX));
    let mut event = ctx.event(Action::Verified, Some(exhibit), ToolInfo::exhibit("bundle"));
    event.set_params(EventParams::Verified(VerifiedParams { bundle: Some(check), ..Default::default() }));
    if let Some(reason) = &mismatch {
        event.outcome = Outcome::Failed { reason: format!("exhibit {exhibit}: {reason}") };
    }
    ctx.record(event).await?;
    Ok(())
}
