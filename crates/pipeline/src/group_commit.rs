//! Group commit across jobs: many small jobs (acquiring and identifying
//! the files of a folder) share one flush of their objects and manifests
//! and one signed ledger entry for their events.
//!
//! A job stages its puts ([`StageContext::stage_content`],
//! [`StageContext::stage_manifest`]), builds its events, and hands both to
//! [`StageContext::commit`], which returns once they are durable. Whoever
//! arrives while no commit runs leads: it takes every submission waiting
//! (at most [`MAX_EVENTS`] events and [`MAX_BYTES`] staged), publishes all
//! their puts with one store group commit, then appends all their events
//! as batch entries (one signed entry per batch), and wakes each
//! submitter. Jobs that arrive meanwhile queue for the next leader. So a
//! batch is as large as the work that piled up during the last flush: one
//! job alone commits at once, and no timer holds anyone back.
//!
//! The ledger never names an object that is not durable: events are
//! appended only after their puts are published. A crash before the
//! ledger entry leaves durable but unrecorded objects, which a rerun finds
//! and records (a manifest is adopted if it describes the same artefact).

use std::collections::VecDeque;
use std::sync::Mutex;

use exhibit_core::canonical::to_canonical_vec;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::event::CustodyEvent;
use exhibit_core::layout::{ObjectKey, manifest_key, objects_prefix};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_store::{ContentBody, Published, PutReceipt, StageTarget, Staged, WriteBatch};
use tokio::sync::oneshot;
use tokio::sync::oneshot::error::TryRecvError;
use tracing::{debug, instrument};

use crate::{StageContext, StageError};

/// Most events one group commit takes; more wait for the next.
pub const MAX_EVENTS: usize = 4096;
/// Most staged bytes one group commit takes; more wait for the next.
pub const MAX_BYTES: u64 = 256 << 20;

/// The puts and events of one job, committed together.
#[derive(Debug, Default)]
pub struct Commit {
    staged: Vec<Staged>,
    events: Vec<CustodyEvent>,
}

impl Commit {
    /// An empty commit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a staged put.
    pub fn put(mut self, staged: Staged) -> Self {
        self.staged.push(staged);
        self
    }

    /// Adds an event, recorded once the puts are durable.
    pub fn event(mut self, event: CustodyEvent) -> Self {
        self.events.push(event);
        self
    }

    fn bytes(&self) -> u64 {
        self.staged.iter().filter_map(|s| s.receipt().map(|r| r.size)).sum()
    }
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// The puts are durable and the events recorded (or were already).
    Recorded,
    /// A create-only put found its key taken (a manifest an interrupted
    /// run stored): nothing of this commit was recorded; the puts that
    /// were published are content-addressed and harmless.
    KeyTaken(ObjectKey),
}

struct Submission {
    commit: Commit,
    done: oneshot::Sender<Result<Committed, StageError>>,
}

/// The queue of submissions and the lead of the commit in progress.
#[derive(Default)]
pub(crate) struct GroupCommit {
    waiting: Mutex<VecDeque<Submission>>,
    lead: tokio::sync::Mutex<()>,
}

impl StageContext {
    /// Stages `body` content-addressed in the case's objects, to be made
    /// durable by a [`Commit`]. The receipt's digests are final. A
    /// [`ContentBody::File`] may be read twice (hashed, then uploaded under
    /// its key, on S3); a [`ContentBody::Stream`] is read once.
    pub async fn stage_content(
        &self,
        body: ContentBody,
        hashes: HashSelection,
    ) -> Result<(PutReceipt, Staged), StageError> {
        let staged =
            self.store.stage_content(&objects_prefix(&self.case), body, hashes).await.map_err(|e| {
                StageError::from_kind(e.kind().into(), format!("content could not be read or stored: {e}"))
            })?;
        let receipt = staged
            .receipt()
            .cloned()
            .ok_or_else(|| StageError::transient("a content put reported its key taken".to_owned()))?;
        Ok((receipt, staged))
    }

    /// Stages `manifest` create-only under its key, to be made durable by a
    /// [`Commit`]. Returns its SHA-256.
    pub async fn stage_manifest(&self, manifest: &ArtefactManifest) -> Result<(Sha256Digest, Staged), StageError> {
        let key = manifest_key(&self.case, &manifest.id);
        let bytes = to_canonical_vec(manifest).map_err(|e| StageError::input(e.to_string()))?;
        let sha256 = Sha256Digest::of(&bytes);
        let staged = self
            .store
            .stage(StageTarget::New(key.clone()), Box::new(std::io::Cursor::new(bytes)), HashSelection::SHA256_ONLY)
            .await
            .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot stage manifest {key}: {e}")))?;
        Ok((sha256, staged))
    }

    /// Makes `commit`'s puts durable, then records its events, sharing the
    /// flushes and the signed entry with every job committing meanwhile.
    #[instrument(name = "group_commit", skip_all, fields(events = commit.events.len()))]
    pub async fn commit(&self, commit: Commit) -> Result<Committed, StageError> {
        let (done, mut outcome) = oneshot::channel();
        lock(&self.group.waiting).push_back(Submission { commit, done });
        loop {
            // A leader answers everything it took before it lets go.
            let _lead = self.group.lead.lock().await;
            match outcome.try_recv() {
                Ok(result) => return result,
                Err(TryRecvError::Closed) => {
                    return Err(StageError::transient("a group commit was abandoned; try again"));
                }
                Err(TryRecvError::Empty) => {}
            }
            let batch = self.take_batch();
            self.commit_batch(batch).await;
        }
    }

    fn take_batch(&self) -> Vec<Submission> {
        let mut waiting = lock(&self.group.waiting);
        let (mut events, mut bytes, mut batch) = (0, 0, Vec::new());
        while let Some(next) = waiting.front() {
            let fits = events + next.commit.events.len() <= MAX_EVENTS && bytes + next.commit.bytes() <= MAX_BYTES;
            if !batch.is_empty() && !fits {
                break;
            }
            events += next.commit.events.len();
            bytes += next.commit.bytes();
            batch.extend(waiting.pop_front());
        }
        batch
    }

    async fn commit_batch(&self, batch: Vec<Submission>) {
        debug!(jobs = batch.len(), "group commit");
        let mut writes = WriteBatch::new(self.store.clone());
        let mut owners = Vec::new();
        let mut pending = Vec::with_capacity(batch.len());
        for (i, Submission { commit, done }) in batch.into_iter().enumerate() {
            for staged in commit.staged {
                owners.push((i, staged.key().clone()));
                writes.adopt(staged);
            }
            pending.push((commit.events, done, None));
        }
        let published = match writes.commit().await {
            Ok(published) => published,
            Err(e) => {
                let kind = exhibit_core::ErrorKind::from(e.kind());
                let message = format!("cannot store a group of artefacts: {e}");
                for (_, done, _) in pending {
                    let _gone = done.send(Err(StageError::from_kind(kind, message.clone())));
                }
                return;
            }
        };
        for ((i, key), outcome) in owners.into_iter().zip(published) {
            if outcome == Published::Conflict {
                pending[i].2.get_or_insert(key);
            }
        }
        // Moved, not cloned: a submission's events are not needed once taken.
        let events: Vec<CustodyEvent> = pending
            .iter_mut()
            .filter(|(_, _, taken)| taken.is_none())
            .flat_map(|(events, _, _)| std::mem::take(events))
            .collect();
        let appended = self.record_batch(&events).await;
        for (_, done, taken) in pending {
            let result = match (&appended, taken) {
                (_, Some(key)) => Ok(Committed::KeyTaken(key)),
                (Ok(_), None) => Ok(Committed::Recorded),
                (Err(e), None) => Err(StageError { kind: e.kind, message: e.message.clone(), fault: e.fault }),
            };
            let _gone = done.send(result);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked mid-push.
    m.lock().unwrap_or_else(|p| p.into_inner())
}
