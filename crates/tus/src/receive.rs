//! Streams one request body into the staging file at constant memory: two
//! 1 MiB buffers, one filling from the network while the other is written
//! and hashed on a blocking thread.

use std::fs::File;
use std::io::{self, Write};
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};
use tokio::sync::futures::Notified;
use tokio::task::JoinHandle;

use crate::error::TusError;

const BUFFER: usize = 1 << 20;

/// How much one body may carry, and how long it may stall.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Bytes left before the upload's declared length.
    pub room: u64,
    /// The most one PATCH may carry.
    pub max_body: u64,
    /// How long the body may send nothing.
    pub idle: Duration,
}

/// What a body delivered.
#[derive(Debug)]
pub struct Received {
    /// The file, with the bytes written (not yet fsynced).
    pub file: File,
    /// How many bytes arrived.
    pub bytes: u64,
    /// The whole-upload hasher, advanced over those bytes.
    pub whole: Sha256,
    /// SHA-256 of this body alone, if asked for.
    pub chunk_digest: Option<[u8; 32]>,
    /// Why the body stopped early, if it did (disconnect, idle timeout).
    pub interrupted: Option<String>,
}

struct Sink {
    file: File,
    whole: Sha256,
    chunk: Option<Sha256>,
}

impl Sink {
    fn write(mut self, mut buf: Vec<u8>) -> io::Result<(Self, Vec<u8>)> {
        self.file.write_all(&buf)?;
        self.whole.update(&buf);
        if let Some(chunk) = self.chunk.as_mut() {
            chunk.update(&buf);
        }
        buf.clear();
        Ok((self, buf))
    }
}

/// A write of one buffer in flight, giving back the sink and the buffer.
type PendingWrite = JoinHandle<io::Result<(Sink, Vec<u8>)>>;

/// The sink, either ready or busy writing one buffer.
struct Pipeline {
    ready: Option<Sink>,
    busy: Option<PendingWrite>,
    spare: Vec<u8>,
}

impl Pipeline {
    async fn settle(&mut self) -> Result<Sink, TusError> {
        if let Some(task) = self.busy.take() {
            let (sink, buf) = task
                .await
                .map_err(|e| TusError::io("writing a chunk", io::Error::other(e)))?
                .map_err(|e| TusError::io("writing a chunk", e))?;
            self.spare = buf;
            return Ok(sink);
        }
        self.ready.take().ok_or_else(|| TusError::io("writing a chunk", io::Error::other("the sink was lost")))
    }

    async fn hand_off(&mut self, full: &mut Vec<u8>) -> Result<(), TusError> {
        let sink = self.settle().await?;
        let buf = std::mem::replace(full, std::mem::take(&mut self.spare));
        if full.capacity() == 0 {
            full.reserve(BUFFER);
        }
        self.busy = Some(tokio::task::spawn_blocking(move || sink.write(buf)));
        Ok(())
    }
}

/// What ends a body early, keeping what arrived: the server stopping, or
/// another request on the same upload asking this one to let go.
pub type Interrupts<'a, 'b> = (tokio::sync::watch::Receiver<bool>, Pin<&'a mut Notified<'b>>);

/// Reads `body` into `file` (already positioned), hashing as it goes.
/// Refuses a body over either limit as soon as it passes it. Ends early,
/// as interrupted, when `stopping` turns true or `released` completes.
pub async fn receive(
    body: Body,
    file: File,
    whole: Sha256,
    want_chunk_digest: bool,
    (limits, (mut stopping, mut released)): (BodyLimits, Interrupts<'_, '_>),
) -> Result<Received, TusError> {
    let mut stream = body.into_data_stream();
    let sink = Sink { file, whole, chunk: want_chunk_digest.then(Sha256::new) };
    let mut pipeline = Pipeline { ready: Some(sink), busy: None, spare: Vec::with_capacity(BUFFER) };
    let mut buf = Vec::with_capacity(BUFFER);
    let mut bytes = 0u64;
    let mut interrupted = None;
    loop {
        let next = tokio::select! {
            biased;
            () = stopped(&mut stopping) => {
                interrupted = Some("the server is stopping".to_owned());
                break;
            }
            () = released.as_mut() => {
                interrupted = Some("another request on this upload took it over".to_owned());
                break;
            }
            next = tokio::time::timeout(limits.idle, stream.next()) => next,
        };
        let frame = match next {
            Err(_) => {
                interrupted = Some(format!("no bytes for {:?}", limits.idle));
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                interrupted = Some(e.to_string());
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        bytes += frame.len() as u64;
        if let Some(refusal) = over_limit(bytes, &limits) {
            // Let a write in flight finish, so the caller's truncation is last.
            let _ = pipeline.settle().await;
            return Err(refusal);
        }
        buf.extend_from_slice(&frame);
        if buf.len() >= BUFFER {
            pipeline.hand_off(&mut buf).await?;
        }
    }
    if !buf.is_empty() {
        pipeline.hand_off(&mut buf).await?;
    }
    let sink = pipeline.settle().await?;
    Ok(Received {
        file: sink.file,
        bytes,
        whole: sink.whole,
        chunk_digest: sink.chunk.map(|c| c.finalize().into()),
        interrupted,
    })
}

/// Completes when `stopping` is true; never, once its sender is gone.
async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    if stopping.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn over_limit(bytes: u64, limits: &BodyLimits) -> Option<TusError> {
    if bytes > limits.max_body {
        Some(TusError::TooLarge { what: "the request body", limit: limits.max_body })
    } else if bytes > limits.room {
        Some(TusError::TooLarge { what: "the chunk past the upload's declared length", limit: limits.room })
    } else {
        None
    }
}

/// A plain body saved to a file, with its SHA-256.
#[derive(Debug, Clone)]
pub struct SavedBody {
    /// How many bytes.
    pub length: u64,
    /// Their SHA-256, to check against `Content-Digest`.
    pub sha256: exhibit_core::Sha256Digest,
}

/// Streams a plain request body (e.g. a PUT) into a new file at `path` at
/// constant memory, hashing it, and fsyncs it. The file must not exist.
/// On any failure (over `max_bytes`, a disconnect, a stall of `idle`) the
/// file is removed. Check the result with
/// [`content_digest::verify`](crate::content_digest::verify).
pub async fn save_body(
    body: Body,
    path: &std::path::Path,
    max_bytes: u64,
    idle: Duration,
) -> Result<SavedBody, TusError> {
    let target = path.to_owned();
    let file = tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true).mode(crate::staging::OWNER_ONLY_FILE).open(&target)
    })
    .await
    .map_err(|e| TusError::io("creating a body file", io::Error::other(e)))?
    .map_err(|e| TusError::io(format!("creating {}", path.display()), e))?;
    let limits = BodyLimits { room: max_bytes, max_body: max_bytes, idle };
    // A PUT is not resumable: it runs to its end or its idle limit.
    let never = tokio::sync::watch::channel(false).1;
    let nobody = tokio::sync::Notify::new();
    let unreleased = nobody.notified();
    let unreleased = std::pin::pin!(unreleased);
    let saved = match receive(body, file, Sha256::new(), false, (limits, (never, unreleased))).await {
        Ok(Received { interrupted: Some(reason), .. }) => Err(TusError::BodyInterrupted { reason }),
        Ok(received) => {
            let Received { file, bytes, whole, .. } = received;
            tokio::task::spawn_blocking(move || file.sync_all())
                .await
                .map_err(|e| TusError::io("fsync of a body file", io::Error::other(e)))?
                .map_err(|e| TusError::io("fsync of a body file", e))
                .map(|()| SavedBody {
                    length: bytes,
                    sha256: exhibit_core::Sha256Digest::from_bytes(whole.finalize().into()),
                })
        }
        Err(e) => Err(e),
    };
    if saved.is_err() {
        let _ = std::fs::remove_file(path);
    }
    saved
}
