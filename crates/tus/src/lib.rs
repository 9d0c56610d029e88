//! tus 1.0 resumable uploads for exhibit: core (HEAD, PATCH, OPTIONS),
//! creation, checksum (sha256), termination and expiration, as an axum
//! [`Router`](axum::Router) the API server nests at `/v1/uploads`.
//!
//! This crate owns the protocol and the staging folder: each upload's bytes
//! stream to one file at constant memory, with its offset and metadata in
//! an atomically replaced sidecar, fsynced before a PATCH is answered, and
//! the SHA-256 of the whole upload computed as the bytes arrive. The server
//! supplies two hooks: an [`UploadAuthorizer`] (who is calling, may they
//! upload to this case) and an [`UploadCompletion`] (called once with the
//! finished upload and its SHA-256). Uploads belong to the organisation
//! that created them; anyone else gets 404.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use exhibit_tus::{TusConfig, TusService, UploadAuthorizer, UploadCompletion};
//! # fn mount(auth: Arc<dyn UploadAuthorizer>, done: Arc<dyn UploadCompletion>) -> Result<axum::Router, exhibit_tus::TusError> {
//! let service = Arc::new(TusService::new(TusConfig::default(), auth, done)?);
//! # async {
//! service.hand_over_pending().await?; // what a crash left complete
//! # Ok::<(), exhibit_tus::TusError>(()) };
//! service.spawn_sweeper();
//! let app = axum::Router::new().nest("/v1/uploads", exhibit_tus::router(service));
//! # Ok(app) }
//! ```
//!
//! For a plain PUT, [`receive::save_body`] streams a body to a file with its
//! SHA-256 and [`content_digest`] checks it against RFC 9530 `Content-Digest`.

pub mod config;
pub mod content_digest;
pub mod error;
pub mod headers;
pub mod hooks;
mod http;
pub mod metadata;
pub mod receive;
pub mod service;
pub mod staging;
pub mod upload_id;

pub use config::TusConfig;
pub use error::{ConfigError, TusError, TusErrorKind};
pub use hooks::{
    AuthRefusal, CompletedUpload, Principal, RefusedChunk, StagedBytes, UploadAuthorizer, UploadCompletion,
};
pub use http::{http_date, router};
pub use metadata::FileName;
pub use service::{Clock, TusService};
pub use upload_id::UploadId;
