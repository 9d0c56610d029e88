//! What a download relies on, and what it leaves behind: the case's ledger
//! checked as `exhibit get` checks it (every signature and link, with the
//! trusted keys every signer; the manifest one the ledger recorded), and
//! the `accessed` event that names the user, signed with the server's key.

use axum::http::StatusCode;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, Actor, ArtefactRef, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::manifest_key;
use exhibit_core::manifest::{ArtefactManifest, ToolInfo};
use exhibit_core::params::{AccessedParams, EventParams};
use exhibit_custody::{Ledger, RecordedArtefact, check_ledger, recorded_artefact};
use tracing::instrument;

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::Caller;

/// The largest manifest read.
const MANIFEST_LIMIT: u64 = 1 << 20;

fn refused(message: String) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "corrupt", message)
}

/// The artefact as the ledger records it, once the chain checks out and the
/// stored manifest is one an entry wrote, agreeing on SHA-256 and size.
#[instrument(skip_all, fields(case = %case, artefact = %manifest.id))]
pub async fn checked(
    state: &ApiState,
    case: &CaseId,
    manifest: &ArtefactManifest,
) -> Result<RecordedArtefact, ApiError> {
    let trusted = state.options.trusted.as_deref();
    let checked = check_ledger(state.store.as_ref(), case, trusted)
        .await
        .map_err(|e| ApiError::internal("cannot read the ledger", &e))?;
    if let Some(problem) = checked.first_problem() {
        return Err(refused(format!(
            "the ledger of case {case} fails its check, so nothing was sent: {problem}; run `exhibit verify --case {case}`"
        )));
    }
    let id = &manifest.id;
    let record = recorded_artefact(&checked.entries, id).map_err(|_| {
        refused(format!("artefact {id}: the ledger does not record it as one content; run `exhibit verify`"))
    })?;
    let bytes = exhibit_store::read_small(state.store.as_ref(), &manifest_key(case, id), MANIFEST_LIMIT)
        .await
        .map_err(|e| refused(format!("the manifest of artefact {id} cannot be read: {e}")))?;
    let stored: ArtefactManifest = serde_json::from_slice(&bytes)
        .map_err(|e| refused(format!("the manifest of artefact {id} does not parse: {e}")))?;
    let same = stored.digests.sha256 == record.sha256 && stored.size == record.size && stored.id == *id;
    if !same || !record.manifests.contains(&Sha256Digest::of(&bytes)) {
        return Err(refused(format!(
            "artefact {id}: its manifest differs from the ledger (sha256 {}, {} bytes); run `exhibit verify`",
            record.sha256, record.size
        )));
    }
    Ok(record)
}

/// Appends an `accessed` event for the caller, signed with the server's key.
#[instrument(skip_all, fields(case = %case, artefact = %manifest.id))]
pub async fn record_access(
    state: &ApiState,
    caller: &Caller,
    case: &CaseId,
    manifest: &ArtefactManifest,
    record: &RecordedArtefact,
    described: String,
) -> Result<(), ApiError> {
    let ledger = Ledger::open(state.store.clone(), case.clone(), state.signer.clone())
        .await
        .map_err(|e| ApiError::internal("cannot open the ledger", &e))?;
    admit(state, &ledger).await?;
    let mut event = CustodyEvent {
        at: time::OffsetDateTime::now_utc(),
        case: case.clone(),
        exhibit: Some(manifest.exhibit.clone()),
        action: Action::Accessed,
        artefact: Some(ArtefactRef {
            id: Some(manifest.id.clone()),
            sha256: record.sha256,
            size: record.size,
            manifest_sha256: None,
        }),
        inputs: Vec::new(),
        tool: ToolInfo::exhibit("serve"),
        params: Default::default(),
        actor: Actor {
            operator: caller.operator(),
            host: state.options.host.clone(),
            process: std::process::id(),
            public_key: state.signer.public_key_openssh(),
        },
        outcome: Outcome::Ok,
    };
    event.set_params(EventParams::Accessed(AccessedParams { output: Some(described), ..Default::default() }));
    ledger.append(event).await.map_err(|e| ApiError::internal("cannot record the access", &e))?;
    Ok(())
}

/// The server's key joins a case other keys signed only when the trusted
/// keys list it or the server was started with `--introduce-key`.
async fn admit(state: &ApiState, ledger: &Ledger) -> Result<(), ApiError> {
    let key = state.signer.public_key_openssh();
    let listed = state.options.trusted.as_ref().is_some_and(|t| t.lists(&key));
    if ledger.would_add_key().await && !listed && !state.options.introduce_key {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "signer_not_admitted",
            format!(
                "the server's signing key has never signed case {}; add it to the trusted keys or start the server with --introduce-key",
                ledger.case()
            ),
        ));
    }
    Ok(())
}
