//! Entries whose own time (`at`, chosen by whoever signed them) runs
//! backwards: the trace of a back-dated entry, which a retired or leaked
//! key would sign to slip under its `valid-before`. Honest entries are
//! nearly in order: `at` is stamped when an event is made and the entry is
//! appended once its batch (at most 256 artefacts or 256 MiB) is durable,
//! so concurrent appenders interleave entries a few minutes out of order
//! at most, plus clock skew between hosts. [`TOLERANCE`] is well above
//! that and well below the days or months between retiring a key and
//! misusing it. This is a mitigation: a case idle since before the key was
//! retired gives no later entry to compare with; RFC 3161 anchors do.

use time::{Duration, OffsetDateTime};

use super::Problem;
use crate::entry::LedgerEntry;

/// How far an entry's `at` may fall behind its predecessor's, or behind
/// the TSA time of an anchor before it.
pub(super) const TOLERANCE: Duration = Duration::hours(1);

/// Back-dated entries among `entries` (intact, in chain order): earlier
/// than the previous entry by more than [`TOLERANCE`], or after the latest
/// checked anchor `(seq, TSA time)` but earlier than its time.
pub(super) fn backdated(entries: &[LedgerEntry], anchor: Option<(u64, OffsetDateTime)>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for pair in entries.windows(2) {
        let (prev, entry) = (&pair[0], &pair[1]);
        let (Some(at), Some(prev_at)) = (earliest(entry), prev.at()) else { continue };
        if entry.seq == prev.seq + 1 && at + TOLERANCE < prev_at {
            problems.push(Problem::EntryBackdated {
                seq: entry.seq,
                at: stamp(at),
                after: prev.seq,
                after_at: stamp(prev_at),
            });
        }
    }
    if let Some((anchored, tsa_time)) = anchor {
        let late = entries
            .iter()
            .filter_map(|e| Some((e.seq, earliest(e)?)))
            .filter(|&(seq, at)| seq > anchored && at + TOLERANCE < tsa_time);
        problems.extend(late.map(|(seq, at)| Problem::EntryBeforeAnchor {
            seq,
            at: stamp(at),
            anchor: anchored,
            anchor_at: stamp(tsa_time),
        }));
    }
    problems
}

/// The earliest time among an entry's events (a batch's events are
/// stamped when made, and signed together when the batch commits).
fn earliest(entry: &LedgerEntry) -> Option<OffsetDateTime> {
    entry.events().iter().map(|e| e.at).min()
}

fn stamp(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}
