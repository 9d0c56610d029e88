//! [`ObjectAt`]: positional, thread-safe reads of one stored object on any
//! backend, through a bounded block cache with sequential read-ahead, and
//! checked against the object's SHA-256 wherever the whole object is read.
//!
//! Parsers of disk images read small records (a 512-byte boot sector, a
//! 2 KiB directory sector) at scattered offsets, and often the same ones
//! again. Served by ranged gets, each such read would be one request; the
//! cache turns them into block-sized fetches, and a run of sequential reads
//! (a file's content) into fetches that grow up to [`CacheConfig::max_fetch`]
//! blocks.
//!
//! The SHA-256 is checked by hashing blocks in order as they arrive: a
//! cursor follows the contiguous prefix of the object that has been fetched.
//! When it reaches the end the digest is compared, and on a mismatch that
//! read and every later one fail with [`io::ErrorKind::InvalidData`]. Reads
//! that never cover the whole object are not checked here; see
//! docs/ARCHITECTURE.md ("Reads through the store") for why that is sound.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::hashing::MultiHasher;
use exhibit_core::layout::ObjectKey;
use exhibit_core::read_at::ReadAt;

/// Block size, cache bound and read-ahead of an [`ObjectAt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Bytes per block; every fetch is whole blocks.
    pub block_size: u64,
    /// Most blocks held; the least recently used goes first. 0 turns the
    /// cache and read-ahead off: every read goes to the backend as asked.
    pub blocks: usize,
    /// Most blocks one fetch asks for, read-ahead included.
    pub max_fetch: u64,
}

impl CacheConfig {
    /// 64 KiB blocks, 4 MiB held, fetches of up to 1 MiB.
    pub const DEFAULT: Self = Self { block_size: 64 << 10, blocks: 64, max_fetch: 16 };
    /// No cache: each read is passed to the backend (for comparison).
    pub const OFF: Self = Self { block_size: 64 << 10, blocks: 0, max_fetch: 1 };
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What an [`ObjectAt`] did, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Reads served.
    pub reads: AtomicU64,
    /// Requests made to the backend.
    pub fetches: AtomicU64,
    /// Bytes those requests returned.
    pub fetched_bytes: AtomicU64,
}

impl CacheStats {
    /// (reads, fetches, fetched bytes) now.
    pub fn snapshot(&self) -> (u64, u64, u64) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        (get(&self.reads), get(&self.fetches), get(&self.fetched_bytes))
    }
}

/// A stored object read positionally through a block cache. See the module
/// documentation.
pub struct ObjectAt {
    inner: Arc<dyn ReadAt>,
    key: ObjectKey,
    size: u64,
    config: CacheConfig,
    state: Mutex<CacheState>,
    stats: CacheStats,
}

struct CacheState {
    /// Block index to (bytes, last use).
    blocks: HashMap<u64, (Arc<[u8]>, u64)>,
    tick: u64,
    /// The block after the last read, to tell sequential reads.
    next_block: u64,
    /// Blocks to fetch ahead on the next sequential miss.
    ahead: u64,
    check: Check,
}

/// Progress of the whole-object SHA-256 check.
enum Check {
    /// No SHA-256 to check against, or the cache is off.
    Unchecked,
    /// Hashed the first `hashed` bytes, in order.
    Hashing { hasher: Box<MultiHasher>, hashed: u64, expect: Sha256Digest },
    /// Every byte read, with the expected SHA-256.
    Verified,
    /// Checked and bad: every read fails with this.
    Failed(String),
}

impl ObjectAt {
    /// Reads `key` (of `size` bytes) through `inner`, the backend's own
    /// positional reader or ranged gets, checking the bytes against
    /// `expect` wherever all of them are read.
    pub fn new(
        inner: Arc<dyn ReadAt>,
        key: ObjectKey,
        size: u64,
        expect: Option<Sha256Digest>,
        config: CacheConfig,
    ) -> Self {
        let check = match expect {
            Some(expect) if config.blocks > 0 && size == 0 => {
                let empty = Sha256Digest::of(b"");
                if empty == expect { Check::Verified } else { Check::Failed(mismatch(&key, &empty, &expect)) }
            }
            Some(expect) if config.blocks > 0 => {
                Check::Hashing { hasher: Box::new(MultiHasher::new(HashSelection::SHA256_ONLY)), hashed: 0, expect }
            }
            _ => Check::Unchecked,
        };
        let state = CacheState { blocks: HashMap::new(), tick: 0, next_block: 0, ahead: 0, check };
        let config =
            CacheConfig { block_size: config.block_size.max(512), max_fetch: config.max_fetch.max(1), ..config };
        Self { inner, key, size, config, state: Mutex::new(state), stats: CacheStats::default() }
    }

    /// What this reader has done so far.
    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// The object read.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }

    /// True once every byte was read and had the expected SHA-256.
    pub fn is_verified(&self) -> bool {
        matches!(self.lock().check, Check::Verified)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn block_len(&self, index: u64) -> u64 {
        let start = index.saturating_mul(self.config.block_size);
        self.size.saturating_sub(start).min(self.config.block_size)
    }

    /// Fetches blocks `[first, first + count)` from the backend in one read.
    fn fetch(&self, first: u64, count: u64) -> io::Result<Vec<Arc<[u8]>>> {
        let start = first * self.config.block_size;
        let end = (first + count).saturating_mul(self.config.block_size).min(self.size);
        let len = usize::try_from(end - start).map_err(io::Error::other)?;
        let mut data = vec![0u8; len];
        exhibit_core::read_at::read_exact_at(self.inner.as_ref(), start, &mut data).map_err(|e| {
            let kind = if e.kind() == io::ErrorKind::UnexpectedEof { io::ErrorKind::InvalidData } else { e.kind() };
            io::Error::new(kind, format!("object {}: {e} (it is shorter than its {} bytes)", self.key, self.size))
        })?;
        self.stats.fetches.fetch_add(1, Ordering::Relaxed);
        self.stats.fetched_bytes.fetch_add(len as u64, Ordering::Relaxed);
        let block = usize::try_from(self.config.block_size).map_err(io::Error::other)?;
        Ok(data.chunks(block).map(Arc::from).collect())
    }

    /// The block at `index`, from the cache or fetched with read-ahead.
    fn block(&self, index: u64, last_wanted: u64) -> io::Result<Arc<[u8]>> {
        let (count, sequential) = {
            let mut state = self.lock();
            if let Check::Failed(message) = &state.check {
                return Err(io::Error::new(io::ErrorKind::InvalidData, message.clone()));
            }
            state.tick += 1;
            let tick = state.tick;
            if let Some((bytes, used)) = state.blocks.get_mut(&index) {
                *used = tick;
                return Ok(bytes.clone());
            }
            let sequential = index == state.next_block && index > 0;
            let ahead = if sequential { state.ahead } else { 0 };
            let last_block = self.size.saturating_sub(1) / self.config.block_size;
            let wanted = last_wanted.saturating_sub(index) + 1 + ahead;
            let mut count = wanted.min(self.config.max_fetch).min(last_block - index + 1).max(1);
            // Never fetch again what is already held.
            if let Some(held) = (1..count).find(|k| state.blocks.contains_key(&(index + k))) {
                count = held;
            }
            (count, sequential)
        };
        let fetched = self.fetch(index, count)?;
        let first = fetched.first().cloned().ok_or_else(|| io::Error::other("empty fetch"))?;
        let mut state = self.lock();
        state.ahead = if sequential { (state.ahead * 2).clamp(1, self.config.max_fetch) } else { 0 };
        for (k, bytes) in fetched.into_iter().enumerate() {
            self.insert(&mut state, index + k as u64, bytes);
        }
        self.advance_check(&mut state)?;
        Ok(first)
    }

    fn insert(&self, state: &mut CacheState, index: u64, bytes: Arc<[u8]>) {
        while state.blocks.len() >= self.config.blocks {
            let oldest = state.blocks.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| *k);
            match oldest {
                Some(k) => drop(state.blocks.remove(&k)),
                None => break,
            }
        }
        state.tick += 1;
        let tick = state.tick;
        state.blocks.insert(index, (bytes, tick));
    }

    /// Hashes every held block the cursor reaches, in order; at the end,
    /// compares the digest.
    fn advance_check(&self, state: &mut CacheState) -> io::Result<()> {
        while let Check::Hashing { hasher, hashed, .. } = &mut state.check {
            let index = *hashed / self.config.block_size;
            let Some((bytes, _)) = state.blocks.get(&index) else { break };
            if bytes.len() as u64 != self.block_len(index) {
                break;
            }
            hasher.update(bytes);
            *hashed += bytes.len() as u64;
            if *hashed >= self.size {
                break;
            }
        }
        self.settle_if_done(state);
        match &state.check {
            Check::Failed(message) => Err(io::Error::new(io::ErrorKind::InvalidData, message.clone())),
            _ => Ok(()),
        }
    }

    fn settle_if_done(&self, state: &mut CacheState) {
        let Check::Hashing { hasher, hashed, expect } = &state.check else { return };
        if *hashed < self.size {
            return;
        }
        let (actual, expect) = (MultiHasher::clone(hasher).finish().sha256, *expect);
        state.check = if actual == expect {
            Check::Verified
        } else {
            tracing::warn!(key = %self.key, %actual, %expect, "stored object fails its hash check");
            Check::Failed(mismatch(&self.key, &actual, &expect))
        };
    }

    /// A read passed straight to the backend (cache off).
    fn read_uncached(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.stats.fetches.fetch_add(1, Ordering::Relaxed);
        let n = self.inner.read_at(offset, buf)?;
        self.stats.fetched_bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn mismatch(key: &ObjectKey, actual: &Sha256Digest, expect: &Sha256Digest) -> String {
    format!("object {key} has SHA-256 {actual} but {expect} was expected; the stored bytes were altered or damaged")
}

impl ReadAt for ObjectAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.stats.reads.fetch_add(1, Ordering::Relaxed);
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        if self.config.blocks == 0 {
            return self.read_uncached(offset, buf);
        }
        let len = (buf.len() as u64).min(self.size - offset);
        let bs = self.config.block_size;
        let last = (offset + len - 1) / bs;
        let mut done = 0u64;
        while done < len {
            let pos = offset + done;
            let index = pos / bs;
            let block = self.block(index, last)?;
            let within = usize::try_from(pos - index * bs).map_err(io::Error::other)?;
            let n = (block.len().saturating_sub(within) as u64).min(len - done);
            if n == 0 {
                break;
            }
            let at = usize::try_from(done).map_err(io::Error::other)?;
            let n_usize = n as usize;
            buf[at..at + n_usize].copy_from_slice(&block[within..within + n_usize]);
            done += n;
        }
        self.lock().next_block = last + 1;
        Ok(usize::try_from(done).unwrap_or(buf.len()))
    }

    fn size(&self) -> u64 {
        self.size
    }
}

impl std::fmt::Debug for ObjectAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectAt").field("key", &self.key).field("size", &self.size).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use exhibit_core::read_at::read_exact_at;

    use super::*;

    struct Bytes(Vec<u8>);

    impl ReadAt for Bytes {
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
            let start = usize::try_from(offset).unwrap().min(self.0.len());
            let n = buf.len().min(self.0.len() - start);
            buf[..n].copy_from_slice(&self.0[start..start + n]);
            Ok(n)
        }
        fn size(&self) -> u64 {
            self.0.len() as u64
        }
    }

    const SMALL: CacheConfig = CacheConfig { block_size: 512, blocks: 4, max_fetch: 4 };

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn object(bytes: Vec<u8>, stored: &[u8], config: CacheConfig) -> ObjectAt {
        let key = ObjectKey::new("cases/C1/objects/sha256/x").unwrap();
        let size = bytes.len() as u64;
        ObjectAt::new(Arc::new(Bytes(bytes)), key, size, Some(Sha256Digest::of(stored)), config)
    }

    #[test]
    fn scattered_reads_return_the_object_bytes_through_a_small_cache() {
        let bytes = data(10_000);
        let at = object(bytes.clone(), &bytes, SMALL);
        for (offset, len) in [(9_990, 10), (0, 3), (511, 2), (4_000, 3_000), (513, 1), (9_999, 1), (100, 0)] {
            let mut buf = vec![0; len];
            read_exact_at(&at, offset, &mut buf).unwrap();
            assert_eq!(buf, bytes[offset as usize..offset as usize + len], "{offset}+{len}");
        }
        assert_eq!(at.read_at(10_000, &mut [0; 4]).unwrap(), 0);
        assert!(at.lock().blocks.len() <= SMALL.blocks, "the cache stays within its bound");
    }

    #[test]
    fn repeated_reads_are_served_from_the_cache() {
        let bytes = data(4096);
        let at = object(bytes.clone(), &bytes, SMALL);
        for _ in 0..10 {
            read_exact_at(&at, 600, &mut [0; 100]).unwrap();
        }
        assert_eq!(at.stats().snapshot().1, 1, "one fetch for ten reads of one block");
    }

    #[test]
    fn sequential_reads_fetch_ahead_in_growing_runs() {
        let bytes = data(64 * 512);
        let at = object(bytes.clone(), &bytes, CacheConfig { block_size: 512, blocks: 16, max_fetch: 8 });
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        let mut pos = 0;
        while pos < bytes.len() as u64 {
            let n = at.read_at(pos, &mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
            pos += n as u64;
        }
        assert_eq!(out, bytes);
        let (_, fetches, fetched) = at.stats().snapshot();
        assert_eq!(fetched, bytes.len() as u64, "each byte fetched once");
        assert!(fetches <= 12, "read-ahead batches 64 blocks into few fetches, got {fetches}");
        assert!(at.is_verified());
    }

    #[test]
    fn reading_the_whole_of_an_altered_object_fails_and_keeps_failing() {
        let stored = data(3000);
        let mut altered = stored.clone();
        altered[2500] ^= 1;
        let at = object(altered, &stored, SMALL);
        read_exact_at(&at, 0, &mut [0; 100]).unwrap();
        let err = read_exact_at(&at, 0, &mut vec![0; 3000]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("SHA-256"), "{err}");
        assert_eq!(at.read_at(0, &mut [0; 1]).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert!(!at.is_verified());
    }

    #[test]
    fn an_object_shorter_than_its_size_is_invalid_data_not_zeros() {
        let key = ObjectKey::new("cases/C1/objects/sha256/x").unwrap();
        let at = ObjectAt::new(Arc::new(Bytes(data(1000))), key, 2000, None, SMALL);
        let err = read_exact_at(&at, 900, &mut [0; 200]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn with_the_cache_off_every_read_goes_to_the_backend() {
        let bytes = data(4096);
        let at = object(bytes.clone(), &bytes, CacheConfig::OFF);
        let mut buf = [0u8; 10];
        for _ in 0..3 {
            read_exact_at(&at, 5, &mut buf).unwrap();
        }
        assert_eq!(buf, bytes[5..15]);
        assert_eq!(at.stats().snapshot().1, 3);
    }

    #[test]
    fn concurrent_readers_see_the_same_bytes() {
        let bytes = Arc::new(data(50_000));
        let at = Arc::new(object(bytes.to_vec(), &bytes, SMALL));
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (at, bytes) = (at.clone(), bytes.clone());
                s.spawn(move || {
                    for i in 0..200u64 {
                        let offset = (i * 997 + t * 131) % 49_000;
                        let mut buf = [0u8; 700];
                        read_exact_at(at.as_ref(), offset, &mut buf).unwrap();
                        assert_eq!(buf[..], bytes[offset as usize..offset as usize + 700]);
                    }
                });
            }
        });
    }
}
