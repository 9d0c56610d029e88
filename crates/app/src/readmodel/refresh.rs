//! Bringing a case's projection up to the ledger's head: from the entry
//! after its cursor, in chunks, each applied in one transaction. The ledger
//! is read by probing `seq + 1, seq + 2...` until an entry is not there, so
//! a warm refresh costs two small reads (the cursor's entry, to check it,
//! and the next one), not a read of the whole ledger.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ledger_key;
use exhibit_custody::{ENTRY_LIMIT, EntryError, LedgerEntry, StoredEntry};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use tracing::{info, instrument, warn};

use super::{Cursor, ReadModel, project_entries};
use crate::error::{AppError, Result};

/// Entries projected per transaction: bounds memory on a rebuild.
const CHUNK: usize = 1000;

/// Refreshes lost to another writer before giving up.
const MAX_CONFLICTS: u32 = 100;

/// What a refresh did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Entries read and applied.
    pub applied: u64,
    /// Whether the case was projected from entry 1.
    pub rebuilt: bool,
    /// The last entry now projected (0 for an empty ledger).
    pub head: u64,
}

/// Brings `case` in `model` up to the head of its ledger in `store`.
#[instrument(skip(store, model), fields(case = %case))]
pub async fn refresh(store: &dyn ObjectStore, model: &dyn ReadModel, case: &CaseId) -> Result<RefreshReport> {
    let mut report = RefreshReport::default();
    for _ in 0..MAX_CONFLICTS {
        let mut cursor = model.cursor(case).await?;
        if let Some(at) = &cursor
            && !still_matches(store, case, at).await?
        {
            warn!(seq = at.seq, "the ledger no longer matches the read model; rebuilding it");
            model.drop_case(case).await?;
            cursor = None;
        }
        report.rebuilt |= cursor.is_none();
        match read_on(store, model, case, cursor, &mut report).await {
            Err(AppError::Conflict { .. }) => continue,
            other => {
                other?;
                info!(applied = report.applied, head = report.head, rebuilt = report.rebuilt, "read model refreshed");
                return Ok(report);
            }
        }
    }
    Err(AppError::Conflict { case: case.to_string() })
}

/// Applies every entry after `cursor`, chunk by chunk.
async fn read_on(
    store: &dyn ObjectStore,
    model: &dyn ReadModel,
    case: &CaseId,
    mut cursor: Option<Cursor>,
    report: &mut RefreshReport,
) -> Result<()> {
    loop {
        let from = cursor.as_ref().map_or(1, |c| c.seq + 1);
        let chunk = read_chunk(store, case, from).await?;
        let Some(last) = chunk.last() else {
            report.head = last_seq(&cursor);
            return Ok(());
        };
        let next = Cursor { seq: last.seq, entry_sha256: Sha256Digest::of(&last.bytes).to_hex() };
        let projection = project_entries(store, case, &chunk).await?;
        model.apply(case, cursor.as_ref(), &next, &projection).await?;
        report.applied += projection.entries;
        cursor = Some(next);
        if chunk.len() < CHUNK {
            // The chunk ended at a missing entry: that is the head.
            report.head = last_seq(&cursor);
            return Ok(());
        }
    }
}

fn last_seq(cursor: &Option<Cursor>) -> u64 {
    cursor.as_ref().map_or(0, |c| c.seq)
}

/// Up to [`CHUNK`] consecutive entries from `from`, stopping at the first
/// that is not there.
async fn read_chunk(store: &dyn ObjectStore, case: &CaseId, from: u64) -> Result<Vec<StoredEntry>> {
    let mut out = Vec::new();
    for seq in from..from + CHUNK as u64 {
        match read_entry(store, case, seq).await? {
            Some(entry) => out.push(entry),
            None => break,
        }
    }
    Ok(out)
}

/// One ledger entry, or `None` when there is none at `seq`. An entry that
/// cannot be read as a small file is kept, unparsed, for the projection
/// to name.
async fn read_entry(store: &dyn ObjectStore, case: &CaseId, seq: u64) -> Result<Option<StoredEntry>> {
    let key = ledger_key(case, seq);
    let (bytes, parsed) = match read_small(store, &key, ENTRY_LIMIT).await {
        Ok(bytes) => {
            let parsed = LedgerEntry::parse(&bytes);
            (bytes, parsed)
        }
        Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(None),
        Err(e) if matches!(e.kind(), StoreErrorKind::Corrupt | StoreErrorKind::TooLarge) => {
            (Vec::new(), Err(EntryError::Unreadable(e.to_string())))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Some(StoredEntry { seq, key, bytes, parsed }))
}

/// Whether the entry the cursor names is still the one it saw.
async fn still_matches(store: &dyn ObjectStore, case: &CaseId, cursor: &Cursor) -> Result<bool> {
    Ok(read_entry(store, case, cursor.seq)
        .await?
        .is_some_and(|entry| Sha256Digest::of(&entry.bytes).to_hex() == cursor.entry_sha256))
}
