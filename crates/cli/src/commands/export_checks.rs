//! What `exhibit export` refuses before it creates anything: a case the
//! store does not hold, an exhibit the case never recorded, and a bag
//! folder inside the store.

use std::path::{Path, PathBuf};

use anyhow::Context;
use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::ledger_key;
use exhibit_store::ObjectStore;

/// The case as stored (the spelling `verify` and `get` resolve), or an
/// error (exit 2) when the store holds no such case: export never starts
/// a ledger.
pub async fn existing_case(store: &dyn ObjectStore, typed: &CaseId) -> anyhow::Result<CaseId> {
    let case = crate::spelling::resolve_case(store, typed).await?;
    store
        .head(&ledger_key(&case, 1))
        .await
        .with_context(|| format!("the store {} holds no case {typed}; nothing was exported", store.uri()))?;
    Ok(case)
}

/// The exhibit as the ledger recorded it, or an error (exit 2) when no
/// entry of the case names it.
pub fn recorded_exhibit<'a>(
    events: impl IntoIterator<Item = &'a CustodyEvent> + Clone,
    case: &CaseId,
    typed: &ExhibitRef,
) -> anyhow::Result<ExhibitRef> {
    let known = events.clone().into_iter().any(|e| e.exhibit.as_ref() == Some(typed));
    anyhow::ensure!(known, "case {case} records no exhibit {typed}; nothing was exported");
    Ok(crate::spelling::resolve_exhibit(events, typed))
}

/// Refuses a bag folder inside a local store: the bag would be written
/// among the objects it copies.
pub fn outside_store(store: &dyn ObjectStore, dir: &Path) -> anyhow::Result<()> {
    let uri = store.uri();
    let Some(root) = uri.strip_prefix("file://") else { return Ok(()) };
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| PathBuf::from(root));
    let inside = nearest_existing(dir).is_some_and(|p| p.starts_with(&root));
    anyhow::ensure!(
        !inside,
        "the bag folder {} is inside the store {}; choose a folder outside it",
        dir.display(),
        uri
    );
    Ok(())
}

/// `dir`, or its nearest existing ancestor, with links resolved.
fn nearest_existing(dir: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dir).ok()?;
    absolute.ancestors().find_map(|p| std::fs::canonicalize(p).ok())
}
