//! Naming what changed inside a tampered batch entry: the entry lists the
//! SHA-256 of each event it signed, so verify can say which event was
//! altered, removed, added or moved, not only that the signature fails.

use std::collections::HashMap;

use exhibit_core::digest::Sha256Digest;

/// One difference between the events a batch entry holds and the hashes it
/// lists. Event numbers count from 1 within the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum BatchFault {
    /// The event at this place no longer has the hash listed for it.
    Altered {
        /// Its place in the batch.
        event: usize,
    },
    /// The event listed at this place is gone.
    Removed {
        /// Its listed place.
        event: usize,
    },
    /// An event at this place is not among those listed.
    Added {
        /// Its place in the batch.
        event: usize,
    },
    /// The listed events are all there, but not in the listed order; this
    /// is the first place that differs.
    Reordered {
        /// The first place out of order.
        event: usize,
    },
}

impl std::fmt::Display for BatchFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { event } => write!(f, "event {event} altered (its hash is not the one the entry lists)"),
            Self::Removed { event } => write!(f, "event {event} removed (the entry lists it, but it is gone)"),
            Self::Added { event } => write!(f, "event {event} added (the entry does not list it)"),
            Self::Reordered { event } => write!(f, "events reordered from event {event} on"),
        }
    }
}

/// Compares the `listed` hashes with those of the events `found` (`None`
/// for an event without a canonical form).
pub(crate) fn compare(listed: &[Sha256Digest], found: &[Option<Sha256Digest>]) -> Vec<BatchFault> {
    if listed.len() == found.len() && listed.iter().zip(found).all(|(l, f)| Some(*l) == *f) {
        return Vec::new();
    }
    let mut unmatched: HashMap<Sha256Digest, usize> = HashMap::new();
    for hash in listed {
        *unmatched.entry(*hash).or_default() += 1;
    }
    let mut unknown = Vec::new();
    let mut kept_found = Vec::new();
    for (i, hash) in found.iter().enumerate() {
        match hash.and_then(|h| unmatched.get_mut(&h).filter(|n| **n > 0).map(|n| (h, n))) {
            Some((h, n)) => {
                *n -= 1;
                kept_found.push(h);
            }
            None => unknown.push(i + 1),
        }
    }
    let mut removed = Vec::new();
    let mut kept_listed = Vec::new();
    for (j, hash) in listed.iter().enumerate().rev() {
        match unmatched.get_mut(hash).filter(|n| **n > 0) {
            Some(n) => {
                *n -= 1;
                removed.push(j + 1);
            }
            None => kept_listed.push(*hash),
        }
    }
    removed.reverse();
    kept_listed.reverse();
    let mut faults: Vec<BatchFault> = if removed.len() == unknown.len() {
        unknown.iter().map(|&event| BatchFault::Altered { event }).collect()
    } else {
        let gone = removed.iter().map(|&event| BatchFault::Removed { event });
        gone.chain(unknown.iter().map(|&event| BatchFault::Added { event })).collect()
    };
    if let Some(place) = kept_listed.iter().zip(&kept_found).position(|(l, f)| l != f) {
        faults.push(BatchFault::Reordered { event: place + 1 });
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> Sha256Digest {
        Sha256Digest::of(&[n])
    }

    #[test]
    fn names_the_altered_removed_added_and_moved_event() {
        let listed = [h(1), h(2), h(3), h(4)];
        let same: Vec<_> = listed.iter().map(|x| Some(*x)).collect();
        assert_eq!(compare(&listed, &same), vec![]);
        assert_eq!(
            compare(&listed, &[Some(h(1)), Some(h(9)), Some(h(3)), Some(h(4))]),
            vec![BatchFault::Altered { event: 2 }]
        );
        assert_eq!(compare(&listed, &[Some(h(1)), Some(h(2)), Some(h(4))]), vec![BatchFault::Removed { event: 3 }]);
        assert_eq!(
            compare(&listed, &[Some(h(1)), Some(h(2)), Some(h(3)), Some(h(4)), Some(h(5))]),
            vec![BatchFault::Added { event: 5 }]
        );
        assert_eq!(
            compare(&listed, &[Some(h(1)), Some(h(3)), Some(h(2)), Some(h(4))]),
            vec![BatchFault::Reordered { event: 2 }]
        );
        assert_eq!(
            compare(&listed, &[Some(h(1)), None, Some(h(3)), Some(h(4))]),
            vec![BatchFault::Altered { event: 2 }]
        );
    }
}
