//! The dashboard (crates/dashboard) as `exhibit serve` mounts it: users
//! sign in against the access state, and see the cases their organisation
//! owns or was shared, from the read model.

mod auth;
mod data;

use std::sync::Arc;

use axum::Router;
use exhibit_dashboard::{Dashboard, DashboardConfig, DashboardError};

pub use auth::AccessAuthenticator;
pub use data::{IN_FLIGHT_STAGE, ReadModelData};

/// The dashboard's router over the API's state, nested at its base path.
pub fn router(state: &Arc<ApiState>, config: DashboardConfig) -> Result<Router, DashboardError> {
    let auth = Arc::new(AccessAuthenticator::new(state.access.clone()));
    let data = Arc::new(ReadModelData::new(state.clone()));
    let base = config.base_path.clone();
    let dashboard = Arc::new(Dashboard::new(config, auth, data)?);
    // `<base>/` is not routed into a nested router: without this it would
    // be the API's JSON 404.
    let home = base.clone();
    let slash = move || async move { axum::response::Redirect::permanent(&home) };
    Ok(Router::new()
        .route(&format!("{base}/"), axum::routing::get(slash))
        .nest(&base, exhibit_dashboard::router(dashboard)))
}

use crate::ApiState;
