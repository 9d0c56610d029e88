//! What a command checks before it relies on a case's ledger: the chain
//! (every signature, link and sequence number, and with a trust file every
//! signer), and for `get` and `reproduce` that an artefact's manifest is
//! one the ledger recorded. Either failing is a [`Refused`], which exits 1
//! like a failed verify.

use std::fmt;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{LedgerEntry, RecordLookup, RecordedArtefact, TrustedKeys, recorded_artefact};
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
/// an entry wrote and agrees with the ledger's SHA-256 and size.
pub fn recorded_manifest(
    entries: &[LedgerEntry],
    id: &ArtefactId,
    manifest_bytes: &[u8],
    manifest: &ArtefactManifest,
) -> Result<RecordedArtefact, Refused> {
    let record = match recorded_artefact(entries, id) {
        Ok(record) => record,
        Err(RecordLookup::NotRecorded) => {
            return Err(Refused(format!(
                "artefact {id}: no ledger entry records it, although a manifest for it is stored (sha256 {}); run `exhibit verify`",
                manifest.digests.sha256
            )));
        }
        Err(RecordLookup::Conflict(claims)) => {
            let claims: Vec<String> = claims.iter().map(|c| format!("entry {} sha256 {}", c.seq, c.sha256)).collect();
            return Err(Refused(format!(
                "artefact {id}: ledger entries disagree on its content ({})",
                claims.join(", ")
            )));
        }
    };
    let manifest_hash = Sha256Digest::of(manifest_bytes);
    let same_content = manifest.digests.sha256 == record.sha256 && manifest.size == record.size;
    if !same_content || !record.manifests.contains(&manifest_hash) || manifest.id != *id {
        return Err(Refused(format!(
            "artefact {id}: its manifest (sha256 {}, {} bytes; manifest file sha256 {manifest_hash}) differs from the ledger (sha256 {}, {} bytes, recorded by entr{} {}): the manifest was altered; run `exhibit verify`",
            manifest.digests.sha256,
            manifest.size,
            record.sha256,
            record.size,
            if record.seqs.len() == 1 { "y" } else { "ies" },
            record.seqs.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(record)
}
