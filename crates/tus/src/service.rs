//! The upload state machine behind the router: create, report, append,
//! terminate and expire uploads, one request per upload at a time.
//!
//! A PATCH whose client has gone quiet (a half-open connection after a
//! network break) holds its upload until its body's idle timeout. The
//! client resumes with HEAD and a new PATCH meanwhile, as tus 1.0 has it;
//! as tusd does with its lock release requests, each asks the body being
//! received to let go: it stops reading, keeps the bytes it has (unless a
//! chunk checksum was sent, which they cannot match) and saves them, and
//! the new request goes on with the upload as saved. HEAD never waits on a
//! client and is never 423: while the completion hook holds the upload (an
//! ingest), or when the holder does not let go within `lock_wait`, it
//! answers the upload as last saved, whose offset counts only bytes
//! written and fsynced.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{Extensions, HeaderMap};
use exhibit_core::Sha256Digest;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::sync::Mutex as AsyncMutex;

use crate::config::TusConfig;
use crate::error::TusError;
use crate::hooks::{AuthRefusal, CompletedUpload, Principal, StagedBytes, UploadAuthorizer, UploadCompletion};
use crate::metadata::UploadMetadata;
use crate::staging::{Staging, UploadRecord, record_version};
use crate::upload_id::UploadId;

mod append;
mod expiry;

pub use append::PatchRequest;

/// The time source; tests substitute one to expire uploads without waiting.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

struct Slot {
    record: UploadRecord,
    /// SHA-256 state over `record.offset` bytes, if this process has it.
    hasher: Option<Sha256>,
    removed: bool,
}

struct Entry {
    principal: Principal,
    /// The record as last saved, read without the lock: by the
    /// per-principal limit, the sweeper, and HEAD while the upload is held.
    saved: Mutex<UploadRecord>,
    /// Asks the body being received, if any, to stop and keep its bytes.
    release: tokio::sync::Notify,
    /// Set while the completion hook has the upload (an ingest, which may
    /// be long): HEAD then answers the saved record at once.
    handing_over: AtomicBool,
    slot: AsyncMutex<Slot>,
}

impl Entry {
    fn saved(&self) -> MutexGuard<'_, UploadRecord> {
        // A panic while holding this lock leaves the record whole.
        self.saved.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes `record` as saved.
    fn publish(&self, record: &UploadRecord) {
        *self.saved() = record.clone();
    }
}

/// The uploads of one staging folder.
pub struct TusService {
    config: TusConfig,
    staging: Staging,
    authorizer: Arc<dyn UploadAuthorizer>,
    completion: Arc<dyn UploadCompletion>,
    uploads: Mutex<HashMap<UploadId, Arc<Entry>>>,
    clock: Clock,
    /// Set when the server stops: bodies being received end there, and
    /// keep what arrived (see [`TusService::stop_receiving`]).
    stopping: tokio::sync::watch::Sender<bool>,
}

impl TusService {
    /// Opens the staging folder and loads the uploads it holds.
    pub fn new(
        config: TusConfig,
        authorizer: Arc<dyn UploadAuthorizer>,
        completion: Arc<dyn UploadCompletion>,
    ) -> Result<Self, TusError> {
        config.validate()?;
        let staging = Staging::open(&config.staging_dir)?;
        let uploads =
            staging.load_all()?.into_iter().map(|record| (record.id.clone(), Arc::new(entry(record)))).collect();
        let clock: Clock = Arc::new(OffsetDateTime::now_utc);
        let stopping = tokio::sync::watch::Sender::new(false);
        Ok(Self { config, staging, authorizer, completion, uploads: Mutex::new(uploads), clock, stopping })
    }

    /// The server is stopping: every PATCH body being received ends now,
    /// as if its client had gone, and the bytes that arrived are kept (a
    /// chunk without a checksum) so the client resumes from them. Without
    /// this, a stalled body outlasts the drain time and its bytes are lost
    /// with the process.
    pub fn stop_receiving(&self) {
        self.stopping.send_replace(true);
    }

    /// Replaces the clock (for tests of expiry).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// An upload not handed over yet, as last saved, for a status page:
    /// no principal check here (the caller checks the organisation and
    /// case), and no wait for a PATCH in progress.
    pub fn unfinished(&self, id: &str) -> Result<Option<UploadRecord>, TusError> {
        let Ok(id) = id.parse::<UploadId>() else { return Ok(None) };
        if !self.uploads().contains_key(&id) {
            return Ok(None);
        }
        Ok(self.staging.load(&id)?.filter(|record| !record.handed_over))
    }

    /// Every upload of organisation `org` not handed over yet, as last
    /// saved (for a case's status: how many are still arriving).
    pub fn unfinished_of_org(&self, org: &str) -> Result<Vec<UploadRecord>, TusError> {
        let ids: Vec<UploadId> =
            self.uploads().iter().filter(|(_, e)| e.principal.org == org).map(|(id, _)| id.clone()).collect();
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            records.extend(self.staging.load(&id)?.filter(|record| !record.handed_over));
        }
        Ok(records)
    }

    /// The configuration in force.
    pub fn config(&self) -> &TusConfig {
        &self.config
    }

    fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    fn uploads(&self) -> MutexGuard<'_, HashMap<UploadId, Arc<Entry>>> {
        // A panic while holding this lock leaves the map itself intact.
        self.uploads.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Who sent a request with these headers and extensions, through the
    /// server's authorizer.
    pub async fn authenticate(&self, headers: &HeaderMap, extensions: &Extensions) -> Result<Principal, TusError> {
        self.authorizer.authenticate_request(headers, extensions).await.map_err(refusal)
    }

    async fn check_case(&self, principal: &Principal, record: &UploadRecord) -> Result<(), TusError> {
        match self.authorizer.may_upload(principal, &record.target.case).await.map_err(refusal)? {
            true => Ok(()),
            false => Err(TusError::NotFound),
        }
    }

    /// Creates an upload (POST).
    #[tracing::instrument(skip_all, fields(org = %principal.org, length = length))]
    pub async fn create(
        &self,
        principal: &Principal,
        length: u64,
        metadata: UploadMetadata,
    ) -> Result<UploadRecord, TusError> {
        if length > self.config.max_upload_length {
            return Err(TusError::TooLarge { what: "Upload-Length", limit: self.config.max_upload_length });
        }
        let now = self.now();
        let record = UploadRecord {
            version: record_version(),
            id: UploadId::random(),
            principal: principal.clone(),
            target: metadata.target,
            metadata: metadata.pairs,
            length,
            offset: 0,
            created_at: now,
            expires_at: now + self.config.expiry,
            sha256: (length == 0).then(|| Sha256Digest::from_bytes(Sha256::digest(b"").into())),
            handed_over: false,
        };
        self.check_case(principal, &record).await?;
        self.reserve(principal, &record, now)?;
        let staging = self.staging.clone();
        let saved = record.clone();
        if let Err(e) = blocking(move || staging.create(&saved)).await {
            self.uploads().remove(&record.id);
            return Err(e);
        }
        tracing::info!(upload = %record.id, case = %record.target.case, "upload created");
        if record.is_complete() {
            let entry = self.entry(principal, record.id.as_str())?;
            let mut slot = entry.slot.lock().await;
            self.hand_over(&entry, &mut slot).await?;
        }
        Ok(record)
    }

    /// Counts the principal's unfinished uploads and registers a new one,
    /// under one lock so that racing creates cannot pass the limit.
    fn reserve(&self, principal: &Principal, record: &UploadRecord, now: OffsetDateTime) -> Result<(), TusError> {
        let mut uploads = self.uploads();
        let open = uploads
            .values()
            .filter(|e| &e.principal == principal)
            .filter(|e| {
                let saved = e.saved();
                !saved.is_complete() && saved.expires_at > now
            })
            .count();
        if open >= self.config.max_uploads_per_principal {
            return Err(TusError::TooManyUploads { limit: self.config.max_uploads_per_principal });
        }
        uploads.insert(record.id.clone(), Arc::new(entry(record.clone())));
        Ok(())
    }

    /// The upload if it exists and is the caller's organisation's.
    fn entry(&self, principal: &Principal, id: &str) -> Result<Arc<Entry>, TusError> {
        let id: UploadId = id.parse().map_err(|()| TusError::NotFound)?;
        let entry = self.uploads().get(&id).cloned().ok_or(TusError::NotFound)?;
        // An upload is its creator's: the ledger names who sent the bytes
        // as the one who created it, so a colleague may not add to it or
        // end it (the same 404 as for an upload that does not exist).
        if entry.principal != *principal {
            return Err(TusError::NotFound);
        }
        Ok(entry)
    }

    /// The upload for a request that changes it, after asking a body being
    /// received to let go (see the module's notes); 423 when the holder
    /// keeps it past `lock_wait` (a hand-over in progress).
    async fn lock<'a>(&self, entry: &'a Entry, id: &str) -> Result<tokio::sync::MutexGuard<'a, Slot>, TusError> {
        entry.release.notify_waiters();
        let slot = tokio::time::timeout(self.config.lock_wait, entry.slot.lock())
            .await
            .map_err(|_| TusError::Locked { id: id.to_owned() })?;
        self.usable(&slot.record, slot.removed)?;
        Ok(slot)
    }

    /// Whether a request may still use an upload in this state.
    fn usable(&self, record: &UploadRecord, removed: bool) -> Result<(), TusError> {
        if removed {
            return Err(TusError::NotFound);
        }
        if !record.is_complete() && record.expires_at <= self.now() {
            return Err(TusError::Expired { id: record.id.to_string() });
        }
        Ok(())
    }

    /// The upload's state (HEAD). A body being received is asked to let
    /// go, and its bytes kept are counted once saved; while the completion
    /// hook has the upload, or if the holder does not let go within
    /// `lock_wait`, the upload as last saved. Never 423.
    #[tracing::instrument(skip_all, fields(upload = id))]
    pub async fn head(&self, principal: &Principal, id: &str) -> Result<UploadRecord, TusError> {
        let entry = self.entry(principal, id)?;
        if !entry.handing_over.load(Ordering::Acquire) {
            entry.release.notify_waiters();
            if let Ok(slot) = tokio::time::timeout(self.config.lock_wait, entry.slot.lock()).await {
                self.usable(&slot.record, slot.removed)?;
                return Ok(slot.record.clone());
            }
            tracing::debug!("the upload is still held; answering it as last saved");
        }
        let saved = entry.saved().clone();
        self.usable(&saved, false)?;
        Ok(saved)
    }

    /// Calls the completion hook once for a complete upload.
    async fn hand_over(&self, entry: &Entry, slot: &mut Slot) -> Result<(), TusError> {
        entry.handing_over.store(true, Ordering::Release);
        let handed = self.hand_over_held(slot).await;
        entry.handing_over.store(false, Ordering::Release);
        entry.publish(&slot.record);
        handed
    }

    async fn hand_over_held(&self, slot: &mut Slot) -> Result<(), TusError> {
        let record = &slot.record;
        if record.handed_over {
            return Ok(());
        }
        let sha256 = record.sha256.ok_or_else(|| TusError::CorruptRecord {
            path: self.staging.data_path(&record.id).display().to_string(),
            reason: "complete without a SHA-256".into(),
        })?;
        let upload = CompletedUpload {
            id: record.id.clone(),
            principal: record.principal.clone(),
            case: record.target.case.clone(),
            exhibit: record.target.exhibit.clone(),
            filename: record.target.filename.clone(),
            length: record.length,
            sha256,
            data_path: self.staging.data_path(&record.id),
        };
        let staged = self
            .completion
            .upload_completed(&upload)
            .await
            .map_err(|reason| TusError::Hook { hook: "the completion hook", reason })?;
        let mut record = record.clone();
        record.handed_over = true;
        let staging = self.staging.clone();
        let saved = record.clone();
        // The record says "handed over" before the bytes go: a crash between
        // the two leaves bytes no one needs, never a record that would hand
        // over bytes that are gone.
        blocking(move || {
            staging.save(&saved)?;
            match staged {
                StagedBytes::Remove => staging.remove_data(&saved.id),
                StagedBytes::Keep => Ok(()),
            }
        })
        .await?;
        tracing::info!(upload = %record.id, sha256 = %sha256, length = record.length, ?staged, "upload complete, handed over");
        slot.record = record;
        Ok(())
    }

    /// Hands over every complete upload the hook has not taken (after a
    /// crash or a failed hook): call once at start. Each is tried, so one
    /// that keeps failing does not hold up the rest (it stays staged for
    /// the next try). Returns how many were handed over, or the first
    /// failure once all were tried.
    pub async fn hand_over_pending(&self) -> Result<usize, TusError> {
        let entries: Vec<Arc<Entry>> = self.uploads().values().cloned().collect();
        let (mut handed, mut first_failure) = (0, None);
        for entry in entries {
            let mut slot = entry.slot.lock().await;
            if !slot.removed && slot.record.is_complete() && !slot.record.handed_over {
                match self.hand_over(&entry, &mut slot).await {
                    Ok(()) => handed += 1,
                    Err(e) => {
                        tracing::warn!(upload = %slot.record.id, error = %e, "hand-over failed; the upload stays staged");
                        first_failure.get_or_insert(e);
                    }
                }
            }
        }
        match first_failure {
            Some(e) => Err(e),
            None => Ok(handed),
        }
    }

    /// Removes an upload (DELETE).
    #[tracing::instrument(skip_all, fields(upload = id))]
    pub async fn terminate(&self, principal: &Principal, id: &str) -> Result<(), TusError> {
        let entry = self.entry(principal, id)?;
        entry.release.notify_waiters();
        let mut slot = tokio::time::timeout(self.config.lock_wait, entry.slot.lock())
            .await
            .map_err(|_| TusError::Locked { id: id.to_owned() })?;
        if slot.removed {
            return Err(TusError::NotFound);
        }
        // Only those who may upload to the case may discard an upload of it.
        self.check_case(principal, &slot.record).await?;
        self.remove(&mut slot).await
    }

    async fn remove(&self, slot: &mut Slot) -> Result<(), TusError> {
        let (staging, id) = (self.staging.clone(), slot.record.id.clone());
        let removing = id.clone();
        blocking(move || staging.remove(&removing)).await?;
        slot.removed = true;
        self.uploads().remove(&id);
        tracing::info!(upload = %id, "upload removed");
        Ok(())
    }
}

fn entry(record: UploadRecord) -> Entry {
    Entry {
        principal: record.principal.clone(),
        saved: Mutex::new(record.clone()),
        release: tokio::sync::Notify::new(),
        handing_over: AtomicBool::new(false),
        slot: AsyncMutex::new(Slot { record, hasher: None, removed: false }),
    }
}

fn refusal(refusal: AuthRefusal) -> TusError {
    match refusal {
        AuthRefusal::Unauthenticated(reason) => TusError::Unauthenticated { kind: "unauthenticated", reason },
        AuthRefusal::TokenRefused { kind, reason } => TusError::Unauthenticated { kind, reason },
        AuthRefusal::Forbidden(reason) => TusError::Forbidden { reason },
        AuthRefusal::Failed(reason) => TusError::Hook { hook: "the authorizer", reason },
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TusError> + Send + 'static,
) -> Result<T, TusError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| TusError::io("a blocking task", io::Error::other(e)))?
}
