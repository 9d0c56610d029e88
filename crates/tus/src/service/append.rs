//! PATCH: appending a body at the upload's offset, keeping or discarding it.

use std::io::{self, Seek, SeekFrom};

use axum::body::Body;
use exhibit_core::Sha256Digest;
use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};

use super::{Slot, TusService, blocking};
use crate::error::TusError;
use crate::hooks::{Principal, RefusedChunk};
use crate::receive::{BodyLimits, Received, receive};
use crate::staging::UploadRecord;

/// One PATCH request, its headers parsed.
#[derive(Debug, Clone, Copy)]
pub struct PatchRequest {
    /// `Upload-Offset`.
    pub offset: u64,
    /// `Content-Length`, if sent.
    pub content_length: Option<u64>,
    /// The SHA-256 from `Upload-Checksum`, if sent.
    pub checksum: Option<[u8; 32]>,
}

impl TusService {
    /// Appends a body at the upload's offset (PATCH).
    #[tracing::instrument(skip_all, fields(upload = id, offset = request.offset))]
    pub async fn patch(
        &self,
        principal: &Principal,
        id: &str,
        request: PatchRequest,
        body: Body,
    ) -> Result<UploadRecord, TusError> {
        if *self.stopping.borrow() {
            return Err(TusError::Stopping);
        }
        let entry = self.entry(principal, id)?;
        let mut slot = self.lock(&entry, id).await?;
        self.check_case(principal, &slot.record).await?;
        let record = &slot.record;
        if request.offset != record.offset {
            return Err(TusError::OffsetMismatch { sent: request.offset, actual: record.offset });
        }
        let limits = BodyLimits {
            room: record.length - record.offset,
            max_body: self.config.max_patch_body,
            idle: self.config.body_idle_timeout,
        };
        if let Some(length) = request.content_length {
            if length > limits.max_body {
                return Err(TusError::TooLarge { what: "the PATCH body", limit: limits.max_body });
            }
            if length > limits.room {
                return Err(TusError::TooLarge {
                    what: "the chunk past the upload's declared length",
                    limit: limits.room,
                });
            }
        }
        if record.is_complete() {
            // Nothing may arrive (a chunked body could still carry bytes);
            // retries the hand-over if it failed before.
            refuse_any_bytes(body, limits.idle).await?;
            self.hand_over(&entry, &mut slot).await?;
            return Ok(slot.record.clone());
        }
        let whole = self.hasher_at_offset(&mut slot).await?;
        let file = self.open_at_offset(&slot.record).await?;
        // A later HEAD, PATCH or DELETE of this upload asks this body to
        // let go (see the service's notes).
        let released = entry.release.notified();
        let mut released = std::pin::pin!(released);
        released.as_mut().enable();
        let interrupts = (self.stopping.subscribe(), released.as_mut());
        let received = receive(body, file, whole.clone(), request.checksum.is_some(), (limits, interrupts)).await;
        let outcome = self.settle_chunk(&mut slot, request, received).await;
        if outcome.is_err() && slot.hasher.is_none() {
            slot.hasher = Some(whole);
        }
        let interrupted = outcome?;
        entry.publish(&slot.record);
        if slot.record.is_complete() {
            self.hand_over(&entry, &mut slot).await?;
        }
        match interrupted {
            Some(_) if *self.stopping.borrow() => Err(TusError::Stopping),
            Some(reason) => Err(TusError::BodyInterrupted { reason }),
            None => Ok(slot.record.clone()),
        }
    }

    /// The whole-upload hasher at the upload's offset: the one this
    /// process kept, or (after a restart) one re-hashed from the file.
    async fn hasher_at_offset(&self, slot: &mut Slot) -> Result<Sha256, TusError> {
        if let Some(hasher) = slot.hasher.take() {
            return Ok(hasher);
        }
        if slot.record.offset == 0 {
            return Ok(Sha256::new());
        }
        let (staging, id, offset) = (self.staging.clone(), slot.record.id.clone(), slot.record.offset);
        tracing::info!(upload = %id, offset, "re-hashing the received prefix");
        blocking(move || staging.rehash_prefix(&id, offset)).await
    }

    /// The data file, cut back to the recorded offset (dropping bytes a
    /// crash left past it) and positioned there.
    async fn open_at_offset(&self, record: &UploadRecord) -> Result<std::fs::File, TusError> {
        let (path, offset) = (self.staging.data_path(&record.id), record.offset);
        blocking(move || {
            let open = || -> io::Result<std::fs::File> {
                let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
                file.set_len(offset)?;
                file.seek(SeekFrom::Start(offset))?;
                Ok(file)
            };
            open().map_err(|e| TusError::io(format!("opening {}", path.display()), e))
        })
        .await
    }

    /// Keeps or discards what a body delivered. Returns why the body was
    /// cut short, if it was and its bytes were kept.
    async fn settle_chunk(
        &self,
        slot: &mut Slot,
        request: PatchRequest,
        received: Result<Received, TusError>,
    ) -> Result<Option<String>, TusError> {
        let offset = slot.record.offset;
        let received = match received {
            Ok(received) => received,
            Err(e) => {
                self.discard(slot, offset).await?;
                return Err(e);
            }
        };
        if let Some(expected) = request.checksum {
            if let Some(reason) = received.interrupted {
                // A cut-short chunk cannot match its checksum: drop it whole.
                self.discard(slot, offset).await?;
                return Err(TusError::BodyInterrupted { reason });
            }
            if received.chunk_digest != Some(expected) {
                self.discard(slot, offset).await?;
                tracing::warn!(upload = %slot.record.id, offset, "chunk checksum mismatch, chunk discarded");
                let actual = received.chunk_digest.unwrap_or_default();
                self.completion.chunk_refused(&refused_chunk(&slot.record, expected, actual)).await;
                return Err(TusError::ChecksumMismatch { offset });
            }
        }
        let Received { file, bytes, whole, interrupted, .. } = received;
        blocking(move || file.sync_data().map_err(|e| TusError::io("fsync of upload data", e))).await?;
        let mut record = slot.record.clone();
        record.offset += bytes;
        if bytes > 0 {
            record.expires_at = self.now() + self.config.expiry;
        }
        if record.is_complete() {
            record.sha256 = Some(Sha256Digest::from_bytes(whole.clone().finalize().into()));
        }
        let staging = self.staging.clone();
        let saved = record.clone();
        blocking(move || staging.save(&saved)).await?;
        tracing::debug!(upload = %record.id, offset = record.offset, bytes, "chunk kept");
        slot.hasher = (!record.is_complete()).then_some(whole);
        slot.record = record;
        Ok(interrupted)
    }

    async fn discard(&self, slot: &mut Slot, offset: u64) -> Result<(), TusError> {
        let path = self.staging.data_path(&slot.record.id);
        blocking(move || {
            let cut = || std::fs::OpenOptions::new().write(true).open(&path)?.set_len(offset);
            cut().map_err(|e| TusError::io(format!("discarding a chunk of {}", path.display()), e))
        })
        .await
    }
}

fn refused_chunk(record: &UploadRecord, claimed: [u8; 32], actual: [u8; 32]) -> RefusedChunk {
    RefusedChunk {
        id: record.id.clone(),
        principal: record.principal.clone(),
        case: record.target.case.clone(),
        exhibit: record.target.exhibit.clone(),
        filename: record.target.filename.clone(),
        offset: record.offset,
        claimed: Sha256Digest::from_bytes(claimed),
        actual: Sha256Digest::from_bytes(actual),
    }
}

/// Refuses a body that carries any byte (a PATCH to a complete upload).
async fn refuse_any_bytes(body: Body, idle: std::time::Duration) -> Result<(), TusError> {
    let mut stream = body.into_data_stream();
    while let Ok(Some(frame)) = tokio::time::timeout(idle, stream.next()).await {
        if frame.is_ok_and(|f| !f.is_empty()) {
            return Err(TusError::TooLarge { what: "the chunk past the upload's declared length", limit: 0 });
        }
    }
    Ok(())
}
