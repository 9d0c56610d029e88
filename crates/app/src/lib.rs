//! The application layer of exhibit: what the CLI, `exhibit worker` and the
//! HTTP API share above the stores and the pipeline.
//!
//! It owns the **ingest** use case ([`ingest`]), opening a case to record
//! into it ([`case_open`]), **get** with access recording and
//! **reproduce** ([`artefact`]), **verify** ([`verify`]) and **listing**
//! ([`listing`]), the **access state** ([`access`]: organisations, users, API
//! tokens, case ownership and shares, for the HTTP API) and the **read model** ([`readmodel`]): a projection of each case's
//! ledger, kept in SQLite beside the store on the embedded default and
//! brought up to date incrementally from the last sequence number it saw,
//! and the use cases that read it ([`CaseReader::show`],
//! [`CaseReader::status`]).
//!
//! ```no_run
//! # async fn example() -> exhibit_app::Result<()> {
//! let store = exhibit_store::open_store("/srv/exhibit")?;
//! let model = exhibit_app::readmodel::open_read_model(None, "/srv/exhibit").await?;
//! let reader = exhibit_app::CaseReader::new(store, model);
//! let view = reader.show(&"42AB1234520".parse().unwrap(), None).await?;
//! println!("{} artefacts", view.artefacts.len());
//! # Ok(()) }
//! ```

pub mod access;
pub mod artefact;
pub mod case_open;
mod case_view;
mod chain_problems;
mod error;
pub mod head_memory;
pub mod ingest;
pub mod intake;
pub mod item_manifest;
pub mod job_keys;
pub mod listing;
pub mod page_review;
pub mod readmodel;
pub mod verify;

pub use case_view::{CaseReader, CaseStatus, CaseView};
pub use error::{AppError, Result};
