//! Streaming multi-hash. SHA-256 always, MD5 and SHA-1 when selected, in one
//! read pass. [`ParallelHasher`] runs each algorithm on its own thread, so the
//! slowest one (MD5) sets the pace instead of the sum of all three.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use bytes::Bytes;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::digest::{Digests, HashSelection, HexDigest};

/// Chunks in flight per hashing thread; bounds memory to a few buffers.
const CHANNEL_DEPTH: usize = 4;

/// Hashes on the calling thread. Best for small inputs.
#[derive(Clone)]
pub struct MultiHasher {
    sha256: Sha256,
    md5: Option<Md5>,
    sha1: Option<Sha1>,
}

impl MultiHasher {
    /// A hasher computing SHA-256 plus whatever `selection` adds.
    pub fn new(selection: HashSelection) -> Self {
        Self { sha256: Sha256::new(), md5: selection.md5.then(Md5::new), sha1: selection.sha1.then(Sha1::new) }
    }

    /// Feeds bytes to every selected algorithm.
    pub fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
    }

    /// The digests of everything fed so far.
    pub fn finish(self) -> Digests {
        Digests {
            sha256: HexDigest::from_bytes(self.sha256.finalize().into()),
            md5: self.md5.map(|h| HexDigest::from_bytes(h.finalize().into())),
            sha1: self.sha1.map(|h| HexDigest::from_bytes(h.finalize().into())),
        }
    }
}

/// One hashing thread: receives chunks, returns its digest when the channel
/// closes.
struct Lane<T> {
    sender: SyncSender<Bytes>,
    handle: JoinHandle<T>,
}

impl<T: Send + 'static> Lane<T> {
    fn spawn<H: Digest + Send + 'static>(name: &str, finish: fn(H) -> T) -> Self {
        let (sender, receiver): (SyncSender<Bytes>, Receiver<Bytes>) = sync_channel(CHANNEL_DEPTH);
        let handle = std::thread::Builder::new()
            .name(format!("hash-{name}"))
            .spawn(move || {
                let mut hasher = H::new();
                for chunk in receiver {
                    hasher.update(&chunk);
                }
                finish(hasher)
            })
            .unwrap_or_else(|e| panic!("cannot start hashing thread: {e}"));
        Self { sender, handle }
    }

    fn send(&self, chunk: &Bytes) {
        // A send fails only if the thread died, which `finish` reports.
        let _ = self.sender.send(chunk.clone());
    }

    fn finish(self) -> T {
        drop(self.sender);
        match self.handle.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

/// Hashes on one thread per algorithm. Feed it large chunks (256 KiB or more).
pub struct ParallelHasher {
    sha256: Lane<[u8; 32]>,
    md5: Option<Lane<[u8; 16]>>,
    sha1: Option<Lane<[u8; 20]>>,
}

impl ParallelHasher {
    /// Starts the hashing threads for SHA-256 plus whatever `selection` adds.
    pub fn new(selection: HashSelection) -> Self {
        Self {
            sha256: Lane::spawn::<Sha256>("sha256", |h| h.finalize().into()),
            md5: selection.md5.then(|| Lane::spawn::<Md5>("md5", |h| h.finalize().into())),
            sha1: selection.sha1.then(|| Lane::spawn::<Sha1>("sha1", |h| h.finalize().into())),
        }
    }

    /// Queues a chunk for every algorithm. Blocks when the slowest falls
    /// behind by more than a few chunks, which keeps memory constant.
    pub fn update(&mut self, chunk: Bytes) {
        if let Some(lane) = &self.md5 {
            lane.send(&chunk);
        }
        if let Some(lane) = &self.sha1 {
            lane.send(&chunk);
        }
        self.sha256.send(&chunk);
    }

    /// Waits for every thread and returns the digests.
    pub fn finish(self) -> Digests {
        Digests {
            sha256: HexDigest::from_bytes(self.sha256.finish()),
            md5: self.md5.map(|l| HexDigest::from_bytes(l.finish())),
            sha1: self.sha1.map(|l| HexDigest::from_bytes(l.finish())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const ABC_MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
    const ABC_SHA1: &str = "a9993e364706816aba3e25717850c26c9cd0d89d";

    #[test]
    fn sequential_hasher_matches_known_vectors() {
        let mut h = MultiHasher::new(HashSelection::default());
        h.update(b"a");
        h.update(b"bc");
        let d = h.finish();
        assert_eq!(d.sha256.to_hex(), ABC_SHA256);
        assert_eq!(d.md5.unwrap().to_hex(), ABC_MD5);
        assert_eq!(d.sha1.unwrap().to_hex(), ABC_SHA1);
    }

    #[test]
    fn parallel_hasher_matches_sequential_on_many_chunks() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut seq = MultiHasher::new(HashSelection::default());
        seq.update(&data);
        let mut par = ParallelHasher::new(HashSelection::default());
        for chunk in data.chunks(65_536) {
            par.update(Bytes::copy_from_slice(chunk));
        }
        assert_eq!(par.finish(), seq.finish());
    }

    #[test]
    fn sha256_only_omits_legacy_digests() {
        let mut par = ParallelHasher::new(HashSelection::SHA256_ONLY);
        par.update(Bytes::from_static(b"abc"));
        let d = par.finish();
        assert_eq!(d.sha256.to_hex(), ABC_SHA256);
        assert!(d.md5.is_none() && d.sha1.is_none());
    }
}
