//! What every stage gets: the store, the case ledger, the index of finished
//! work, who is acting, and where progress goes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use exhibit_core::digest::HashSelection;
use exhibit_core::event::{Action, Actor, CustodyEvent, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ToolInfo;
use exhibit_custody::Ledger;
use exhibit_store::ObjectStore;
use time::OffsetDateTime;

use crate::error::StageError;
use crate::index::CaseIndex;
use crate::progress::ProgressSink;

/// Counts of what a run did, for the summary.
#[derive(Debug, Default)]
pub struct Tally {
    /// Artefacts newly recorded.
    pub stored: AtomicU64,
    /// Sources skipped because the ledger already records them.
    pub skipped: AtomicU64,
    /// Bytes read from sources.
    pub bytes: AtomicU64,
    failures: Mutex<Vec<RunFailure>>,
    warnings: Mutex<Vec<(String, String)>>,
}

/// A failure of this run, as the summary lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFailure {
    /// What failed, for display: its path, or the job ID.
    pub what: String,
    /// The exact bytes of the path it is about, where known: the reason
    /// embeds the path as display text, which loses bytes that are not
    /// UTF-8.
    pub path_bytes: Option<Vec<u8>>,
    /// Why, and what to do.
    pub reason: String,
    /// Whether the same command run again may succeed (storage or the OS
    /// failed). Otherwise a rerun fails the same way until the cause its
    /// reason names is fixed (a path too long to open, a bad input).
    pub rerun_may_help: bool,
}

impl Tally {
    /// Notes a failure: what failed and why.
    /// A failure that a rerun of the same command may mend (storage or
    /// the OS failed); see [`Tally::fail_noted`] for others.
    pub fn fail(&self, what: &str, reason: &str) {
        let (what, reason) = (what.to_owned(), reason.to_owned());
        self.fail_noted(RunFailure { what, path_bytes: None, reason, rerun_may_help: true });
    }

    /// Notes a failure with its path's bytes and whether a rerun may help.
    pub fn fail_noted(&self, failure: RunFailure) {
        lock(&self.failures).push(failure);
    }

    /// Notes a fact about the evidence the operator must see (a truncated
    /// image) that is not a failure: a rerun cannot change it.
    pub fn warn(&self, what: &str, note: &str) {
        lock(&self.warnings).push((what.to_owned(), note.to_owned()));
    }

    /// Every warning noted so far.
    pub fn warnings(&self) -> Vec<(String, String)> {
        lock(&self.warnings).clone()
    }

    /// Every failure noted so far.
    pub fn failures(&self) -> Vec<(String, String)> {
        lock(&self.failures).iter().map(|f| (f.what.clone(), f.reason.clone())).collect()
    }

    /// Every failure noted so far, whole.
    pub fn run_failures(&self) -> Vec<RunFailure> {
        lock(&self.failures).clone()
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked mid-update of
    // counters or an index; the data is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Shared state for the stages of one run on one case.
pub struct StageContext {
    /// The case being worked on.
    pub case: CaseId,
    /// Where objects and manifests go.
    pub store: Arc<dyn ObjectStore>,
    /// The case's custody ledger.
    pub ledger: Arc<Ledger>,
    /// Who is acting, recorded in every event.
    pub actor: Actor,
    /// Which digests to compute besides SHA-256.
    pub hashes: HashSelection,
    /// Where progress goes.
    pub progress: Arc<dyn ProgressSink>,
    /// What the run did.
    pub tally: Tally,
    /// The identity of each derivation policy, part of derive job IDs.
    pub derive_policies: crate::derive::DerivePolicies,
    index: Mutex<CaseIndex>,
    pub(crate) group: crate::group_commit::GroupCommit,
}

impl StageContext {
    /// A context over an index already built from the ledger.
    pub fn new(case: CaseId, store: Arc<dyn ObjectStore>, ledger: Arc<Ledger>, actor: Actor, index: CaseIndex) -> Self {
        Self {
            case,
            store,
            ledger,
            actor,
            hashes: HashSelection::default(),
            progress: Arc::new(crate::progress::NoProgress),
            tally: Tally::default(),
            derive_policies: crate::derive::DerivePolicies::default(),
            index: Mutex::new(index),
            group: Default::default(),
        }
    }

    /// The index of finished work, locked for a quick look.
    pub fn index(&self) -> MutexGuard<'_, CaseIndex> {
        lock(&self.index)
    }

    /// A new event of this run, stamped now, with an `ok` outcome.
    pub fn event(&self, action: Action, exhibit: Option<&ExhibitRef>, tool: ToolInfo) -> CustodyEvent {
        CustodyEvent {
            at: OffsetDateTime::now_utc(),
            case: self.case.clone(),
            exhibit: exhibit.cloned(),
            action,
            artefact: None,
            inputs: Vec::new(),
            tool,
            params: Default::default(),
            actor: self.actor.clone(),
            outcome: Outcome::Ok,
        }
    }

    /// Appends events to the ledger in one group commit, and notes each in
    /// the index. Events the ledger already records (by this or any other
    /// worker, see [`record_key`](crate::record_key::record_key)) are
    /// dropped: the append first reads every entry added since this
    /// context last looked. Returns how many were appended.
    pub async fn record_batch(&self, events: &[CustodyEvent]) -> Result<usize, StageError> {
        Ok(self.append(events).await?.len())
    }

    async fn append(&self, events: &[CustodyEvent]) -> Result<Vec<exhibit_custody::AppendedEntry>, StageError> {
        let mut guard = IndexGuard { index: &self.index };
        let appended = self.ledger.append_guarded(events, &mut guard).await.map_err(|e| {
            StageError::from_kind(e.kind(), format!("cannot append to the ledger of case {}: {e}", self.case))
        })?;
        if appended.len() < events.len() {
            tracing::debug!(dropped = events.len() - appended.len(), "already recorded; not recorded again");
        }
        Ok(appended)
    }

    /// Reads the entries other workers appended since this context last
    /// looked into the index: for a job whose input another worker
    /// recorded (input not ready yet, or ready and unseen).
    pub async fn catch_up(&self) -> Result<(), StageError> {
        let mut guard = IndexGuard { index: &self.index };
        self.ledger
            .catch_up_guarded(&mut guard)
            .await
            .map_err(|e| StageError::from_kind(e.kind(), format!("cannot read the ledger of case {}: {e}", self.case)))
    }

    /// Every event of the case's ledger as stored now, in ledger order, for
    /// a job that plans from the whole record (the bundles of an exhibit).
    /// Entries that do not parse are skipped: they are `verify`'s to report.
    pub async fn read_events(&self) -> Result<Vec<exhibit_core::event::CustodyEvent>, StageError> {
        let entries = exhibit_custody::read_entries(self.store.as_ref(), &self.case).await.map_err(|e| {
            StageError::from_kind(e.kind(), format!("cannot read the ledger of case {}: {e}", self.case))
        })?;
        Ok(entries.into_iter().filter_map(|e| e.parsed.ok()).flat_map(|e| e.events().to_vec()).collect())
    }

    /// Appends an event to the ledger (unless it already records the same
    /// fact), and notes it in the index. Returns its sequence number, or
    /// `None` when an entry already records it.
    pub async fn record(&self, event: CustodyEvent) -> Result<Option<u64>, StageError> {
        Ok(self.append(std::slice::from_ref(&event)).await?.last().map(|a| a.seq))
    }
}

/// Keeps the index current with every entry the ledger reads or appends,
/// and keeps only events it does not yet record.
struct IndexGuard<'a> {
    index: &'a Mutex<CaseIndex>,
}

impl exhibit_custody::AppendGuard for IndexGuard<'_> {
    fn seen(&mut self, event: &CustodyEvent) {
        lock(self.index).note(event);
    }

    fn keep(&self, event: &CustodyEvent) -> bool {
        !lock(self.index).records(event)
    }

    fn fact(&self, event: &CustodyEvent) -> Option<exhibit_core::digest::Sha256Digest> {
        crate::record_key::record_key(event)
    }
}
