//! Checks of what the ledger names: content objects (re-hashed in full) and
//! manifests (hash and fields against the recording entry).

use std::collections::{BTreeMap, BTreeSet};

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::{
    ObjectKey, manifest_key, manifests_prefix, object_key, objects_prefix, parse_manifest_name,
};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_store::{Fixity, ObjectStore, StoreErrorKind, read_small};
use tracing::{debug, instrument, warn};

use super::Problem;
use crate::entry::LedgerEntry;
use crate::error::Result;
use crate::ledger::ENTRY_LIMIT;

/// What an entry recorded about a manifest it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RecordedManifest {
    pub(super) manifest_sha256: Sha256Digest,
    sha256: Sha256Digest,
    size: u64,
}

/// Everything the intact entries name.
#[derive(Debug, Default)]
pub(super) struct Refs {
    /// Content hash to the artefacts that have it.
    pub objects: BTreeMap<Sha256Digest, BTreeSet<ArtefactId>>,
    /// Artefact to the manifests recorded for it.
    pub manifests: BTreeMap<ArtefactId, Vec<RecordedManifest>>,
    artefacts: BTreeSet<ArtefactId>,
}

impl Refs {
    pub fn collect(entries: &[LedgerEntry]) -> Self {
        let mut refs = Self::default();
        for event in entries.iter().flat_map(LedgerEntry::events) {
            if let Some(a) = &event.artefact {
                let ids = refs.objects.entry(a.sha256).or_default();
                if let Some(id) = &a.id {
                    ids.insert(id.clone());
                    refs.artefacts.insert(id.clone());
                    if let Some(m) = a.manifest_sha256 {
                        let rec = RecordedManifest { manifest_sha256: m, sha256: a.sha256, size: a.size };
                        refs.manifests.entry(id.clone()).or_default().push(rec);
                    }
                }
            }
            for input in &event.inputs {
                refs.objects.entry(input.sha256).or_default().insert(input.id.clone());
                refs.artefacts.insert(input.id.clone());
            }
        }
        refs
    }

    pub fn artefact_count(&self) -> u64 {
        self.artefacts.len() as u64
    }
}

/// Re-hashes every named object; reports altered, missing and extra ones.
#[instrument(skip_all, fields(case = %case, objects = refs.objects.len()))]
pub(super) async fn check_objects(store: &dyn ObjectStore, case: &CaseId, refs: &Refs) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for meta in store.list(&objects_prefix(case)).await? {
        match meta.key.content_sha256() {
            Some(d) if object_key(case, &d) == meta.key && refs.objects.contains_key(&d) => {
                listed.insert(d);
            }
            Some(d) if object_key(case, &d) == meta.key => {
                problems.push(Problem::ObjectNotInLedger { key: meta.key.to_string() });
            }
            _ => problems.push(Problem::UnexpectedFile { key: meta.key.to_string() }),
        }
    }
    let mut intact = BTreeSet::new();
    let mut unlisted = BTreeSet::new();
    for (sha256, ids) in &refs.objects {
        let artefacts: Vec<ArtefactId> = ids.iter().cloned().collect();
        if !listed.contains(sha256) {
            unlisted.insert(*sha256);
            continue;
        }
        match rehash(store, object_key(case, sha256)).await? {
            Fixity::Intact => {
                debug!(%sha256, "object intact");
                intact.insert(*sha256);
            }
            Fixity::Altered => problems.push(Problem::ObjectAltered { sha256: *sha256, artefacts }),
            Fixity::Missing => problems.push(Problem::ObjectMissing { sha256: *sha256, artefacts }),
        }
    }
    // Views are checked as views; content with no object and no view is missing.
    let (views, missing) = super::views::find_views(store, case, refs, &unlisted).await?;
    for sha256 in missing {
        let artefacts = refs.objects.get(&sha256).map(|ids| ids.iter().cloned().collect()).unwrap_or_default();
        problems.push(Problem::ObjectMissing { sha256, artefacts });
    }
    problems.extend(super::views::check_views(store, case, views, &intact).await?);
    Ok(problems)
}

/// Re-hashes an object in full ([`exhibit_store::rehash_object`]: on the
/// local store, read and hashed on two threads).
async fn rehash(store: &dyn ObjectStore, key: ObjectKey) -> Result<Fixity> {
    Ok(exhibit_store::rehash_object(store, &key).await?)
}

/// Checks every recorded manifest; reports altered, missing and extra ones.
#[instrument(skip_all, fields(case = %case, manifests = refs.manifests.len()))]
pub(super) async fn check_manifests(store: &dyn ObjectStore, case: &CaseId, refs: &Refs) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let prefix = manifests_prefix(case);
    let mut listed = BTreeMap::new();
    for meta in store.list(&prefix).await? {
        let name = meta.key.as_str().strip_prefix(prefix.as_str()).unwrap_or_default();
        match parse_manifest_name(name) {
            Some(id) if manifest_key(case, &id) == meta.key => {
                if !refs.manifests.contains_key(&id) {
                    problems.push(Problem::ManifestNotInLedger { artefact: id.clone() });
                }
                listed.insert(id, meta.size);
            }
            _ => problems.push(Problem::UnexpectedFile { key: meta.key.to_string() }),
        }
    }
    for (id, recorded) in &refs.manifests {
        let problem = match listed.get(id) {
            None => Some(Problem::ManifestMissing { artefact: id.clone() }),
            Some(&size) if size > ENTRY_LIMIT => Some(Problem::ManifestAltered { artefact: id.clone() }),
            Some(_) => check_manifest(store, case, id, recorded).await?,
        };
        problems.extend(problem);
    }
    Ok(problems)
}

async fn check_manifest(
    store: &dyn ObjectStore,
    case: &CaseId,
    id: &ArtefactId,
    recorded: &[RecordedManifest],
) -> Result<Option<Problem>> {
    let bytes = match read_small(store, &manifest_key(case, id), ENTRY_LIMIT).await {
        Ok(b) => b,
        Err(e) if e.kind() == StoreErrorKind::NotFound => {
            return Ok(Some(Problem::ManifestMissing { artefact: id.clone() }));
        }
        Err(e) if matches!(e.kind(), StoreErrorKind::Corrupt | StoreErrorKind::TooLarge) => {
            return Ok(Some(Problem::ManifestAltered { artefact: id.clone() }));
        }
        Err(e) => return Err(e.into()),
    };
    let hash = Sha256Digest::of(&bytes);
    let matches_record = |m: &ArtefactManifest| {
        recorded.iter().any(|r| r.manifest_sha256 == hash && r.sha256 == m.digests.sha256 && r.size == m.size)
    };
    let intact = serde_json::from_slice::<ArtefactManifest>(&bytes)
        .is_ok_and(|m| m.id == *id && m.case == *case && matches_record(&m));
    if intact {
        Ok(None)
    } else {
        warn!(artefact = %id, "manifest differs from the ledger's record");
        Ok(Some(Problem::ManifestAltered { artefact: id.clone() }))
    }
}

/// Names the entries after the head as missing when stored files that only
/// a later entry would record are there. Files that an existing but
/// altered entry names (`altered`) are that entry's, not a deleted tail's.
pub(super) fn tail_missing(after: u64, content: &[Problem], altered: &Refs) -> Option<Problem> {
    let mut manifests = Vec::new();
    let mut objects = Vec::new();
    let altered_object =
        |key: &str| altered.objects.keys().any(|d| key.ends_with(&d.to_hex()) && key.contains("/objects/sha256/"));
    for p in content {
        match p {
            Problem::ManifestNotInLedger { artefact } if !altered.manifests.contains_key(artefact) => {
                manifests.push(artefact.clone())
            }
            Problem::ObjectNotInLedger { key } if !altered_object(key) => objects.push(key.clone()),
            _ => {}
        }
    }
    (!manifests.is_empty() || !objects.is_empty()).then_some(Problem::TailMissing { after, manifests, objects })
}
