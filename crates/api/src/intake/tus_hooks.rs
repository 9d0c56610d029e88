//! tus's [`UploadCompletion`] for the API: a finished upload is ingested
//! before the final PATCH is answered, and its staged bytes go only once
//! the ledger records them with the same SHA-256. A failed ingest answers
//! that PATCH 500, keeps the bytes, shows in the case's status and is tried
//! again at the next start (`hand_over_pending`) or on an empty PATCH. A
//! chunk refused for its checksum is recorded as a refusal.

use std::sync::Arc;

use async_trait::async_trait;
use exhibit_app::access::names::own_case;
use exhibit_app::intake::Refusal;
use exhibit_tus::{CompletedUpload, RefusedChunk, StagedBytes, UploadCompletion};
use tracing::warn;

use super::Receiver;
use super::auth::user_of;
use super::receive::{Received, ingest_received, operator};

/// Ingests finished uploads into their cases.
#[derive(Debug)]
pub struct IngestOnCompletion {
    /// What ingests them.
    pub receiver: Arc<Receiver>,
}

#[async_trait]
impl UploadCompletion for IngestOnCompletion {
    async fn upload_completed(&self, upload: &CompletedUpload) -> Result<StagedBytes, String> {
        let receiver = &self.receiver;
        let user = user_of(receiver.access.as_ref(), &upload.principal)
            .await?
            .ok_or("the uploader's user no longer exists; the upload stays staged")?;
        // The `case` metadata names a case of the uploader's organisation.
        let case = match own_case(receiver.access.as_ref(), &upload.case, user.org.id)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(own) => own.case,
            None => return Err("the case is no longer the uploader's organisation's; the upload stays staged".into()),
        };
        let received = Received {
            id: upload.id.to_string(),
            case,
            exhibit: upload.exhibit.clone(),
            filename: upload.filename.to_string(),
            size: upload.length,
            sha256: upload.sha256,
            data_path: upload.data_path.clone(),
        };
        ingest_received(receiver, &user, &received).await?;
        Ok(StagedBytes::Remove)
    }

    async fn chunk_refused(&self, chunk: &RefusedChunk) {
        let access = self.receiver.access.as_ref();
        let user = match user_of(access, &chunk.principal).await {
            Ok(Some(user)) => user,
            Ok(None) => return,
            Err(e) => return warn!(error = %e, "cannot record a refused chunk"),
        };
        // Recorded against the uploader's own case of that name, if it has one.
        let case = match own_case(access, &chunk.case, user.org.id).await {
            Ok(Some(own)) => own.case,
            Ok(None) => return,
            Err(e) => return warn!(error = %e, "cannot record a refused chunk"),
        };
        let refusal = Refusal {
            case,
            org: user.org.id,
            operator: operator(&user),
            exhibit: Some(chunk.exhibit.to_string()),
            filename: Some(chunk.filename.to_string()),
            upload: Some(chunk.id.to_string()),
            reason: format!(
                "tus chunk at offset {} refused: Upload-Checksum said sha256 {}, the bytes are {}; nothing of the chunk was kept, send it again",
                chunk.offset, chunk.claimed, chunk.actual
            ),
            at: time::OffsetDateTime::now_utc(),
        };
        if let Err(e) = access.intake().record_refusal(&refusal).await {
            warn!(error = %e, "cannot record a refused chunk");
        }
    }
}
