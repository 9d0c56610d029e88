//! Case IDs and exhibit references are compared by a normalised form
//! (`js/1` is `JS/1`, see `exhibit_core::ids`) but stored as first typed.
//! These find the spelling a store or a ledger already holds, so that a
//! second spelling reaches the same case and exhibit, and artefact IDs
//! (derived from the recorded text) stay the same.

use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{ledger_key, parse_case_from_key};
use exhibit_store::ObjectStore;

/// The case as the store holds it: the typed ID when its first ledger
/// entry is there under that spelling, else a stored case that compares
/// equal, else the typed ID (a new case). Only a spelling the store does
/// not hold costs a listing of `cases/`.
#[tracing::instrument(skip_all, fields(case = %typed))]
pub async fn resolve_case(store: &dyn ObjectStore, typed: &CaseId) -> anyhow::Result<CaseId> {
    if store.head(&ledger_key(typed, 1)).await.is_ok() {
        return Ok(typed.clone());
    }
    let listed = store.list("cases/").await?;
    let stored = listed.iter().filter_map(|meta| parse_case_from_key(meta.key.as_str())).find(|c| c == typed);
    Ok(match stored {
        Some(stored) if stored.as_str() != typed.as_str() => {
            crate::logging::notice(&format!("case {typed} is recorded as {stored}; using {stored}"));
            stored
        }
        _ => typed.clone(),
    })
}

/// The exhibit as the case's ledger first recorded it, if it compares
/// equal to the typed reference; else the typed reference (a new exhibit).
pub fn resolve_exhibit<'a>(events: impl IntoIterator<Item = &'a CustodyEvent>, typed: &ExhibitRef) -> ExhibitRef {
    let recorded = events.into_iter().filter_map(|e| e.exhibit.as_ref()).find(|e| *e == typed);
    match recorded {
        Some(recorded) if recorded.as_str() != typed.as_str() => {
            crate::logging::notice(&format!(
                "exhibit {typed} is recorded in this case as {recorded}; using {recorded}"
            ));
            recorded.clone()
        }
        _ => typed.clone(),
    }
}

/// The recorded spelling of an exhibit found for `typed`, announced when
/// it differs.
pub fn announce_recorded(typed: &ExhibitRef, recorded: ExhibitRef) -> ExhibitRef {
    if recorded.as_str() != typed.as_str() {
        crate::logging::notice(&format!("exhibit {typed} is recorded in this case as {recorded}; using {recorded}"));
    }
    recorded
}

/// [`resolve_case`] for a command that only reads or adds to an existing
/// case: a case the store does not hold is refused (exit 2), never
/// created.
pub async fn existing_case(store: &dyn ObjectStore, typed: &CaseId) -> anyhow::Result<CaseId> {
    let case = resolve_case(store, typed).await?;
    if store.head(&ledger_key(&case, 1)).await.is_err() {
        anyhow::bail!("case {typed} is not in the store {}; `exhibit cases` lists the cases it holds", store.uri());
    }
    Ok(case)
}
