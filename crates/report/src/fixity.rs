//! The fixity-audit record: what one `verified` event written by `exhibit
//! audit` holds in `params.audit`. It is additive (a new key in a
//! `verified` event's params), so ledgers written before audits existed
//! still parse and verify, and older readers ignore it.

use std::collections::BTreeMap;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::ArtefactId;
use exhibit_core::params::EventParams;
use serde::{Deserialize, Serialize};

/// The params key that marks a `verified` event as a fixity audit.
pub const PARAM_AUDIT: &str = "audit";

/// Objects one audit entry covers at most, so an entry stays far below
/// the ledger's 1 MiB entry limit (about 70 bytes per object).
pub const OBJECTS_PER_ENTRY: usize = 1_000;

/// What one audit entry checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// The share of the case the run was asked to check, in percent.
    pub sample_percent: u64,
    /// Objects re-hashed and found intact, by SHA-256.
    #[serde(default)]
    pub intact: Vec<Sha256Digest>,
    /// Objects that failed, with why.
    #[serde(default)]
    pub failed: Vec<AuditFailure>,
    /// Files kept as views into a stored image, read through the image and
    /// found intact, by artefact (a view has no object of its own, and a
    /// copy elsewhere may share its SHA-256).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intact_views: Vec<ArtefactId>,
}

/// One object an audit found altered or missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFailure {
    /// What was checked (the object's SHA-256).
    pub sha256: Sha256Digest,
    /// `altered` or `missing`.
    pub fault: String,
    /// Set when what failed is a view: the artefact whose bytes changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<ArtefactId>,
}

impl AuditRecord {
    /// The audit record of an event, if it is one.
    pub fn of(event: &CustodyEvent) -> Option<Self> {
        match event.typed_params() {
            Ok(EventParams::Verified(v)) => serde_json::from_value(v.audit?).ok(),
            _ => None,
        }
    }
}

/// The latest audit of each object: the sequence number of the entry that
/// checked it, and whether it was intact.
pub fn last_audits(entries: &[(u64, CustodyEvent)]) -> BTreeMap<Sha256Digest, (u64, bool)> {
    let mut last = BTreeMap::new();
    for (seq, event) in entries {
        let Some(record) = AuditRecord::of(event) else { continue };
        for sha256 in record.intact {
            last.insert(sha256, (*seq, true));
        }
        for failure in record.failed.into_iter().filter(|f| f.view.is_none()) {
            last.insert(failure.sha256, (*seq, false));
        }
    }
    last
}

/// The latest audit of each view, by artefact, as [`last_audits`].
pub fn last_view_audits(entries: &[(u64, CustodyEvent)]) -> BTreeMap<ArtefactId, (u64, bool)> {
    let mut last = BTreeMap::new();
    for (seq, event) in entries {
        let Some(record) = AuditRecord::of(event) else { continue };
        for id in record.intact_views {
            last.insert(id, (*seq, true));
        }
        for id in record.failed.into_iter().filter_map(|f| f.view) {
            last.insert(id, (*seq, false));
        }
    }
    last
}
