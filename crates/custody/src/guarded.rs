//! Appends that record nothing twice, whichever process writes.
//!
//! A worker's view of the ledger can be stale: another worker, or another
//! process, may have recorded the same work since it last looked. The
//! ledger's create-only sequence numbers make the check exact without an
//! extra read: an append lands at `head + 1` only if no one took it, i.e.
//! only if this writer's view is complete; a writer that loses the race
//! reads every entry it missed, and checks again before it retries. So the
//! guard has seen every entry before the place its events land, and drops
//! the events an entry there already records.

use std::collections::HashSet;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::CustodyEvent;
use tracing::{debug, instrument};

use crate::error::{CustodyError, Result};
use crate::ledger::{AppendedEntry, Head, Ledger};

/// How many lost races one guarded append tolerates before giving up.
const MAX_TRIES: u32 = 10_000;

/// Decides which events are still to be recorded, from the entries seen.
/// It must already know every entry up to the ledger's head as of
/// [`Ledger::open`] (build it from entries read after the open); later
/// entries reach it through [`AppendGuard::seen`].
pub trait AppendGuard: Send {
    /// An entry now in the ledger: read while catching up, or just appended.
    fn seen(&mut self, event: &CustodyEvent);
    /// Whether `event` is not yet recorded by any entry seen.
    fn keep(&self, event: &CustodyEvent) -> bool;
    /// The identity of the fact `event` records, if it places one: of the
    /// events of one append that share it, only the first is recorded (a
    /// job run twice at once can reach one group commit twice).
    fn fact(&self, event: &CustodyEvent) -> Option<Sha256Digest>;
}

impl Ledger {
    /// Hands `guard` every entry other writers added since this ledger
    /// last looked, so a reader with a stale view (a job recorded by
    /// another worker) catches up without appending.
    #[instrument(skip_all, fields(case = %self.case()))]
    pub async fn catch_up_guarded(&self, guard: &mut dyn AppendGuard) -> Result<()> {
        let mut head = self.head.lock().await;
        self.catch_up_seeing(&mut head, &mut |e| guard.seen(e)).await.map(|_| ())
    }

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
        let mut facts = HashSet::new();
        let mut remaining: Vec<CustodyEvent> =
            events.iter().filter(|e| guard.fact(e).is_none_or(|fact| facts.insert(fact))).cloned().collect();
        let mut out = Vec::new();
        // The key first: recording it may read entries of other writers,
        // which the filter below must see.
        if let Some(template) = events.first() {
            self.record_key_seeing(&mut head, template, guard).await?;
        }
        for attempt in 0..MAX_TRIES {
            remaining.retain(|e| guard.keep(e));
            let Some(first) = remaining.first() else { return Ok(out) };
            // One event is a plain entry; more are batch entries, each
            // signed once and put durably once.
            let one = remaining.len() == 1;
            let tried = if one { 1 } else { remaining.len() };
            let published = if one {
                self.try_write_one(&mut head, first).await?.into_iter().collect()
            } else {
                self.write_batch(&mut head, &remaining).await?
            };
            debug!(published = published.len(), of = remaining.len(), attempt, "appended a guarded batch");
            let lost_race = published.len() < tried;
            for event in remaining.drain(..published.len()) {
                guard.seen(&event);
            }
            out.extend(published);
            if lost_race {
                // Another writer took `head + 1`: read all it added, and
                // check again against them.
                self.catch_up_seeing(&mut head, &mut |e| guard.seen(e)).await?;
            }
        }
        Err(CustodyError::Conflict { case: self.case().to_string(), tries: MAX_TRIES })
    }

    /// As [`Ledger::record_key`], but every entry read on a lost race goes
    /// to `guard` too: the guard must see every entry the head passes.
    async fn record_key_seeing(
        &self,
        head: &mut Head,
        template: &CustodyEvent,
        guard: &mut dyn AppendGuard,
    ) -> Result<()> {
        for _ in 0..MAX_TRIES {
            if head.key_recorded {
                return Ok(());
            }
            if self.try_write_one(head, &self.key_added_event(template)).await?.is_some() {
                head.key_recorded = true;
                return Ok(());
            }
            // Lost the race; catching up also notes whether the winner
            // recorded this very key.
            self.catch_up_seeing(head, &mut |e| guard.seen(e)).await?;
        }
        Err(CustodyError::Conflict { case: self.case().to_string(), tries: MAX_TRIES })
    }
}
