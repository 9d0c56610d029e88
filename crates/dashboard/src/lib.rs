//! The exhibit dashboard: server-rendered pages in the GOV.UK Design
//! System for digitisation teams, supervisors, prosecutors and the
//! defence, as an axum [`Router`](axum::Router) the API server nests at
//! the config's `base_path` (`/dashboard`).
//!
//! This crate owns the pages, the sessions and their cookie, CSRF
//! protection and the vendored GOV.UK Frontend assets. The server
//! supplies two hooks: an [`Authenticator`] (a token, or a user name and
//! password, to a [`Principal`]; and whether that principal is still
//! valid) and a [`DashboardData`] (the cases a principal may see; a case
//! they may not see is `None`, and the page is 404 either way). Pages work
//! without JavaScript.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use exhibit_dashboard::{Authenticator, Dashboard, DashboardConfig, DashboardData};
//! # fn mount(auth: Arc<dyn Authenticator>, data: Arc<dyn DashboardData>) -> Result<axum::Router, exhibit_dashboard::DashboardError> {
//! let config = DashboardConfig { tls: true, ..DashboardConfig::default() };
//! let base = config.base_path.clone();
//! let dashboard = Arc::new(Dashboard::new(config, auth, data)?);
//! let app = axum::Router::new().nest(&base, exhibit_dashboard::router(dashboard));
//! # Ok(app) }
//! ```

pub mod assets;
pub mod config;
mod cookies;
pub mod error;
mod form;
pub mod hooks;
mod login;
pub mod model;
pub mod pages;
mod respond;
mod routes;
pub mod service;
pub mod session;
pub mod throttle;

pub use config::DashboardConfig;
pub use error::{ConfigError, DashboardError, DashboardErrorKind};
pub use hooks::{Authenticator, Credentials, DashboardData, HookError, Principal};
pub use model::{CaseDetail, CaseSummary, ExhibitProgress, Failure, JobCounts, Progress, ReviewItem, StageProgress};
pub use routes::router;
pub use service::Dashboard;
