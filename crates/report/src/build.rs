//! Assembling the report from a verify run, the ledger's events and the
//! stored manifests; and reading those from a store.

use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{manifest_key, manifests_prefix, parse_manifest_name};
use exhibit_core::manifest::ArtefactKind;
use exhibit_custody::{ENTRY_LIMIT, VerifyReport};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use serde_json::Value;
use tracing::{info, instrument};

use crate::artefacts::{ArtefactIndex, StoredManifest};
use crate::error::ReportError;
use crate::events::{self, rfc3339};
use crate::fixity::{AuditRecord, last_audits};
use crate::model::{AuditHistory, Counts, DerivativeCheck, ExhibitReport, IntegrityReport, ManifestState, Verdict};

/// Builds the report. `entries` are the case's parsed ledger entries with
/// their sequence numbers; `notes` are the verify run's notes.
#[instrument(skip_all, fields(case = %verify.case, entries = entries.len(), manifests = manifests.len()))]
pub fn build_report(
    verify: VerifyReport,
    notes: Vec<Value>,
    entries: &[(u64, CustodyEvent)],
    manifests: Vec<StoredManifest>,
) -> IntegrityReport {
    let index = ArtefactIndex::build(entries, manifests);
    let reproductions = events::reproductions(entries);
    let exhibits = index
        .exhibits()
        .into_iter()
        .map(|exhibit| {
            let mut section = exhibit_section(&index, entries, exhibit);
            for d in &mut section.derivatives {
                d.reproduced = reproductions.get(&d.artefact).cloned();
            }
            section
        })
        .collect();
    let report = IntegrityReport {
        generated_by: format!("{} {}", exhibit_core::TOOL_NAME, exhibit_core::TOOL_VERSION),
        generated_at: rfc3339(time::OffsetDateTime::now_utc()),
        verdict: Verdict::of(&verify),
        verify,
        notes,
        failures: events::failures(entries),
        audits: audit_history(entries),
        exhibits,
    };
    info!(exhibits = report.exhibits.len(), "built integrity report");
    report
}

fn exhibit_section(index: &ArtefactIndex, entries: &[(u64, CustodyEvent)], exhibit: ExhibitRef) -> ExhibitReport {
    let events = events::of_exhibit(entries, &exhibit);
    let artefacts = index.rows(&exhibit);
    let mut counts = Counts::default();
    let mut derivatives = Vec::new();
    for row in &artefacts {
        counts.bytes = counts.bytes.saturating_add(row.size);
        match row.kind {
            Some(ArtefactKind::Original) => counts.originals += 1,
            Some(ArtefactKind::Extracted) => counts.extracted += 1,
            Some(ArtefactKind::Derivative) => counts.derivatives += 1,
            None => {}
        }
        if row.manifest != ManifestState::Recorded {
            counts.unverified_manifests += 1;
        }
        if let Some(t) = index.trusted.get(&row.id) {
            if let Some(d) = &t.manifest.derivation {
                derivatives.push(DerivativeCheck {
                    artefact: row.id.clone(),
                    rule: d.rule.clone(),
                    input: t.manifest.parent.as_ref().map(|p| p.id.clone()),
                    reproduced: None,
                });
            }
        }
    }
    ExhibitReport {
        exhibit,
        item: events::latest_item(&events),
        counts,
        acquisitions: events::acquisitions(&events),
        image_checks: events::image_checks(&events),
        truncations: events::truncations(&events),
        review: events::review(&events, |id| index.name(id).unwrap_or_default()),
        derivatives,
        artefacts,
    }
}

fn audit_history(entries: &[(u64, CustodyEvent)]) -> AuditHistory {
    let mut history = AuditHistory::default();
    for (_, e) in entries {
        if AuditRecord::of(e).is_some() {
            history.entries += 1;
            history.latest = Some(rfc3339(e.at));
        }
    }
    history.failed_objects =
        last_audits(entries).into_iter().filter(|(_, (_, intact))| !intact).map(|(d, _)| d.to_hex()).collect();
    history
}

/// Reads every manifest stored under the case. A manifest that is too
/// large or unreadable is left out: the report shows its artefact with
/// the ledger's facts alone, and `verify` names the damage.
#[instrument(skip(store), fields(case = %case))]
pub async fn read_manifests(store: &dyn ObjectStore, case: &CaseId) -> Result<Vec<StoredManifest>, ReportError> {
    let prefix = manifests_prefix(case);
    let mut out = Vec::new();
    for meta in store.list(&prefix).await? {
        let name = meta.key.as_str().strip_prefix(prefix.as_str()).unwrap_or_default();
        let Some(id) = parse_manifest_name(name) else { continue };
        if manifest_key(case, &id) != meta.key || meta.size > ENTRY_LIMIT {
            continue;
        }
        match read_small(store, &meta.key, ENTRY_LIMIT).await {
            Ok(bytes) => out.push(StoredManifest { id, bytes }),
            Err(e)
                if matches!(
                    e.kind(),
                    StoreErrorKind::NotFound | StoreErrorKind::Corrupt | StoreErrorKind::TooLarge
                ) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}
