//! What a long-running process (`exhibit serve`) remembers of each case's
//! ledger: the last entry it read or appended. The ledger only grows, so a
//! later read that no longer finds that entry, as it was, means someone
//! removed or rewrote history under the running server. The read model's
//! cursor keeps the same fact across restarts; this copy also holds when
//! the read model is dropped or replaced while the process runs.

use std::collections::HashMap;
use std::sync::Mutex;

use exhibit_core::ids::CaseId;

use crate::readmodel::Cursor;

/// The last ledger entry seen, per case.
#[derive(Debug, Default)]
pub struct HeadMemory {
    heads: Mutex<HashMap<CaseId, Cursor>>,
}

impl HeadMemory {
    /// The last entry seen of `case`.
    pub fn get(&self, case: &CaseId) -> Option<Cursor> {
        self.heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(case).cloned()
    }

    /// Remembers `seen` as the case's last entry, unless a later one is
    /// remembered already.
    pub fn remember(&self, case: &CaseId, seen: &Cursor) {
        let mut heads = self.heads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let later = heads.get(case).is_some_and(|known| known.seq > seen.seq);
        if !later {
            heads.insert(case.clone(), seen.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seq: u64, hash: &str) -> Cursor {
        Cursor { seq, entry_sha256: hash.into() }
    }

    #[test]
    fn an_earlier_entry_never_replaces_a_later_one() {
        let memory = HeadMemory::default();
        let case: CaseId = "C1".parse().unwrap();
        memory.remember(&case, &at(3, "c"));
        memory.remember(&case, &at(2, "b"));
        assert_eq!(memory.get(&case), Some(at(3, "c")));
        memory.remember(&case, &at(4, "d"));
        assert_eq!(memory.get(&case), Some(at(4, "d")));
        assert_eq!(memory.get(&"C2".parse().unwrap()), None);
    }
}
