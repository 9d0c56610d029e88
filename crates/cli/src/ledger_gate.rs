//! What a command checks before it relies on a case's ledger: the chain
//! (every signature, link and sequence number, and with a trust file every
//! signer), and for `get` and `reproduce` that an artefact's manifest is
//! one the ledger recorded. Either failing is a [`Refused`], which exits 1
//! like a failed verify.

use std::fmt;

use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{LedgerEntry, RecordedArtefact, TrustedKeys};
use exhibit_store::ObjectStore;

/// A ledger or manifest that a command will not rely on.
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// The case's intact entries, once the whole chain checks out
/// ([`exhibit_app::case_open::checked_entries`]; [`Refused`] otherwise).
pub async fn checked_entries(
    store: &dyn ObjectStore,
    case: &CaseId,
    trusted: Option<&TrustedKeys>,
) -> anyhow::Result<Vec<LedgerEntry>> {
    exhibit_app::case_open::checked_entries(store, case, trusted).await.map_err(crate::session::app_error)
}

/// The artefact as the ledger records it, once its stored manifest is one
/// an entry wrote and agrees with the ledger's SHA-256 and size
/// ([`exhibit_app::artefact::recorded_manifest`]).
pub fn recorded_manifest(
    entries: &[LedgerEntry],
    id: &ArtefactId,
    manifest_bytes: &[u8],
    manifest: &ArtefactManifest,
) -> Result<RecordedArtefact, Refused> {
    exhibit_app::artefact::recorded_manifest(entries, id, manifest_bytes, manifest).map_err(|e| Refused(e.to_string()))
}
