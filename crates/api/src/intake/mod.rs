//! Evidence into a case through the API: tus uploads at `/v1/uploads`
//! (authorised against the access state, ingested on completion), a plain
//! `PUT` with RFC 9530 `Content-Digest`, bulk submissions of item
//! manifests naming uploads, and the status of what a case received.
//!
//! Every received file goes through [`receive::ingest_received`]: the
//! ingest use case with the authenticated user as the operator, beside the
//! server's signing key; then the stored original's SHA-256 is checked
//! against the one computed as the bytes arrived. What happened is kept in
//! the intake journal ([`exhibit_app::intake`]), which the status
//! endpoint reads, so it survives a restart.
//!
//! ```no_run
//! # fn build(config: exhibit_api::intake::IntakeConfig, access: std::sync::Arc<dyn exhibit_app::access::AccessState>, reader: exhibit_app::CaseReader) -> Result<(), exhibit_tus::TusError> {
//! let intake = exhibit_api::intake::Intake::open(config, access, reader)?;
//! intake.uploads().spawn_sweeper();
//! // ApiState { intake: Some(intake), .. }; exhibit_api::router serves /v1/uploads.
//! # Ok(()) }
//! ```

pub mod auth;
pub mod put;
pub mod receive;
mod row_items;
pub mod status;
pub mod submissions;
pub mod tus_hooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use exhibit_app::CaseReader;
use exhibit_app::access::AccessState;
use exhibit_app::ingest::{IngestDeps, IngestOptions};
use exhibit_tus::{TusConfig, TusError, TusService};

/// The largest plain PUT by default: larger files go by tus, which resumes.
pub const DEFAULT_MAX_PUT_BYTES: u64 = 1 << 30;

/// What the server needs to take evidence in.
pub struct IntakeConfig {
    /// The ingest's store, queue (signed, for a broker), signer, trust and stages.
    pub deps: IngestDeps,
    /// How each ingest runs.
    pub options: IngestOptions,
    /// Local folder for PUT bodies and the named links ingests read.
    pub staging_dir: PathBuf,
    /// The largest PUT body (413 above).
    pub max_put_bytes: u64,
    /// How long a PUT body may send nothing.
    pub body_idle: Duration,
    /// The tus service's settings (its own staging folder among them).
    pub tus: TusConfig,
}

/// What ingests a received file: the ingest's dependencies and the state
/// it records in, shared by the PUT handler and tus's completion hook.
pub struct Receiver {
    /// The ingest's store, queue, signer, trust and stages.
    pub deps: IngestDeps,
    /// How each ingest runs.
    pub options: IngestOptions,
    /// Local folder for PUT bodies and ingest links.
    pub staging_dir: PathBuf,
    /// The largest PUT body.
    pub max_put_bytes: u64,
    /// How long a PUT body may send nothing.
    pub body_idle: Duration,
    /// Users, cases and the intake journal.
    pub access: Arc<dyn AccessState>,
    /// The read model, to check what an ingest recorded.
    pub reader: CaseReader,
}

/// The server's evidence intake: the [`Receiver`] and the tus service
/// served at `/v1/uploads` by [`crate::router`].
pub struct Intake {
    receiver: Arc<Receiver>,
    uploads: Arc<TusService>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("staging_dir", &self.staging_dir)
            .field("max_put_bytes", &self.max_put_bytes)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("staging_dir", &self.receiver.staging_dir)
            .field("max_put_bytes", &self.receiver.max_put_bytes)
            .field("tus_staging_dir", &self.uploads.config().staging_dir)
            .finish_non_exhaustive()
    }
}

impl Intake {
    /// Opens the tus staging folder (loading the uploads it holds), with
    /// hooks over `access` (who may upload where) and the ingest (what
    /// happens to a finished upload).
    pub fn open(config: IntakeConfig, access: Arc<dyn AccessState>, reader: CaseReader) -> Result<Self, TusError> {
        let receiver = Arc::new(Receiver {
            deps: config.deps,
            options: config.options,
            staging_dir: config.staging_dir,
            max_put_bytes: config.max_put_bytes,
            body_idle: config.body_idle,
            access: access.clone(),
            reader,
        });
        let authorizer = Arc::new(auth::AccessAuthorizer { access });
        let completion = Arc::new(tus_hooks::IngestOnCompletion { receiver: receiver.clone() });
        let uploads = Arc::new(TusService::new(config.tus, authorizer, completion)?);
        Ok(Self { receiver, uploads })
    }

    /// The tus service: start its sweeper and hand over what a crash left
    /// (`hand_over_pending`) when the server starts.
    pub fn uploads(&self) -> &Arc<TusService> {
        &self.uploads
    }

    /// What ingests received files.
    pub fn receiver(&self) -> &Arc<Receiver> {
        &self.receiver
    }
}
