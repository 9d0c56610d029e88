//! Whether an artefact's stored manifest is one the ledger recorded.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{LedgerEntry, RecordLookup, RecordedArtefact, recorded_artefact};

use crate::{AppError, Result};

/// The artefact as the ledger records it, once its stored manifest is one
/// an entry wrote and agrees with the ledger's SHA-256 and size; otherwise
/// [`AppError::Refused`].
pub fn recorded_manifest(
    entries: &[LedgerEntry],
    id: &ArtefactId,
    manifest_bytes: &[u8],
    manifest: &ArtefactManifest,
) -> Result<RecordedArtefact> {
    let record = match recorded_artefact(entries, id) {
        Ok(record) => record,
        Err(RecordLookup::NotRecorded) => {
            return Err(AppError::Refused(format!(
                "artefact {id}: no ledger entry records it, although a manifest for it is stored (sha256 {}); run `exhibit verify`",
                manifest.digests.sha256
            )));
        }
        Err(RecordLookup::Conflict(claims)) => {
            let claims: Vec<String> = claims.iter().map(|c| format!("entry {} sha256 {}", c.seq, c.sha256)).collect();
            return Err(AppError::Refused(format!(
                "artefact {id}: ledger entries disagree on its content ({})",
                claims.join(", ")
            )));
        }
    };
    let manifest_hash = Sha256Digest::of(manifest_bytes);
    let same_content = manifest.digests.sha256 == record.sha256 && manifest.size == record.size;
    if !same_content || !record.manifests.contains(&manifest_hash) || manifest.id != *id {
        return Err(AppError::Refused(format!(
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
