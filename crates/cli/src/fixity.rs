//! What a fixity audit re-hashes, in which order, and how. Everything
//! stored is enumerated by [`audit_targets`] as an [`AuditTarget`]: each
//! content object, and each file kept as a view into a stored image (see
//! [`crate::fixity_views`]). A view is its own target, named by artefact:
//! a copy elsewhere with the same SHA-256 says nothing about the view.

use std::collections::BTreeMap;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::object_key;
use exhibit_custody::LedgerEntry;
use exhibit_report::fixity::{last_audits, last_view_audits};
pub use exhibit_store::Fixity;
use exhibit_store::{ObjectStore, StoreError};
use tracing::instrument;

/// One thing an audit re-hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// A content object, stored under its SHA-256.
    Object {
        /// The SHA-256 it must still have.
        sha256: Sha256Digest,
        /// The artefacts whose content it is.
        artefacts: Vec<ArtefactId>,
    },
    /// A file kept as runs of a stored image, read through the image.
    View(Box<crate::fixity_views::ViewTarget>),
}

impl AuditTarget {
    /// The SHA-256 the audit record names it by.
    pub fn sha256(&self) -> Sha256Digest {
        match self {
            Self::Object { sha256, .. } => *sha256,
            Self::View(v) => v.sha256,
        }
    }

    /// What the schedule tells targets apart by.
    fn key(&self) -> (Option<&ArtefactId>, Sha256Digest) {
        match self {
            Self::Object { sha256, .. } => (None, *sha256),
            Self::View(v) => (Some(&v.id), v.sha256),
        }
    }

    /// What to call it when it fails.
    pub fn describe(&self) -> String {
        match self {
            Self::Object { sha256, artefacts } => {
                let ids: Vec<&str> = artefacts.iter().map(ArtefactId::as_str).collect();
                match ids.len() {
                    0 => format!("object {sha256}"),
                    _ => format!("object {sha256} (artefact {})", ids.join(", ")),
                }
            }
            Self::View(v) => format!("view {} (sha256 {}) into image {}", v.id, v.sha256, v.base_sha256()),
        }
    }
}

/// Everything the intact ledger names that is stored, with the entry
/// that first named it (its first check: the hash was computed when it
/// was stored).
pub fn audit_targets(entries: &[LedgerEntry]) -> Vec<(AuditTarget, u64)> {
    let mut objects: BTreeMap<Sha256Digest, (Vec<ArtefactId>, u64)> = BTreeMap::new();
    for (seq, event) in exhibit_custody::events_of(entries) {
        let named = event.artefact.iter().map(|a| (a.sha256, a.id.clone()));
        let inputs = event.inputs.iter().map(|i| (i.sha256, Some(i.id.clone())));
        for (sha256, id) in named.chain(inputs) {
            let (ids, _) = objects.entry(sha256).or_insert_with(|| (Vec::new(), seq));
            if let Some(id) = id.filter(|id| !ids.contains(id)) {
                ids.push(id);
            }
        }
    }
    objects.into_iter().map(|(sha256, (artefacts, seq))| (AuditTarget::Object { sha256, artefacts }, seq)).collect()
}

/// The targets to check now: the `percent` of them checked longest ago
/// (rounded up, so five 20% runs cover everything), oldest first. A
/// target's last check is its latest audit, or the entry that stored it.
pub fn schedule(
    targets: Vec<(AuditTarget, u64)>,
    entries: &[(u64, exhibit_core::event::CustodyEvent)],
    percent: u64,
) -> Vec<AuditTarget> {
    let audited = last_audits(entries);
    let audited_views = last_view_audits(entries);
    let last_check = |t: &AuditTarget| match t {
        AuditTarget::Object { sha256, .. } => audited.get(sha256).map(|(seq, _)| *seq),
        AuditTarget::View(v) => audited_views.get(&v.id).map(|(seq, _)| *seq),
    };
    let mut ordered: Vec<(u64, AuditTarget)> =
        targets.into_iter().map(|(t, stored)| (last_check(&t).unwrap_or(stored), t)).collect();
    ordered.sort_by(|(a, x), (b, y)| (a, x.key()).cmp(&(b, y.key())));
    let take = (ordered.len() as u64 * percent.min(100)).div_ceil(100) as usize;
    ordered.into_iter().take(take).map(|(_, t)| t).collect()
}

/// Re-hashes one target in full. `images` remembers each image's fixity,
/// so an image is read once for all of its views.
#[instrument(skip(store, images), fields(target = %target.sha256()))]
pub async fn rehash(
    store: &dyn ObjectStore,
    case: &CaseId,
    target: &AuditTarget,
    images: &mut crate::fixity_views::ImageFixity,
) -> Result<Fixity, StoreError> {
    match target {
        AuditTarget::Object { sha256, .. } => images.object(store, &object_key(case, sha256)).await,
        AuditTarget::View(v) => crate::fixity_views::rehash_view(store, case, v, images).await,
    }
}
