//! Appends that record nothing twice, whichever process writes.
//!
//! A worker's view of the ledger can be stale: another worker, or another
//! process, may have recorded the same work since it last looked. The
//! ledger's create-only sequence numbers make the check exact: an append
//! lands at `head + 1` only if no one took it, and a writer that loses the
//! race reads every entry it missed before it tries again. So the guard
//! sees every entry between its last look and the place its events land,
//! and drops the events an entry there already records.

use exhibit_core::event::CustodyEvent;
use tracing::{debug, instrument};

use crate::error::{CustodyError, Result};
use crate::ledger::{AppendedEntry, Ledger};

/// How many lost races one guarded append tolerates before giving up.
const MAX_TRIES: u32 = 10_000;

/// Decides which events are still to be recorded, from the entries seen.
pub trait AppendGuard: Send {
    /// An entry now in the ledger: read while catching up, or just appended.
    fn seen(&mut self, event: &CustodyEvent);
    /// Whether `event` is not yet recorded by any entry seen.
    fn keep(&self, event: &CustodyEvent) -> bool;
}

impl Ledger {
    /// Appends, in order and signed, those of `events` that `guard` still
    /// keeps once every entry other writers added is seen: one group
    /// commit on stores that stage writes, one put each elsewhere. Returns
    /// where each appended event landed; dropped events have none.
    #[instrument(skip_all, fields(case = %self.case(), events = events.len()))]
    pub async fn append_guarded(
        &self,
        events: &[CustodyEvent],
        guard: &mut dyn AppendGuard,
    ) -> Result<Vec<AppendedEntry>> {
        for event in events {
            self.check(event)?;
        }
        let mut head = self.head.lock().await;
        let mut remaining = events.to_vec();
        let mut out = Vec::new();
        for attempt in 0..MAX_TRIES {
            self.catch_up_seeing(&mut head, &mut |e| guard.seen(e)).await?;
            remaining.retain(|e| guard.keep(e));
            let Some(first) = remaining.first() else { return Ok(out) };
            self.record_key(&mut head, first).await?;
            let chunk = if self.store.stages_writes() { remaining.len() } else { 1 };
            let published = self.write_batch(&mut head, &remaining[..chunk]).await?;
            debug!(published = published.len(), of = remaining.len(), attempt, "appended a guarded batch");
            for event in remaining.drain(..published.len()) {
                guard.seen(&event);
            }
            out.extend(published);
        }
        Err(CustodyError::Conflict { case: self.case().to_string(), tries: MAX_TRIES })
    }
}
