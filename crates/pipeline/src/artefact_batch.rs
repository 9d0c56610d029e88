//! Storing many artefacts with one group commit: objects and manifests are
//! staged in a [`WriteBatch`], made durable and published together, and
//! only then are their ledger events appended, also as one batch. A stage
//! that makes thousands of small artefacts (every file on a disk image)
//! pays a few flushes per batch instead of several per artefact. The ledger
//! never names an object that is not yet durable.

use exhibit_core::canonical::to_canonical_vec;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::event::CustodyEvent;
use exhibit_core::layout::{manifest_key, objects_prefix};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_store::{Body, Published, PutReceipt, WriteBatch};

use crate::manifest_io::adopt_manifest;
use crate::{StageContext, StageError, Tally};

/// Artefacts staged before a batch asks to be committed.
const MAX_ARTEFACTS: usize = 256;
/// Bytes staged before a batch asks to be committed.
const MAX_BYTES: u64 = 256 << 20;

/// An artefact whose object and manifest are staged.
struct Pending {
    /// What to name in a failure: the artefact's path in its source.
    label: String,
    manifest: ArtefactManifest,
    /// Its event; `artefact.manifest_sha256` names the staged manifest.
    event: CustodyEvent,
    /// Where its manifest is among the batch's puts.
    manifest_put: usize,
}

/// An artefact the commit could not record, and why.
#[derive(Debug)]
pub struct NotRecorded {
    /// The label it was added with.
    pub label: String,
    /// Why.
    pub reason: String,
}

/// Objects, manifests and events of many artefacts, committed together.
pub struct ArtefactBatch<'a> {
    ctx: &'a StageContext,
    writes: WriteBatch,
    puts: usize,
    pending: Vec<Pending>,
}

impl<'a> ArtefactBatch<'a> {
    /// An empty batch for the case of `ctx`.
    pub fn new(ctx: &'a StageContext) -> Self {
        Self { ctx, writes: WriteBatch::new(ctx.store.clone()), puts: 0, pending: Vec::new() }
    }

    /// Stages an artefact's content in the case's object store.
    pub async fn put_content(&mut self, body: Body, hashes: HashSelection) -> Result<PutReceipt, StageError> {
        let prefix = objects_prefix(&self.ctx.case);
        let receipt =
            self.writes.put_content(&prefix, body, hashes).await.map_err(|e| {
                StageError::from_kind(e.kind().into(), format!("content could not be read or stored: {e}"))
            })?;
        self.puts += 1;
        Ok(receipt)
    }

    /// Stages `manifest`, and queues `event` (whose `artefact` must be set)
    /// for the ledger with the manifest's SHA-256 filled in.
    pub async fn add(
        &mut self,
        label: String,
        manifest: ArtefactManifest,
        mut event: CustodyEvent,
    ) -> Result<(), StageError> {
        let key = manifest_key(&self.ctx.case, &manifest.id);
        let bytes = to_canonical_vec(&manifest).map_err(|e| StageError::input(e.to_string()))?;
        let sha256 = Sha256Digest::of(&bytes);
        self.writes
            .put_new(&key, Box::new(std::io::Cursor::new(bytes)), HashSelection::SHA256_ONLY)
            .await
            .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot stage manifest {key}: {e}")))?;
        if let Some(artefact) = event.artefact.as_mut() {
            artefact.manifest_sha256 = Some(sha256);
        }
        self.pending.push(Pending { label, manifest, event, manifest_put: self.puts });
        self.puts += 1;
        Ok(())
    }

    /// Whether enough is staged that the caller should commit now.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= MAX_ARTEFACTS || self.writes.staged_bytes() >= MAX_BYTES
    }

    /// Publishes everything staged, then records the events. A manifest an
    /// interrupted run already stored is kept when it describes the same
    /// artefact; one that differs fails that artefact alone, returned for
    /// the caller to record.
    pub async fn commit(&mut self) -> Result<Vec<NotRecorded>, StageError> {
        let writes = std::mem::replace(&mut self.writes, WriteBatch::new(self.ctx.store.clone()));
        let pending = std::mem::take(&mut self.pending);
        self.puts = 0;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = writes
            .commit()
            .await
            .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot store a batch of artefacts: {e}")))?;
        let mut events = Vec::with_capacity(pending.len());
        let mut failures = Vec::new();
        for mut p in pending {
            if outcomes.get(p.manifest_put) == Some(&Published::Conflict) {
                let key = manifest_key(&self.ctx.case, &p.manifest.id);
                match adopt_manifest(self.ctx, &p.manifest, &key).await {
                    Ok(sha256) => {
                        if let Some(artefact) = p.event.artefact.as_mut() {
                            artefact.manifest_sha256 = Some(sha256);
                        }
                    }
                    Err(e) => {
                        failures.push(NotRecorded { label: p.label, reason: e.message });
                        continue;
                    }
                }
            }
            events.push(p.event);
        }
        let recorded = self.ctx.record_batch(&events).await?;
        Tally::add(&self.ctx.tally.stored, recorded as u64);
        Ok(failures)
    }
}
