//! Turning ledger entries into a [`Projection`]: the artefacts they record
//! (with their manifests, checked against the SHA-256 the ledger holds),
//! the exhibits they name, the jobs they finish and the events `show`
//! reports on.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::manifest_key;
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::StoredEntry;
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};

use super::{JobRecord, JobStatus, NotableEvent, Problem, Projection};
use crate::error::Result;

/// Largest manifest read; the store's own manifests are far smaller.
const MANIFEST_LIMIT: u64 = 1 << 20;

/// Projects `entries` (in ledger order) of `case`. A damaged entry or a
/// manifest that does not match the ledger becomes a [`Problem`]; only a
/// store that cannot be read fails the projection.
pub async fn project_entries(store: &dyn ObjectStore, case: &CaseId, entries: &[StoredEntry]) -> Result<Projection> {
    let mut out = Projection::default();
    for stored in entries {
        out.entries += 1;
        match &stored.parsed {
            Ok(entry) => {
                for (pos, event) in entry.events().iter().enumerate() {
                    let pos = u32::try_from(pos).unwrap_or(u32::MAX);
                    project_event(store, case, stored.seq, pos, event, &mut out).await?;
                }
            }
            Err(e) => out.problems.push(Problem {
                seq: stored.seq,
                text: format!("ledger entry {} does not parse ({e}); run `exhibit verify --case {case}`", stored.seq),
            }),
        }
    }
    Ok(out)
}

async fn project_event(
    store: &dyn ObjectStore,
    case: &CaseId,
    seq: u64,
    pos: u32,
    event: &CustodyEvent,
    out: &mut Projection,
) -> Result<()> {
    if let Some(exhibit) = &event.exhibit {
        let item = (event.action == Action::Described && event.outcome == Outcome::Ok)
            .then(|| event.described_params().and_then(|p| p.item))
            .flatten();
        out.exhibits.push((exhibit.clone(), item));
    }
    if is_notable(event) {
        out.notable.push(NotableEvent { seq, pos, event: event.clone() });
    }
    if let Some(job) = job_record(seq, event) {
        out.jobs.push(job);
    }
    if event.outcome == Outcome::Ok
        && let Some(artefact) = &event.artefact
        && let (Some(id), Some(expected)) = (&artefact.id, &artefact.manifest_sha256)
    {
        match recorded_manifest(store, case, id, expected).await? {
            Ok(manifest) => out.artefacts.push(manifest),
            Err(text) => out.problems.push(Problem { seq, text }),
        }
    }
    Ok(())
}

/// Events `show` names: failures, item descriptions, truncated images,
/// damaged E01 sets, PDFs that were not OCRed and files OCR skipped.
fn is_notable(event: &CustodyEvent) -> bool {
    match event.action {
        Action::Failed | Action::Described => true,
        Action::Explored => event.explored_params().is_some_and(|p| p.truncated.is_some()),
        Action::Ocr => event.ocr_params().is_some_and(|p| p.not_ocred.is_some() || p.skipped.is_some()),
        // Every page count check (`--pages`): the latest of an exhibit
        // stands, so a passing one must be seen to clear a failed one
        // (`show --flag page-count-mismatch`).
        // An E01 set whose media fails its checksums or stored hash
        // (`show --flag damaged-media`).
        Action::Verified => event.verified_params().is_some_and(|p| {
            p.bundle.is_some() || (p.segments.is_some() && matches!(event.outcome, Outcome::Failed { .. }))
        }),
        _ => false,
    }
}

fn job_record(seq: u64, event: &CustodyEvent) -> Option<JobRecord> {
    let job_id = event.typed_params().ok().and_then(|p| p.job_id().map(str::to_owned));
    let status = match event.outcome {
        Outcome::Ok => JobStatus::Done,
        Outcome::Failed { .. } => JobStatus::Failed,
    };
    let job_id = match (job_id, status) {
        (Some(id), _) => id,
        (None, JobStatus::Failed) => format!("seq:{seq}"),
        (None, JobStatus::Done) => return None,
    };
    let action = serde_json::to_value(event.action).ok()?.as_str()?.to_owned();
    Some(JobRecord { job_id, exhibit: event.exhibit.clone(), action, status })
}

/// The manifest the ledger records for `id`, or why it cannot be shown.
async fn recorded_manifest(
    store: &dyn ObjectStore,
    case: &CaseId,
    id: &exhibit_core::ids::ArtefactId,
    expected: &Sha256Digest,
) -> Result<Result<ArtefactManifest, String>> {
    let key = manifest_key(case, id);
    let bytes = match read_small(store, &key, MANIFEST_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) if matches!(e.kind(), StoreErrorKind::NotFound | StoreErrorKind::Corrupt | StoreErrorKind::TooLarge) => {
            return Ok(Err(format!("manifest {key} cannot be read ({e}); run `exhibit verify --case {case}`")));
        }
        Err(e) => return Err(e.into()),
    };
    if Sha256Digest::of(&bytes) != *expected {
        return Ok(Err(format!(
            "manifest {key} is not the one the ledger records; run `exhibit verify --case {case}`"
        )));
    }
    Ok(serde_json::from_slice(&bytes)
        .map_err(|e| format!("manifest {key} does not parse ({e}); run `exhibit verify --case {case}`")))
}
