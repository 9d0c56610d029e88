//! Opening a recorded artefact to hand it out (`get`, the HTTP download)
//! or to re-derive it (`reproduce`): its stored manifest, checked against
//! the case's ledger, which is read once for both the chain check and the
//! append that records what was done.
//!
//! The content hash and size come from the ledger, never the manifest
//! alone: anyone who can write the store can rewrite a manifest.

mod damage;
pub mod get;
mod ledger_gate;
pub mod reproduce;

use std::sync::Arc;

use exhibit_core::event::Actor;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::manifest_key;
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{RecordedArtefact, Signer};
use exhibit_pipeline::{CaseIndex, StageContext};
use exhibit_store::{ObjectStore, StoreErrorKind};
use tracing::instrument;

pub use damage::{is_damage, stored_error};
pub use ledger_gate::recorded_manifest;

use crate::case_open::{TrustPolicy, open_case};
use crate::{AppError, Result};

/// Which artefact, and who acts on it.
pub struct ArtefactRequest {
    /// The case, as the store spells it.
    pub case: CaseId,
    /// The artefact.
    pub artefact: ArtefactId,
    /// Who acts (operator or authenticated user), signing with `signer`.
    pub actor: Actor,
    /// The signing key what is done is recorded with.
    pub signer: Arc<Signer>,
}

/// An artefact's manifest as stored, with the bytes it was parsed from
/// (the ledger records their SHA-256).
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// The parsed manifest.
    pub manifest: ArtefactManifest,
    /// The stored file's bytes.
    pub bytes: Vec<u8>,
}

/// Reads and parses the stored manifest of `artefact`, at most `limit`
/// bytes. A missing one is [`AppError::StoreAt`] (not found: only the
/// ledger can say whether it was ever recorded); one grown past `limit` is
/// [`AppError::Damaged`], since exhibit never writes one that large.
#[instrument(skip(store), fields(case = %case, artefact = %artefact))]
pub async fn read_manifest(
    store: &dyn ObjectStore,
    case: &CaseId,
    artefact: &ArtefactId,
    limit: u64,
) -> Result<StoredManifest> {
    let key = manifest_key(case, artefact);
    let bytes = match exhibit_store::read_small(store, &key, limit).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == StoreErrorKind::TooLarge => {
            return Err(stored_error(e, &format!("the manifest of artefact {artefact} is damaged")));
        }
        Err(source) => {
            let what = format!("no artefact {artefact} in case {case}; list them with `exhibit show --case {case}`");
            return Err(AppError::StoreAt { what, source });
        }
    };
    let manifest = serde_json::from_slice(&bytes).map_err(|source| AppError::Unreadable {
        what: format!("manifest {key} is damaged; run `exhibit verify`"),
        source: Box::new(source),
    })?;
    Ok(StoredManifest { manifest, bytes })
}

/// A recorded artefact, its manifest checked against the ledger, with the
/// case's ledger open to record what is done with it.
pub struct OpenArtefact {
    /// The stored manifest, one an entry of the ledger wrote.
    pub manifest: ArtefactManifest,
    /// The artefact as the ledger records it.
    pub record: RecordedArtefact,
    /// The case's ledger and store, acting as the caller.
    pub context: Arc<StageContext>,
}

/// Opens the case of `stored` to record into, reading its ledger once:
/// the chain must check out (else [`AppError::Refused`]), the signing key
/// must be admitted ([`AppError::KeyNotAdmitted`]) and the manifest must be
/// one an entry recorded, agreeing on SHA-256 and size (else `Refused`).
#[instrument(skip_all, fields(case = %case, artefact = %stored.manifest.id))]
pub async fn open_artefact(
    store: Arc<dyn ObjectStore>,
    (signer, actor): (Arc<Signer>, Actor),
    trust: &TrustPolicy,
    case: &CaseId,
    stored: StoredManifest,
) -> Result<OpenArtefact> {
    let opened = open_case(store.clone(), case, signer, trust).await?;
    let record = recorded_manifest(&opened.entries, &stored.manifest.id, &stored.bytes, &stored.manifest)?;
    let context = StageContext::new(case.clone(), store, opened.ledger, actor, CaseIndex::default());
    Ok(OpenArtefact { manifest: stored.manifest, record, context: Arc::new(context) })
}
