//! Streaming multi-hash. SHA-256 always, MD5 and SHA-1 when selected, in one
//! read pass. [`ParallelHasher`] runs MD5 on one thread and the SHA family
//! on another, so the slowest (MD5) sets the pace instead of the sum of all
//! three. A hashing thread that cannot start or stops early is an error
//! from [`ParallelHasher::finish`], never a panic.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use bytes::Bytes;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::digest::{Digests, HashSelection, HexDigest};
use crate::error::ErrorKind;

/// Why parallel hashing gave no digests.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The operating system refused a hashing thread.
    #[error("cannot start a {lane} hashing thread: {source}")]
    ThreadStart {
        /// Which algorithms the thread was for.
        lane: &'static str,
        /// The OS's reason.
        source: std::io::Error,
    },
    /// A hashing thread ended before it returned its digest.
    #[error("the {lane} hashing thread stopped before it returned a digest")]
    LaneStopped {
        /// Which algorithms the thread was for.
        lane: &'static str,
    },
}

impl HashError {
    /// Both are failures of the machine, not of the data: a rerun may pass.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Io
    }
}

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

/// One hashing thread: receives chunks, returns its result when the
/// channel closes.
struct Lane<T> {
    /// Which algorithms, for messages.
    name: &'static str,
    sender: SyncSender<Bytes>,
    result: Receiver<T>,
    /// Why the thread did not start, if it did not.
    start_error: Option<std::io::Error>,
}

impl<T: Send + 'static> Lane<T> {
    /// Runs `state` over every chunk on a pooled thread; `finish` turns it
    /// into the result.
    fn spawn<S: Send + 'static>(
        name: &'static str,
        mut state: S,
        update: fn(&mut S, &[u8]),
        finish: fn(S) -> T,
    ) -> Self {
        let (sender, receiver): (SyncSender<Bytes>, Receiver<Bytes>) = sync_channel(CHANNEL_DEPTH);
        let (result_sender, result) = sync_channel(1);
        let started = pool::run(Box::new(move || {
            for chunk in receiver {
                update(&mut state, &chunk);
            }
            // The receiver is gone only if the hasher was dropped unfinished,
            // e.g. when the reader feeding it failed; nobody wants the digest.
            let _ = result_sender.send(finish(state));
        }));
        // A task that never started was dropped with its channels, so sends
        // fail quietly and `finish` reports why.
        Self { name, sender, result, start_error: started.err() }
    }

    fn send(&self, chunk: &Bytes) {
        // A send fails only if the thread died, which `finish` reports.
        let _ = self.sender.send(chunk.clone());
    }

    fn finish(self) -> Result<T, HashError> {
        drop(self.sender);
        if let Some(source) = self.start_error {
            return Err(HashError::ThreadStart { lane: self.name, source });
        }
        // The result channel closes without a value only if the thread
        // ended early (a panic in a hash update).
        self.result.recv().map_err(|_| HashError::LaneStopped { lane: self.name })
    }
}

/// Hashing threads kept for reuse. Storing ten thousand small files would
/// otherwise start and stop twenty thousand threads, which costs more than
/// hashing the files.
mod pool {
    use std::sync::Mutex;
    use std::sync::mpsc::{SyncSender, sync_channel};

    type Task = Box<dyn FnOnce() + Send>;

    /// Idle threads, each waiting on its own task channel.
    static IDLE: Mutex<Vec<SyncSender<Task>>> = Mutex::new(Vec::new());
    /// Idle threads kept; more end when their task is done.
    const MAX_IDLE: usize = 8;

    /// Runs `task` on an idle thread, or a new one if none is idle. Fails
    /// only if the OS refuses a new thread; the task is then dropped.
    pub(super) fn run(task: Task) -> std::io::Result<()> {
        let idle = IDLE.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let task = match idle {
            Some(worker) => match worker.send(task) {
                Ok(()) => return Ok(()),
                Err(returned) => returned.0,
            },
            None => task,
        };
        start(task)
    }

    fn start(first: Task) -> std::io::Result<()> {
        let (sender, tasks) = sync_channel::<Task>(1);
        let spawned = std::thread::Builder::new().name("hash".into()).spawn(move || {
            let mut task = first;
            loop {
                task();
                {
                    let mut idle = IDLE.lock().unwrap_or_else(|p| p.into_inner());
                    if idle.len() >= MAX_IDLE {
                        return;
                    }
                    idle.push(sender.clone());
                }
                match tasks.recv() {
                    Ok(next) => task = next,
                    Err(_) => return,
                }
            }
        });
        spawned.map(drop)
    }
}

/// SHA-256 and, optionally, SHA-1 on one thread. Both use the CPU's SHA
/// extensions, so together they still run faster than MD5 alone.
type ShaState = (Sha256, Option<Sha1>);

fn sha_update(state: &mut ShaState, chunk: &[u8]) {
    state.0.update(chunk);
    if let Some(h) = &mut state.1 {
        h.update(chunk);
    }
}

fn sha_finish(state: ShaState) -> ([u8; 32], Option<[u8; 20]>) {
    (state.0.finalize().into(), state.1.map(|h| h.finalize().into()))
}

/// Hashes on two threads: MD5 on one, SHA-256 and SHA-1 on the other. On a
/// two-core machine that keeps MD5, the slowest, on a core of its own, so
/// all three cost little more than MD5 alone. Feed it large chunks
/// (256 KiB or more).
pub struct ParallelHasher {
    sha: Lane<([u8; 32], Option<[u8; 20]>)>,
    md5: Option<Lane<[u8; 16]>>,
}

impl ParallelHasher {
    /// Starts the hashing threads for SHA-256 plus whatever `selection` adds.
    pub fn new(selection: HashSelection) -> Self {
        let sha_state: ShaState = (Sha256::new(), selection.sha1.then(Sha1::new));
        Self {
            sha: Lane::spawn("SHA", sha_state, sha_update, sha_finish),
            md5: selection.md5.then(|| Lane::spawn("MD5", Md5::new(), |h, c| h.update(c), |h| h.finalize().into())),
        }
    }

    /// Queues a chunk for every algorithm. Blocks when the slowest falls
    /// behind by more than a few chunks, which keeps memory constant.
    pub fn update(&mut self, chunk: Bytes) {
        if let Some(lane) = &self.md5 {
            lane.send(&chunk);
        }
        self.sha.send(&chunk);
    }

    /// Waits for every thread and returns the digests, or why a thread
    /// gave none.
    pub fn finish(self) -> Result<Digests, HashError> {
        let (sha256, sha1) = self.sha.finish()?;
        let md5 = self.md5.map(Lane::finish).transpose()?;
        Ok(Digests {
            sha256: HexDigest::from_bytes(sha256),
            md5: md5.map(HexDigest::from_bytes),
            sha1: sha1.map(HexDigest::from_bytes),
        })
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
        assert_eq!(par.finish().unwrap(), seq.finish());
    }

    fn threads_in_this_process() -> usize {
        std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
    }

    #[test]
    fn hashing_threads_are_reused_and_concurrent_hashers_stay_correct() {
        let mut expect = MultiHasher::new(HashSelection::default());
        expect.update(b"abc");
        let expect = expect.finish();
        let before = threads_in_this_process();
        for _ in 0..300 {
            let mut par = ParallelHasher::new(HashSelection::default());
            par.update(Bytes::from_static(b"abc"));
            assert_eq!(par.finish().unwrap(), expect);
        }
        // Other tests of this binary may hold a few threads of their own.
        assert!(threads_in_this_process() <= before + 16, "300 hashers must not leave 600 threads");
        let workers: Vec<_> = (0..16)
            .map(|_| {
                std::thread::spawn(move || {
                    let mut par = ParallelHasher::new(HashSelection::default());
                    for _ in 0..50 {
                        par.update(Bytes::from_static(b"abc"));
                    }
                    par.finish().unwrap()
                })
            })
            .collect();
        let mut fifty = MultiHasher::new(HashSelection::default());
        for _ in 0..50 {
            fifty.update(b"abc");
        }
        let fifty = fifty.finish();
        for w in workers {
            assert_eq!(w.join().unwrap(), fifty);
        }
    }

    /// A hash update that panics on one chunk, as a broken hasher would.
    fn panic_on_boom(seen: &mut usize, chunk: &[u8]) {
        assert_ne!(chunk, b"boom", "hash update failed");
        *seen += chunk.len();
    }

    #[test]
    fn a_hashing_thread_that_dies_is_an_error_not_a_panic() {
        let lane = Lane::spawn("test", 0usize, panic_on_boom, |n| n);
        lane.send(&Bytes::from_static(b"abc"));
        lane.send(&Bytes::from_static(b"boom"));
        // Sends after the thread died are dropped; finish reports it.
        lane.send(&Bytes::from_static(b"more"));
        let err = lane.finish().unwrap_err();
        assert!(matches!(err, HashError::LaneStopped { lane: "test" }), "{err}");
        assert_eq!(err.kind(), ErrorKind::Io);
        // The pool still hashes correctly afterwards.
        let mut par = ParallelHasher::new(HashSelection::default());
        par.update(Bytes::from_static(b"abc"));
        assert_eq!(par.finish().unwrap().sha256.to_hex(), ABC_SHA256);
    }

    #[test]
    fn a_hasher_dropped_midway_by_a_failing_reader_leaves_the_pool_working() {
        let data = b"abc".repeat(100_000);
        let mut reader = FailingReader { data: &data, fail_at: 150_000 };
        let mut par = ParallelHasher::new(HashSelection::default());
        let mut buf = vec![0u8; 65_536];
        let err = loop {
            match std::io::Read::read(&mut reader, &mut buf) {
                Ok(n) => par.update(Bytes::copy_from_slice(&buf[..n])),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        drop(par);
        for _ in 0..20 {
            let mut par = ParallelHasher::new(HashSelection::default());
            par.update(Bytes::from_static(b"abc"));
            let d = par.finish().unwrap();
            assert_eq!((d.sha256.to_hex(), d.md5.unwrap().to_hex()), (ABC_SHA256.into(), ABC_MD5.into()));
        }
    }

    /// Gives its bytes until `fail_at`, then fails, as a pulled USB disk does.
    struct FailingReader<'a> {
        data: &'a [u8],
        fail_at: usize,
    }

    impl std::io::Read for FailingReader<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.fail_at == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "device went away"));
            }
            let n = buf.len().min(self.fail_at).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.fail_at -= n;
            Ok(n)
        }
    }

    #[test]
    fn sha256_only_omits_legacy_digests() {
        let mut par = ParallelHasher::new(HashSelection::SHA256_ONLY);
        par.update(Bytes::from_static(b"abc"));
        let d = par.finish().unwrap();
        assert_eq!(d.sha256.to_hex(), ABC_SHA256);
        assert!(d.md5.is_none() && d.sha1.is_none());
    }
}
