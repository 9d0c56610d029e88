//! What the ledger itself says an artefact is: the SHA-256 and size its
//! creating entries recorded, and the manifests they wrote. `get` and
//! `reproduce` trust these, never a manifest on its own, which anyone who
//! can write the store can rewrite.

use std::collections::BTreeMap;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::Action;
use exhibit_core::ids::ArtefactId;
use serde::{Deserialize, Serialize};

use super::Problem;
use crate::entry::LedgerEntry;

/// One entry's claim about an artefact's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashClaim {
    /// The entry.
    pub seq: u64,
    /// The SHA-256 it names for the artefact.
    pub sha256: Sha256Digest,
}

/// An artefact as its creating entries recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedArtefact {
    /// Content hash.
    pub sha256: Sha256Digest,
    /// Content size in bytes.
    pub size: u64,
    /// SHA-256 of every manifest an entry wrote for it.
    pub manifests: Vec<Sha256Digest>,
    /// The entries that created or described it.
    pub seqs: Vec<u64>,
}

/// Why the ledger gives no single answer for an artefact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordLookup {
    /// No entry created it.
    NotRecorded,
    /// Its entries disagree on its SHA-256 or size.
    Conflict(Vec<HashClaim>),
}

/// Entries made by reading an artefact (`get`, `reproduce`, bundles) name
/// it but do not define it.
fn defines(action: Action) -> bool {
    !matches!(action, Action::Accessed | Action::Verified | Action::Exported)
}

/// The artefact `id` as the defining entries among `entries` record it.
pub fn recorded_artefact(entries: &[LedgerEntry], id: &ArtefactId) -> Result<RecordedArtefact, RecordLookup> {
    let mut found: Option<RecordedArtefact> = None;
    let mut claims = Vec::new();
    let mut conflict = false;
    let events = entries.iter().flat_map(|e| e.events().iter().map(move |ev| (e.seq, ev)));
    for (seq, event) in events.filter(|(_, ev)| defines(ev.action)) {
        let Some(a) = event.artefact.as_ref().filter(|a| a.id.as_ref() == Some(id)) else { continue };
        claims.push(HashClaim { seq, sha256: a.sha256 });
        let record = found.get_or_insert_with(|| RecordedArtefact {
            sha256: a.sha256,
            size: a.size,
            manifests: Vec::new(),
            seqs: Vec::new(),
        });
        conflict |= record.sha256 != a.sha256 || record.size != a.size;
        record.seqs.push(seq);
        record.manifests.extend(a.manifest_sha256);
    }
    match found {
        None => Err(RecordLookup::NotRecorded),
        Some(_) if conflict => Err(RecordLookup::Conflict(claims)),
        Some(record) => Ok(record),
    }
}

/// Every artefact whose entries (any action) name more than one SHA-256.
pub(super) fn hash_conflicts(entries: &[LedgerEntry]) -> Vec<Problem> {
    let mut by_id: BTreeMap<&ArtefactId, Vec<HashClaim>> = BTreeMap::new();
    for (seq, event) in entries.iter().flat_map(|e| e.events().iter().map(move |ev| (e.seq, ev))) {
        let Some(a) = &event.artefact else { continue };
        if let Some(id) = &a.id {
            by_id.entry(id).or_default().push(HashClaim { seq, sha256: a.sha256 });
        }
    }
    by_id
        .into_iter()
        .filter(|(_, claims)| claims.iter().any(|c| c.sha256 != claims[0].sha256))
        .map(|(id, claims)| Problem::ArtefactHashConflict { artefact: id.clone(), claims })
        .collect()
}
