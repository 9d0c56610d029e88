//! The evidence intake of `exhibit serve` (crates/api `intake`): the tus
//! service at `/v1/uploads`, the ingest each finished upload runs (the
//! stages `exhibit ingest` runs, the configured queue wrapped so jobs on a
//! broker are signed), the staging folder and limits from `[uploads]`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use exhibit_api::intake::{Intake, IntakeConfig};
use exhibit_app::CaseReader;
use exhibit_app::access::AccessState;
use exhibit_app::case_open::TrustPolicy;
use exhibit_app::ingest::{IngestDeps, IngestOptions};
use exhibit_custody::{Signer, TrustedKeys};
use exhibit_store::ObjectStore;
use exhibit_tus::TusConfig;

use crate::config::Config;

/// How long a PUT body may send nothing.
const BODY_IDLE: Duration = Duration::from_secs(60);

/// The staging folder: `[uploads] staging_dir`, else `.exhibit/uploads`
/// inside a local store, else none (the server takes no uploads).
fn staging_dir(config: &Config) -> Option<PathBuf> {
    if let Some(dir) = &config.uploads.staging_dir {
        return Some(dir.clone());
    }
    exhibit_app::access::default_access_path(&config.store.uri).and_then(|p| p.parent().map(|dir| dir.join("uploads")))
}

/// The server's evidence intake over the configured stages, queue and
/// `[uploads]`; `None` (with a notice) when there is nowhere local to
/// stage uploads. Uploads a crash or a failed ingest left are handed over
/// again in the background, and expired ones swept.
pub fn intake(
    config: &Config,
    (store, signer): (Arc<dyn ObjectStore>, Arc<Signer>),
    (access, reader): (Arc<dyn AccessState>, CaseReader),
    (trusted, introduce_key): (Option<TrustedKeys>, bool),
) -> anyhow::Result<Option<Intake>> {
    let Some(staging_dir) = staging_dir(config) else {
        crate::logging::notice(
            "exhibit serve: this store has no local folder, so it takes no uploads; set [uploads] staging_dir",
        );
        return Ok(None);
    };
    let stages = super::ingest::ingest_stages(config)?;
    let queue = exhibit_queue::open_queue_with(&config.queue.uri, config.queue.options())
        .context("cannot open the job queue")?;
    let queue = exhibit_app::job_keys::signed_queue(queue, signer.clone(), trusted.clone());
    let shared = queue.shared();
    let deps = IngestDeps { store, queue, signer, trust: TrustPolicy { trusted, introduce_key }, stages };
    let options = IngestOptions {
        workers: config.ingest.workers.clamp(1, super::ingest::MAX_WORKERS),
        max_attempts: config.ingest.max_attempts,
        // With workers elsewhere, answer once the file is acquired.
        detach: shared,
        hashes: config.hashing,
        derive_policies: crate::cluster::stages::derive_policies(config)?,
        heartbeat: config.queue.heartbeat(),
        // An upload is one file; a bundle's page count comes with a
        // submission's rows, not here.
        bundle_pages: None,
    };
    let tus = TusConfig {
        staging_dir: staging_dir.join("tus"),
        max_upload_length: config.uploads.max_upload_bytes,
        max_patch_body: config.uploads.max_upload_bytes,
        expiry: Duration::from_secs(config.uploads.expiry_secs),
        ..TusConfig::default()
    };
    let setup = IntakeConfig {
        deps,
        options,
        staging_dir,
        max_put_bytes: config.uploads.max_put_bytes,
        body_idle: BODY_IDLE,
        tus,
    };
    let intake = Intake::open(setup, access, reader).context("cannot open the upload staging folder")?;
    intake.uploads().spawn_sweeper();
    let pending = intake.uploads().clone();
    tokio::spawn(async move {
        match pending.hand_over_pending().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, "staged uploads ingested at start"),
            Err(e) => tracing::warn!(error = %e, "a staged upload could not be ingested; the case's status shows it"),
        }
    });
    Ok(Some(intake))
}
