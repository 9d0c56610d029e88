//! Bundle reconciliation: the pages an operator says a paper bundle has,
//! against the pages OCR found in the exhibit's scans. (The jobs that join
//! each folder bundle's pages into one searchable PDF/A are queued by the
//! pipeline itself: see `exhibit_app`'s bundle gate.)

use std::collections::HashMap;

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::ExhibitRef;
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{EventParams, OcrParams, VerifiedParams};
use exhibit_pipeline::StageContext;
use serde_json::json;

/// Pages found in the exhibit: one count per scanned document, from its
/// latest event that counted them: a text output's, a "not OCRed" one's
/// (every page already text) or a skip's (OCR off: the page tree or IFD
/// chain walked, nothing decoded). A document OCRed under two policy
/// versions (another `[ocr] languages`) has a text output of each; its
/// pages are counted once.
fn pages_found(events: &[CustodyEvent], exhibit: &ExhibitRef) -> u64 {
    let mut by_document: HashMap<String, u64> = HashMap::new();
    for (i, e) in events.iter().enumerate().filter(|(_, e)| e.exhibit.as_ref() == Some(exhibit)) {
        let Some(pages) = e.ocr_params().filter(counts_pages).and_then(|p| p.pages) else {
            continue;
        };
        // An output without its input (none is written so) counts alone.
        let document = e.inputs.first().map_or_else(|| format!("#{i}"), |input| input.id.to_string());
        by_document.insert(document, pages);
    }
    by_document.values().sum()
}

/// Whether an `ocr` event's `pages` are a document's pages: its text
/// output, or the record that it was not OCRed (a bundle PDF's are not).
fn counts_pages(p: &OcrParams) -> bool {
    p.rule.as_deref() == Some("ocr-text") || (p.rule.is_none() && (p.skipped.is_some() || p.not_ocred.is_some()))
}

/// Records the comparison on the exhibit; a mismatch is a failed check
/// that `exhibit show`, `exhibit verify` and the ingest summary report.
/// A comparison equal to the exhibit's latest one (same expected and found
/// pages) is not recorded again, so rerunning with `--pages` adds nothing,
/// and the latest check is always the one that stands.
/// `events` are the exhibit's events so far, in ledger order (the summary's
/// facts, caught up after the run).
/// With OCR off for the exhibit no page is OCRed; the OCR stage counts
/// the pages of each document it skips, so they are counted alike.
pub async fn reconcile_pages(
    ctx: &StageContext,
    facts: &super::summary_facts::LedgerFacts,
    exhibit: &ExhibitRef,
    expected: u32,
) -> anyhow::Result<()> {
    let events = &facts.events;
    let found = pages_found(events, exhibit);
    let check = json!({"expected_pages": expected, "found_pages": found});
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `ocr-text` event of a one-page scan `input` under `languages`.
    fn ocr_text(input: &str, languages: &str) -> CustodyEvent {
        let event = serde_json::json!({
            "action": "ocr", "at": "2026-12-07T16:41:57Z", "case": "R7", "exhibit": "A1",
            "actor": {"host": "vm", "operator": "T", "process": 1, "public_key": "ssh-ed25519 AAAA exhibit"},
            "inputs": [{"id": input, "sha256": "a4f70f86d55138a65894432aa8bad9513ea05134d258710222648b8784b0fad1"}],
            "outcome": {"status": "ok"},
            "params": {"pages": 1, "policy_version": format!("ocr-2:{languages}:pdfa-2b"), "rule": "ocr-text", "schema": 1},
            "tool": {"name": "exhibit/ocr", "version": "0.1.0"},
        });
        serde_json::from_value(event).unwrap()
    }

    /// An `ocr` event of `input` without outputs: `params` are the skip's or the "not OCRed" one's.
    fn not_ocred(input: &str, params: serde_json::Value) -> CustodyEvent {
        let mut event = serde_json::to_value(ocr_text(input, "eng")).unwrap();
        let mut all = params;
        all["policy_version"] = "ocr-2:eng:pdfa-2b".into();
        all["schema"] = 1.into();
        event["params"] = all;
        serde_json::from_value(event).unwrap()
    }

    #[test]
    fn skips_and_already_text_documents_count_their_pages_and_bundles_do_not() {
        let ids = ["a8a52a650efa534a2c45ece21941d690", "b8a52a650efa534a2c45ece21941d690"];
        let mut events = vec![
            not_ocred(ids[0], json!({"pages": 3, "skipped": "OCR is off ([ocr] enabled = false)"})),
            not_ocred(ids[1], json!({"pages": 2, "not_ocred": "already text"})),
        ];
        // A skip with no count (a photo) and a bundle PDF's pages add nothing.
        events.push(not_ocred("c8a52a650efa534a2c45ece21941d690", json!({"skipped": "a camera photo"})));
        events.push(not_ocred(ids[0], json!({"pages": 5, "rule": exhibit_ocr::BUNDLE_RULE})));
        assert_eq!(pages_found(&events, &"A1".parse().unwrap()), 5);
    }

    #[test]
    fn a_page_ocred_under_two_policy_versions_counts_once() {
        let pages = ["a8a52a650efa534a2c45ece21941d690", "b8a52a650efa534a2c45ece21941d690"];
        let mut events: Vec<CustodyEvent> = pages.iter().map(|p| ocr_text(p, "eng")).collect();
        events.extend(pages.iter().map(|p| ocr_text(p, "eng+cym")));
        assert_eq!(pages_found(&events, &"A1".parse().unwrap()), 2);
    }
}
