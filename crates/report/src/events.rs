//! What the ledger's events say about one exhibit: acquisitions, E01
//! checks, truncation, OCR pages for review, reproductions and failures.

use std::collections::BTreeMap;

use exhibit_core::digest::Digests;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::{ArtefactId, ExhibitRef};
use exhibit_core::params::EventParams;
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;

use crate::model::{Acquisition, ImageCheck, RecordedFailure, Reproduction, ReviewPages};

pub(crate) fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn artefact_id(event: &CustodyEvent) -> Option<&ArtefactId> {
    event.artefact.as_ref()?.id.as_ref()
}

fn object(value: Option<&Value>) -> Map<String, Value> {
    value.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Events about `exhibit`, with their sequence numbers.
pub(crate) fn of_exhibit<'a>(entries: &'a [(u64, CustodyEvent)], exhibit: &ExhibitRef) -> Vec<&'a (u64, CustodyEvent)> {
    entries.iter().filter(|(_, e)| e.exhibit.as_ref() == Some(exhibit)).collect()
}

/// The exhibit's latest description (`described` events, the latest
/// counts); one that does not parse is `verify`'s to report.
pub(crate) fn latest_item(events: &[&(u64, CustodyEvent)]) -> Option<exhibit_core::item::ItemRecord> {
    events
        .iter()
        .rev()
        .filter(|(_, e)| e.action == Action::Described && e.outcome == Outcome::Ok)
        .find_map(|(_, e)| e.described_params().as_ref().and_then(exhibit_core::params::DescribedParams::item_record))
}

/// Each `acquired` event of the exhibit.
pub(crate) fn acquisitions(events: &[&(u64, CustodyEvent)]) -> Vec<Acquisition> {
    let mut out = Vec::new();
    for (seq, e) in events.iter().map(|p| (&p.0, &p.1)) {
        let (Ok(EventParams::Acquired(p)), Some(a)) = (e.typed_params(), &e.artefact) else { continue };
        let Some(id) = &a.id else { continue };
        let source = p.source_display();
        let digests: Option<Digests> = p.digests();
        let bad_ranges = p.bad_ranges();
        out.push(Acquisition {
            seq: *seq,
            artefact: id.clone(),
            operator: e.actor.operator.clone(),
            host: e.actor.host.clone(),
            at: rfc3339(e.at),
            source: source.unwrap_or_default().to_owned(),
            size: a.size,
            digests: digests.filter(|d| d.sha256 == a.sha256),
            bad_ranges,
            device: p.acquisition.clone(),
        });
    }
    out
}

/// Each E01 check explore recorded.
pub(crate) fn image_checks(events: &[&(u64, CustodyEvent)]) -> Vec<ImageCheck> {
    let mut out = Vec::new();
    for (seq, e) in events.iter().map(|p| (&p.0, &p.1)) {
        let Ok(EventParams::Verified(v)) = e.typed_params() else { continue };
        let Some(segments) = v.segments else { continue };
        let Some(input) = e.inputs.first() else { continue };
        out.push(ImageCheck {
            seq: *seq,
            artefact: input.id.clone(),
            segments,
            metadata: object(v.metadata.as_ref()),
            stored: object(v.stored.as_ref()),
            computed: object(v.computed.as_ref()),
            md5_matches: v.md5_matches,
            sha1_matches: v.sha1_matches,
            failed: failure_reason(e),
        });
    }
    out
}

fn failure_reason(e: &CustodyEvent) -> Option<String> {
    match &e.outcome {
        Outcome::Ok => None,
        Outcome::Failed { reason } => Some(reason.clone()),
    }
}

/// The `truncated` facts of the exhibit's `explored` events.
pub(crate) fn truncations(events: &[&(u64, CustodyEvent)]) -> Vec<Value> {
    events
        .iter()
        .filter_map(|(_, e)| match e.typed_params() {
            Ok(EventParams::Explored(p)) => p.truncated,
            _ => None,
        })
        .collect()
}

/// OCR outputs with pages flagged for review; `name` names an artefact.
pub(crate) fn review(events: &[&(u64, CustodyEvent)], name: impl Fn(&ArtefactId) -> String) -> Vec<ReviewPages> {
    let mut out = Vec::new();
    for (_, e) in events.iter().map(|p| (&p.0, &p.1)) {
        let Ok(EventParams::Ocr(ocr)) = e.typed_params() else { continue };
        let (Some(id), Some(pages)) = (artefact_id(e), ocr.needs_review) else {
            continue;
        };
        let pages: Vec<u64> = pages.iter().filter_map(|p| p["page"].as_u64()).map(|p| p.saturating_add(1)).collect();
        if !pages.is_empty() {
            out.push(ReviewPages { artefact: id.clone(), name: name(id), pages });
        }
    }
    out
}

/// The latest `reproduce` check of each artefact.
pub(crate) fn reproductions(entries: &[(u64, CustodyEvent)]) -> BTreeMap<ArtefactId, Reproduction> {
    let mut out = BTreeMap::new();
    for (seq, e) in entries {
        let Ok(EventParams::Verified(v)) = e.typed_params() else { continue };
        let Some(matched) = v.reproduced else { continue };
        let Some(id) = artefact_id(e) else { continue };
        let compared = v.compared.unwrap_or_default();
        out.insert(id.clone(), Reproduction { seq: *seq, at: rfc3339(e.at), matched, compared });
    }
    out
}

/// Every event whose outcome is a failure.
pub(crate) fn failures(entries: &[(u64, CustodyEvent)]) -> Vec<RecordedFailure> {
    let mut out = Vec::new();
    for (seq, e) in entries {
        let Some(reason) = failure_reason(e) else { continue };
        let action = serde_json::to_value(e.action).ok().and_then(|v| v.as_str().map(str::to_owned));
        out.push(RecordedFailure {
            seq: *seq,
            at: rfc3339(e.at),
            exhibit: e.exhibit.clone(),
            reason: format!("{}: {reason}", action.unwrap_or_default()),
        });
    }
    out
}
