//! Ingesting one received file (a finished tus upload or a PUT body) into
//! its case: the journal says `running`, the file is linked under its own
//! name (so the ledger records `filename`, not a staging ID), the ingest use
//! case runs with the user as the operator, and the stored original must
//! have the SHA-256 computed as the bytes arrived. Then `done`, or `failed`
//! with what happened and what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_app::AppError;
use exhibit_app::access::User;
use exhibit_app::ingest::{IngestRequest, NoIngestProgress, ingest};
use exhibit_app::intake::{UploadEntry, UploadState};
use exhibit_core::manifest::ArtefactKind;
use exhibit_core::{CaseId, ErrorKind, ExhibitRef, Sha256Digest};
use tracing::{info, instrument, warn};

use super::Receiver;

/// A file whose bytes have all arrived, with their SHA-256.
#[derive(Debug, Clone)]
pub struct Received {
    /// The upload's ID (tus) or `put-...`.
    pub id: String,
    /// The case, spelled as the access state keeps it.
    pub case: CaseId,
    /// The exhibit.
    pub exhibit: ExhibitRef,
    /// The name the client gave the file (a checked name, not a path).
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the bytes as they arrived.
    pub sha256: Sha256Digest,
    /// Where they are staged.
    pub data_path: PathBuf,
}

/// How custody events name a user: `user (organisation)`.
pub fn operator(user: &User) -> String {
    format!("{} ({})", user.name, user.org.name)
}

/// Ingests `file` for `user`, recording each step in the intake journal.
/// The error says what happened and what to do; the staged bytes are the
/// caller's to keep.
#[instrument(skip_all, fields(upload = %file.id, case = %file.case, exhibit = %file.exhibit))]
pub async fn ingest_received(receiver: &Receiver, user: &User, file: &Received) -> Result<(), String> {
    let journal = receiver.access.intake();
    let now = time::OffsetDateTime::now_utc();
    let entry = UploadEntry {
        id: file.id.clone(),
        case: file.case.clone(),
        org: user.org.id,
        operator: operator(user),
        exhibit: file.exhibit.clone(),
        filename: file.filename.clone(),
        size: file.size,
        sha256: file.sha256,
        state: UploadState::Running,
        reason: None,
        updated_at: now,
    };
    journal.record_upload(&entry).await.map_err(|e| format!("cannot record the upload: {e}"))?;
    let outcome = ingest_linked(receiver, &entry, &file.data_path).await;
    // Stored but with later jobs failed is `done` with a note: the evidence
    // is in the ledger (nothing to upload again), yet a person must look.
    let (state_now, reason) = match &outcome {
        Ok(note) => (UploadState::Done, note.as_deref()),
        Err(reason) => (UploadState::Failed, Some(reason.as_str())),
    };
    let at = time::OffsetDateTime::now_utc();
    if let Err(e) = journal.set_upload_state(&entry.id, state_now, reason, at).await {
        warn!(error = %e, "cannot record the upload's state");
        return Err(format!("cannot record the upload's state: {e}"));
    }
    match &outcome {
        Ok(None) => info!(sha256 = %file.sha256, "upload ingested"),
        Ok(Some(note)) => warn!(sha256 = %file.sha256, %note, "upload ingested; later jobs failed"),
        Err(reason) if file.id.starts_with("put-") => warn!(%reason, "PUT not ingested; its body is not kept"),
        Err(reason) => warn!(%reason, "upload not ingested; it stays staged"),
    }
    outcome.map(|_| ())
}

async fn ingest_linked(receiver: &Receiver, entry: &UploadEntry, data: &Path) -> Result<Option<String>, String> {
    let folder = receiver.staging_dir.join("received").join(&entry.id);
    let link = link_under_name(&folder, data, &entry.filename)
        .map_err(|e| format!("cannot stage the file for ingest ({e}); the server's staging folder needs attention"))?;
    let result = run_ingest(receiver, entry, (&folder, link)).await;
    if let Err(e) = std::fs::remove_dir_all(&folder) {
        warn!(error = %e, folder = %folder.display(), "cannot remove an ingest link");
    }
    result
}

/// A hard link to `data` named `filename`, alone in `folder` (so the
/// planner finds no companions that are not part of this upload).
fn link_under_name(folder: &Path, data: &Path, filename: &str) -> std::io::Result<PathBuf> {
    if folder.exists() {
        std::fs::remove_dir_all(folder)?;
    }
    exhibit_tus::staging::owner_only_dir(folder)?;
    let link = folder.join(filename);
    std::fs::hard_link(data, &link)?;
    Ok(link)
}

/// Ingests `link` (alone in `folder`), recorded as `upload/<id>/<filename>`:
/// the ledger names the upload and the client's file name, never the
/// server's staging folders.
async fn run_ingest(
    receiver: &Receiver,
    entry: &UploadEntry,
    (folder, link): (&Path, PathBuf),
) -> Result<Option<String>, String> {
    let request = IngestRequest {
        case: entry.case.clone(),
        exhibit: entry.exhibit.clone(),
        operator: entry.operator.clone(),
        paths: vec![link],
        recorded_as: Some((folder.to_owned(), PathBuf::from("upload").join(&entry.id))),
        options: receiver.options.clone(),
    };
    // A PUT's body is not kept after its request; a tus upload's is.
    let then = if entry.id.starts_with("put-") {
        "send the file again"
    } else {
        "the upload stays staged and is retried when the server starts"
    };
    let (outcome, _session) = ingest(&receiver.deps, request, Arc::new(NoIngestProgress))
        .await
        .map_err(|e| for_client(&e, (entry, folder), then))?;
    check_stored(receiver, entry).await?;
    Ok(needs_attention(outcome.failed))
}

/// The note an upload that was stored keeps when later jobs on it (explore,
/// OCR, transcode) failed.
fn needs_attention(failed: usize) -> Option<String> {
    (failed > 0).then(|| {
        format!(
            "needs attention: stored in the ledger, but {failed} later job(s) on it failed; the case's status lists them under problems"
        )
    })
}

/// A failed ingest as the client reads it (in the upload's status and on
/// the dashboard): what is wrong with the file when the file is at fault,
/// in words that name the upload, never a server path; otherwise that the
/// server failed, with the whole error in the server's log only (it can
/// name the server's key file, folders and operator-only advice).
fn for_client(e: &AppError, (entry, folder): (&UploadEntry, &Path), then: &str) -> String {
    match e.kind() {
        ErrorKind::Invalid | ErrorKind::Corrupt if !names_server_state(e) => {
            warn!(error = %e, "the ingest refused the file");
            format!("the file was refused: {}", named_as_upload(&e.to_string(), entry, folder))
        }
        _ => format!("{}; {then}", server_fault(e, entry, "ingesting the file")),
    }
}

/// Errors of the file's kinds that are about the server's own state (its
/// ledger, key or read model), not about the file.
fn names_server_state(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Refused(_)
            | AppError::Damaged(_)
            | AppError::KeyNotAdmitted(_)
            | AppError::Corrupt { .. }
            | AppError::Custody(_)
            | AppError::Ledger { .. }
            | AppError::Unreadable { .. }
    )
}

/// Logs the whole error and says, for the client, only that the server
/// failed while `doing`, and where its operator finds the details.
fn server_fault(e: &AppError, entry: &UploadEntry, doing: &str) -> String {
    warn!(error = %e, upload = %entry.id, "the server failed {doing}");
    format!(
        "the server failed while {doing}; its operator has the details in the server's log under upload {}",
        entry.id
    )
}

/// `text` with the upload's staging folder put as the ledger records it,
/// `upload/<id>`, and any other absolute path left out.
fn named_as_upload(text: &str, entry: &UploadEntry, folder: &Path) -> String {
    let text = text.replace(&folder.display().to_string(), &format!("upload/{}", entry.id));
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let bare = word.trim_matches(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | ',' | ';' | ':' | '`')
            });
            if bare.starts_with('/') { word.replace(bare, "<a server path>") } else { word.to_owned() }
        })
        .collect()
}

/// The stored original of this exhibit with the upload's SHA-256 and size.
async fn check_stored(receiver: &Receiver, entry: &UploadEntry) -> Result<(), String> {
    receiver
        .reader
        .refresh(&entry.case)
        .await
        .map_err(|e| server_fault(&e, entry, "reading what the ingest recorded"))?;
    let artefacts = receiver
        .reader
        .model()
        .artefacts(&entry.case, Some(&entry.exhibit))
        .await
        .map_err(|e| server_fault(&e, entry, "reading what the ingest recorded"))?;
    let stored = artefacts
        .iter()
        .any(|a| a.kind == ArtefactKind::Original && a.digests.sha256 == entry.sha256 && a.size == entry.size);
    if stored {
        Ok(())
    } else {
        Err(format!(
            "no original with SHA-256 {} ({} bytes) was recorded in exhibit {}: the bytes changed between upload and store, or the acquire failed (see the case's jobs); upload the file again",
            entry.sha256, entry.size, entry.exhibit
        ))
    }
}
