//! A tiny least-recently-used cache for decoded chunks and tables: a few
//! entries, so a linear scan beats any index and memory stays bounded.

use std::sync::Arc;

/// Keeps at most `capacity` values, dropping the least recently used.
pub(crate) struct Lru<T: ?Sized> {
    capacity: usize,
    entries: Vec<(u64, Arc<T>)>,
}

impl<T: ?Sized> Lru<T> {
    /// An empty cache holding up to `capacity` values.
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), entries: Vec::new() }
    }

    /// The value for `key`, marking it most recently used.
    pub(crate) fn get(&mut self, key: u64) -> Option<Arc<T>> {
        let at = self.entries.iter().position(|(k, _)| *k == key)?;
        let entry = self.entries.remove(at);
        let value = entry.1.clone();
        self.entries.push(entry);
        Some(value)
    }

    /// Stores `value` under `key`, evicting the oldest entry when full.
    pub(crate) fn put(&mut self, key: u64, value: Arc<T>) {
        self.entries.retain(|(k, _)| *k != key);
        if self.entries.len() >= self.capacity {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut lru: Lru<u8> = Lru::new(2);
        lru.put(1, Arc::new(1));
        lru.put(2, Arc::new(2));
        assert!(lru.get(1).is_some());
        lru.put(3, Arc::new(3));
        assert!(lru.get(2).is_none());
        assert!(lru.get(1).is_some() && lru.get(3).is_some());
    }
}
