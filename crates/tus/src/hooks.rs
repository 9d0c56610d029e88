//! The two things the server supplies: who is calling and whether they may
//! upload to a case ([`UploadAuthorizer`]), and what to do with a finished
//! upload ([`UploadCompletion`]).

use std::path::PathBuf;

use async_trait::async_trait;
use axum::http::{Extensions, HeaderMap};
use exhibit_core::{CaseId, ExhibitRef, Sha256Digest};
use serde::{Deserialize, Serialize};

use crate::metadata::FileName;
use crate::upload_id::UploadId;

/// An authenticated caller. An upload belongs to the principal that
/// created it: nobody else, in its organisation or another, can see or
/// touch it. `id` (a user) is also who the per-principal limits count
/// against.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// The organisation the caller acts for.
    pub org: String,
    /// The user or token within it.
    pub id: String,
}

/// Why the authorizer refused, or gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRefusal {
    /// No valid credentials (answered 401, kind `unauthenticated`).
    Unauthenticated(String),
    /// Credentials the server knows but refuses, with its stable word for
    /// why (`token_expired`, `token_revoked`), so tus answers 401 with the
    /// kind the rest of the server gives the same token.
    TokenRefused {
        /// The stable word for programs.
        kind: &'static str,
        /// What went wrong and what to do.
        reason: String,
    },
    /// The case is the caller's organisation's, but the caller may not
    /// upload to it, e.g. for its role (answered 403). Only for a case the
    /// caller may know of: anything else is `false` from `may_upload`.
    Forbidden(String),
    /// The authorizer itself failed (answered 500).
    Failed(String),
}

/// Identifies callers and decides which cases they may upload to.
#[async_trait]
pub trait UploadAuthorizer: Send + Sync + 'static {
    /// Who sent these request headers (typically `Authorization: Bearer`).
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthRefusal>;

    /// Who sent a request, given its extensions too, where a layer in
    /// front of the router may have identified the caller already. By
    /// default, [`Self::authenticate`] of the headers.
    async fn authenticate_request(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Principal, AuthRefusal> {
        let _ = extensions;
        self.authenticate(headers).await
    }

    /// Whether `principal` may upload evidence to `case`. `false` for a
    /// case that does not exist or that another organisation owns: the
    /// router answers 404 either way. [`AuthRefusal::Forbidden`] for a
    /// case of the principal's own organisation it may not upload to (403).
    async fn may_upload(&self, principal: &Principal, case: &CaseId) -> Result<bool, AuthRefusal>;
}

/// An upload whose bytes have all arrived, fsynced, with their SHA-256.
#[derive(Debug, Clone)]
pub struct CompletedUpload {
    /// The upload's ID.
    pub id: UploadId,
    /// Who uploaded it.
    pub principal: Principal,
    /// The case from `Upload-Metadata`.
    pub case: CaseId,
    /// The exhibit from `Upload-Metadata`.
    pub exhibit: ExhibitRef,
    /// The file name from `Upload-Metadata` (a name, never a path).
    pub filename: FileName,
    /// The length in bytes.
    pub length: u64,
    /// SHA-256 of all the bytes, computed while they arrived.
    pub sha256: Sha256Digest,
    /// The staged bytes. They stay until the upload expires or is
    /// terminated: copy or ingest them inside the hook.
    pub data_path: PathBuf,
}

/// What happens to the staged bytes once the completion hook took them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StagedBytes {
    /// Remove them now (the hook has them safe elsewhere); the record stays
    /// until the upload expires, so HEAD still reports it complete.
    Remove,
    /// Keep them until the upload expires or is terminated.
    Keep,
}

/// A chunk refused because its bytes did not match `Upload-Checksum`.
#[derive(Debug, Clone)]
pub struct RefusedChunk {
    /// The upload's ID.
    pub id: UploadId,
    /// Who sent it.
    pub principal: Principal,
    /// The case from `Upload-Metadata`.
    pub case: CaseId,
    /// The exhibit from `Upload-Metadata`.
    pub exhibit: ExhibitRef,
    /// The file name from `Upload-Metadata`.
    pub filename: FileName,
    /// Where the chunk started; the upload stays there.
    pub offset: u64,
    /// The SHA-256 the client claimed, and the one the bytes have.
    pub claimed: Sha256Digest,
    /// The SHA-256 of the bytes that arrived.
    pub actual: Sha256Digest,
}

/// Called once when an upload reaches its length, before the final PATCH
/// is answered. An error answers that PATCH 500 and leaves the upload
/// complete but not handed over, and kept (even past its expiry): an empty
/// PATCH at the final offset, or `hand_over_pending()`, calls the hook again.
#[async_trait]
pub trait UploadCompletion: Send + Sync + 'static {
    /// Takes the finished upload (e.g. ingests it), and says whether its
    /// staged bytes may go.
    async fn upload_completed(&self, upload: &CompletedUpload) -> Result<StagedBytes, String>;

    /// Told of a chunk refused for a checksum mismatch (the 460 answer is
    /// sent whatever this does), e.g. to record it. Does nothing by default.
    async fn chunk_refused(&self, _chunk: &RefusedChunk) {}
}
