//! What `exhibit export` reads from the store before writing anything: the
//! manifests (each one the ledger recorded, or the export is refused), the
//! checked ledger entries, and the anchors.

use std::collections::HashMap;

use anyhow::Context as _;
use exhibit_core::ids::{ArtefactId, CaseId, ExhibitRef};
use exhibit_core::layout::{anchors_prefix, manifests_prefix, parse_anchor_name, parse_manifest_name};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{LedgerEntry, RecordedArtefact};
use exhibit_export::{CaseSnapshot, StoredManifest, StoredRecord};
use exhibit_store::{ObjectStore, read_small};
use tracing::instrument;

use crate::ledger_gate::{Refused, recorded_manifest};

/// Largest manifest or anchor read, in bytes.
const RECORD_LIMIT: u64 = 1 << 20;

/// The snapshot to export, and what the ledger records of each artefact in
/// it (the content hash the reader checks against).
#[instrument(skip_all, fields(case = %case))]
pub async fn read_snapshot(
    store: &dyn ObjectStore,
    case: &CaseId,
    exhibit: Option<&ExhibitRef>,
    entries: &[LedgerEntry],
    report: Option<Vec<u8>>,
) -> anyhow::Result<(CaseSnapshot, HashMap<ArtefactId, RecordedArtefact>)> {
    let mut artefacts = Vec::new();
    let mut records = HashMap::new();
    for meta in store.list(&manifests_prefix(case)).await? {
        let name = meta.key.as_str().rsplit('/').next().unwrap_or_default();
        let Some(id) = parse_manifest_name(name) else { continue };
        let bytes = read_small(store, &meta.key, RECORD_LIMIT).await?;
        let manifest: ArtefactManifest = serde_json::from_slice(&bytes)
            .map_err(|e| Refused(format!("manifest {} does not parse ({e}); run `exhibit verify`", meta.key)))?;
        if exhibit.is_some_and(|x| *x != manifest.exhibit) {
            continue;
        }
        let record = recorded_manifest(entries, &id, &bytes, &manifest)?;
        records.insert(id, record);
        artefacts.push(StoredManifest { manifest, bytes });
    }
    let ledger = entries
        .iter()
        .map(|e| Ok(StoredRecord { seq: e.seq, bytes: e.file_bytes()? }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let head = match entries.last() {
        Some(last) => Some((last.seq, last.body_sha256()?.to_hex())),
        None => None,
    };
    let snapshot = CaseSnapshot {
        case: case.clone(),
        exhibit: exhibit.cloned(),
        artefacts,
        ledger,
        events: exhibit_custody::events_of(entries).map(|(seq, e)| (seq, e.clone())).collect(),
        anchors: read_anchors(store, case).await?,
        head,
        report,
        listings: Vec::new(),
    };
    Ok((snapshot, records))
}

async fn read_anchors(store: &dyn ObjectStore, case: &CaseId) -> anyhow::Result<Vec<StoredRecord>> {
    let mut anchors = Vec::new();
    for meta in store.list(&anchors_prefix(case)).await? {
        let name = meta.key.as_str().rsplit('/').next().unwrap_or_default();
        let Some(seq) = parse_anchor_name(name) else { continue };
        let bytes = read_small(store, &meta.key, RECORD_LIMIT)
            .await
            .with_context(|| format!("cannot read the anchor {}", meta.key))?;
        anchors.push(StoredRecord { seq, bytes });
    }
    Ok(anchors)
}

/// The DFXML listing of each exported exhibit that has explored images,
/// each in a temporary file that lives as long as the result.
pub async fn write_listings(
    store: &dyn ObjectStore,
    snapshot: &CaseSnapshot,
) -> anyhow::Result<Vec<(ExhibitRef, tempfile::NamedTempFile)>> {
    let events: Vec<_> = snapshot.events.iter().map(|(_, e)| e.clone()).collect();
    let exhibits: std::collections::BTreeSet<&ExhibitRef> =
        snapshot.artefacts.iter().map(|a| &a.manifest.exhibit).collect();
    let mut files = Vec::new();
    for exhibit in exhibits {
        let mut file = tempfile::NamedTempFile::new().context("cannot make a temporary file for a listing")?;
        let mut out = std::io::BufWriter::new(file.as_file_mut());
        let written = super::listing::write_dfxml(store, &events, &snapshot.case, exhibit, &mut out).await?;
        std::io::Write::flush(&mut out)?;
        drop(out);
        if written {
            files.push((exhibit.clone(), file));
        }
    }
    Ok(files)
}
