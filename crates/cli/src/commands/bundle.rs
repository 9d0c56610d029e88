//! Bundle reconciliation: the pages an operator says a paper bundle has,
//! against the pages OCR found in the exhibit's scans.

use exhibit_core::event::{Action, Outcome};
use exhibit_core::ids::ExhibitRef;
use exhibit_core::manifest::ToolInfo;
use exhibit_pipeline::StageContext;
use serde_json::json;

use crate::session::case_events;

/// Pages found by OCR in the exhibit: one count per scanned document (from
/// its text output's event).
async fn pages_found(ctx: &StageContext, exhibit: &ExhibitRef) -> anyhow::Result<u64> {
    let events = case_events(ctx.store.as_ref(), &ctx.case).await?;
    Ok(events
        .iter()
        .filter(|e| {
            e.action == Action::Ocr
                && e.exhibit.as_ref() == Some(exhibit)
                && e.params.get("rule").and_then(|r| r.as_str()) == Some("ocr-text")
        })
        .filter_map(|e| e.params.get("pages").and_then(|p| p.as_u64()))
        .sum())
}

/// Records the comparison on the exhibit; a mismatch is a failed check
/// that `exhibit show` and `exhibit verify` report.
pub async fn reconcile_pages(ctx: &StageContext, exhibit: &ExhibitRef, expected: u32) -> anyhow::Result<()> {
    let found = pages_found(ctx, exhibit).await?;
    let mismatch = exhibit_ocr::reconcile(Some(expected), usize::try_from(found).unwrap_or(usize::MAX));
    let mut event = ctx.event(Action::Verified, Some(exhibit), ToolInfo::exhibit("bundle"));
    event.params.insert("bundle".into(), json!({"expected_pages": expected, "found_pages": found}));
    if let Some(reason) = &mismatch {
        event.outcome = Outcome::Failed { reason: format!("exhibit {exhibit}: {reason}") };
        eprintln!("exhibit {exhibit}: page-count-mismatch: {reason}");
    }
    ctx.record(event).await?;
    Ok(())
}
