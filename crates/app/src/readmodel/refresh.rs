//! Bringing a case's projection up to the ledger's head: from the entry
//! after its cursor, in chunks, each applied in one transaction. The ledger
//! is read by probing `seq + 1, seq + 2...` until an entry is not there, so
//! a warm refresh costs three small reads (the cursor's entry, to check it,
//! the next one, and one past it, to see a gap), not a read of the whole
//! ledger.
//!
//! The ledger only grows. An entry the read model (or this process) read
//! before that is gone or holds other bytes means the ledger lost or
//! rewrote history: the refresh keeps what was projected, lists a problem
//! naming the entry, and reports the case as broken so nothing is appended
//! to it. It never rebuilds over such a ledger, which would hide the loss.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::CaseId;
use exhibit_core::layout::{ledger_key, ledger_prefix, parse_ledger_name};
use exhibit_custody::{ENTRY_LIMIT, EntryError, LedgerEntry, StoredEntry};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use tracing::{info, instrument, warn};

use super::chain_link::{body_sha256, link_problem};
use super::{Cursor, Problem, ReadModel, project_entries};
use crate::error::{AppError, Result};

/// Entries projected per transaction: bounds memory on a rebuild.
const CHUNK: usize = 1000;

/// Refreshes lost to another writer before giving up.
const MAX_CONFLICTS: u32 = 100;

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Entries read and applied.
    pub applied: u64,
    /// Whether the case was projected from entry 1.
    pub rebuilt: bool,
    /// The last entry now projected (0 for an empty ledger).
    pub head: u64,
    /// Where the projection now stands (`None` for an empty ledger).
    pub cursor: Option<Cursor>,
    /// The ledger lost or rewrote entries read before (or has a gap): what
    /// is wrong. Nothing may be appended to the case while it is set.
    pub broken: Option<Problem>,
}

/// Brings `case` in `model` up to the head of its ledger in `store`.
pub async fn refresh(store: &dyn ObjectStore, model: &dyn ReadModel, case: &CaseId) -> Result<RefreshReport> {
    refresh_known(store, model, case, None).await
}

/// [`refresh`], also holding the ledger to `known`: the last entry this
/// process read or appended, which must still be there, unchanged, even
/// when the read model was dropped or replaced.
#[instrument(skip(store, model, known), fields(case = %case))]
pub async fn refresh_known(
    store: &dyn ObjectStore,
    model: &dyn ReadModel,
    case: &CaseId,
    known: Option<&Cursor>,
) -> Result<RefreshReport> {
    for _ in 0..MAX_CONFLICTS {
        let cursor = model.cursor(case).await?;
        let mut report = RefreshReport { rebuilt: cursor.is_none(), ..RefreshReport::default() };
        let before = match anchor(store, case, cursor.as_ref(), known).await? {
            Anchored::Holds(before) => before,
            Anchored::Lost(problem) => return broken(model, case, cursor, problem).await,
        };
        match read_on(store, model, case, (cursor, before), &mut report).await {
            Err(AppError::Conflict { .. }) => continue,
            Err(e) => return Err(e),
            Ok(()) => {}
        }
        if let Some(problem) = lost_below(store, case, &report, known).await? {
            return broken(model, case, report.cursor, problem).await;
        }
        info!(applied = report.applied, head = report.head, rebuilt = report.rebuilt, "read model refreshed");
        return Ok(report);
    }
    Err(AppError::Conflict { case: case.to_string() })
}

/// Whether the entries the projection and this process stand on are still
/// there as read.
enum Anchored {
    /// They are; with the body SHA-256 of the cursor's entry, for the next
    /// entry's link.
    Holds(Option<Sha256Digest>),
    /// One is gone or changed.
    Lost(Problem),
}

async fn anchor(
    store: &dyn ObjectStore,
    case: &CaseId,
    cursor: Option<&Cursor>,
    known: Option<&Cursor>,
) -> Result<Anchored> {
    if let Some(known) = known.filter(|k| cursor.is_none_or(|c| c != *k))
        && read_as_seen(store, case, known).await?.is_none()
    {
        return Ok(Anchored::Lost(lost(case, known, "this server read")));
    }
    let Some(cursor) = cursor else { return Ok(Anchored::Holds(None)) };
    match read_as_seen(store, case, cursor).await? {
        Some(entry) => Ok(Anchored::Holds(body_sha256(&entry))),
        None => Ok(Anchored::Lost(lost(case, cursor, "the read model projected"))),
    }
}

/// The problem of an entry, read before, that is gone or changed.
fn lost(case: &CaseId, seen: &Cursor, by: &str) -> Problem {
    Problem {
        seq: seen.seq,
        text: format!(
            "the ledger lost or rewrote history: entry {seq}, which {by} before, is gone or no longer the same. \
             Nothing more is recorded in this case. Run `exhibit verify --case {case}`, and compare the ledger with \
             its anchored timestamps and backups",
            seq = seen.seq
        ),
    }
}

/// Lists `problem` in the case (once), keeping what was projected, and
/// reports the case broken.
async fn broken(
    model: &dyn ReadModel,
    case: &CaseId,
    cursor: Option<Cursor>,
    problem: Problem,
) -> Result<RefreshReport> {
    warn!(seq = problem.seq, problem = %problem.text, "the ledger lost entries it held before");
    super::list_problems(model, case, cursor.as_ref(), std::slice::from_ref(&problem)).await?;
    let head = cursor.as_ref().map_or(0, |c| c.seq);
    Ok(RefreshReport { head, cursor, broken: Some(problem), ..RefreshReport::default() })
}

/// Applies every entry after `cursor`, chunk by chunk, checking each new
/// entry's link to the one before (`before`, the cursor entry's body hash).
async fn read_on(
    store: &dyn ObjectStore,
    model: &dyn ReadModel,
    case: &CaseId,
    (mut cursor, mut before): (Option<Cursor>, Option<Sha256Digest>),
    report: &mut RefreshReport,
) -> Result<()> {
    loop {
        let from = cursor.as_ref().map_or(1, |c| c.seq + 1);
        let chunk = read_chunk(store, case, from).await?;
        let Some(last) = chunk.last() else { break };
        let next = Cursor { seq: last.seq, entry_sha256: Sha256Digest::of(&last.bytes).to_hex() };
        let mut projection = project_entries(store, case, &chunk).await?;
        for stored in &chunk {
            projection.problems.extend(link_problem(case, before.as_ref(), stored));
            before = body_sha256(stored);
        }
        model.apply(case, cursor.as_ref(), &next, &projection).await?;
        report.applied += projection.entries;
        cursor = Some(next);
        if chunk.len() < CHUNK {
            // The chunk ended at a missing entry: that is the head.
            break;
        }
    }
    report.head = cursor.as_ref().map_or(0, |c| c.seq);
    report.cursor = cursor;
    Ok(())
}

/// Entries missing below the ledger's last file: the head is below what
/// this process read, or an entry exists past the first one missing. On a
/// rebuild the ledger's keys are listed, so a gap anywhere is seen; a warm
/// refresh looks one entry past the head.
async fn lost_below(
    store: &dyn ObjectStore,
    case: &CaseId,
    report: &RefreshReport,
    known: Option<&Cursor>,
) -> Result<Option<Problem>> {
    if let Some(known) = known.filter(|k| k.seq > report.head) {
        return Ok(Some(lost(case, known, "this server read")));
    }
    let missing = report.head + 1;
    let beyond = if report.rebuilt {
        last_file(store, case).await?.filter(|&last| last > missing)
    } else {
        read_entry(store, case, missing + 1).await?.map(|entry| entry.seq)
    };
    Ok(beyond.map(|last| Problem {
        seq: missing,
        text: format!(
            "ledger entry {missing} is missing while entry {last} is there: entries were removed from the middle \
             of the ledger. Nothing more is recorded in this case. Run `exhibit verify --case {case}`"
        ),
    }))
}

/// The highest sequence number among the ledger's files.
async fn last_file(store: &dyn ObjectStore, case: &CaseId) -> Result<Option<u64>> {
    let listed = store.list(&ledger_prefix(case)).await?;
    Ok(listed.iter().filter_map(|meta| meta.key.as_str().rsplit('/').next().and_then(parse_ledger_name)).max())
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

/// The entry `seen` names, when it is still the one read then.
async fn read_as_seen(store: &dyn ObjectStore, case: &CaseId, seen: &Cursor) -> Result<Option<StoredEntry>> {
    Ok(read_entry(store, case, seen.seq)
        .await?
        .filter(|entry| Sha256Digest::of(&entry.bytes).to_hex() == seen.entry_sha256))
}
