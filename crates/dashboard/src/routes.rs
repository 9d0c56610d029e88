//! The routes: the case pages, the assets and the fallback. Sign-in and
//! sign-out are in [`crate::login`].

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post};
use exhibit_core::CaseId;
use tracing::instrument;

use crate::error::DashboardError;
use crate::login;
use crate::pages::{CaseChoicePage, CasePage, CasesPage, Chrome};
use crate::respond::{self, error_page, security_headers, see_other};
use crate::service::Dashboard;

/// The dashboard's routes, to be nested at the config's `base_path`.
/// (`<base>` itself redirects to the cases; `<base>/` is the outer
/// router's, as axum's nesting does not route it here.)
/// Generic over the outer router's state, so it nests into the server's
/// `Router<AppState>` as it is.
pub fn router<S: Clone + Send + Sync + 'static>(dashboard: Arc<Dashboard>) -> Router<S> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/cases", get(cases))
        .route("/cases/{case}", get(case))
        .route("/assets/{*path}", get(asset))
        .fallback(not_found)
        .layer(map_response(security_headers))
        .with_state(dashboard)
}

/// Answers a handler's result: the response, or the error page.
pub(crate) fn answer(dashboard: &Dashboard, result: Result<Response, DashboardError>) -> Response {
    result.unwrap_or_else(|error| error_page(&dashboard.config, &error))
}

async fn home(State(dashboard): State<Arc<Dashboard>>) -> Response {
    see_other(&dashboard.config, "/cases")
}

#[instrument(skip_all)]
async fn cases(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap) -> Response {
    let result = async {
        let Some((session, principal)) = dashboard.signed_in(&headers).await? else {
            return Ok(see_other(&dashboard.config, "/login"));
        };
        let cases = dashboard.data.cases(&principal).await.map_err(|e| hook_failed("the case list", e))?;
        let page = Chrome::new(&dashboard.config, Some((principal, session.csrf)));
        respond::page(StatusCode::OK, &CasesPage { page, cases })
    };
    answer(&dashboard, result.await)
}

#[instrument(skip_all)]
async fn case(
    State(dashboard): State<Arc<Dashboard>>,
    headers: HeaderMap,
    case: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let Some((session, principal)) = dashboard.signed_in(&headers).await? else {
            return Ok(see_other(&dashboard.config, "/login"));
        };
        // A malformed ID is as unknown as another organisation's case.
        let case: CaseId = case.ok().and_then(|Path(text)| text.parse().ok()).ok_or(DashboardError::NotFound)?;
        let owner = owner_of(query.as_deref())?;
        let found =
            dashboard.data.case(&principal, &case, owner.as_deref()).await.map_err(|e| hook_failed("the case", e))?;
        let Some(detail) = found else {
            // A name several organisations' shared cases carry, typed
            // without its owner: say so, and link each (as the API's 409).
            let owners = match owner {
                Some(_) => Vec::new(),
                None => {
                    dashboard.data.owners_of_name(&principal, &case).await.map_err(|e| hook_failed("the case", e))?
                }
            };
            if owners.len() < 2 {
                return Err(DashboardError::NotFound);
            }
            let page = Chrome::new(&dashboard.config, Some((principal, session.csrf)));
            return respond::page(StatusCode::CONFLICT, &CaseChoicePage::new(page, &case, &owners));
        };
        let page = Chrome::new(&dashboard.config, Some((principal, session.csrf)));
        respond::page(StatusCode::OK, &CasePage { page, detail })
    };
    answer(&dashboard, result.await)
}

/// The `owner` of a case page's query (`?owner=Force%20B`), read as the
/// API reads it: an empty owner names no organisation (the page is not
/// found), and an owner given twice is refused. Anything else in the query
/// is ignored.
fn owner_of(query: Option<&str>) -> Result<Option<String>, DashboardError> {
    let mut owners = form_urlencoded::parse(query.unwrap_or_default().as_bytes()).filter(|(k, _)| k == "owner");
    let owner = owners.next().map(|(_, v)| v.into_owned());
    if owners.next().is_some() {
        return Err(DashboardError::BadQuery("the owner is given more than once".into()));
    }
    Ok(owner)
}

async fn asset(
    State(dashboard): State<Arc<Dashboard>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    match path {
        Ok(Path(path)) => crate::assets::serve(&path, &dashboard.stylesheet, &headers),
        Err(_) => error_page(&dashboard.config, &DashboardError::NotFound),
    }
}

async fn not_found(State(dashboard): State<Arc<Dashboard>>) -> Response {
    error_page(&dashboard.config, &DashboardError::NotFound)
}

pub(crate) fn hook_failed(what: &'static str, error: crate::hooks::HookError) -> DashboardError {
    DashboardError::Hook { hook: what, reason: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::owner_of;

    #[test]
    fn the_owner_is_read_from_the_query() {
        assert_eq!(owner_of(Some("owner=Force+B")).unwrap().as_deref(), Some("Force B"));
        assert_eq!(owner_of(Some("x=1&owner=Force%20A")).unwrap().as_deref(), Some("Force A"));
        // An empty owner names no organisation, as in the API (404 there).
        assert_eq!(owner_of(Some("owner=")).unwrap().as_deref(), Some(""));
        assert_eq!(owner_of(None).unwrap(), None);
        let twice = owner_of(Some("owner=Force+A&owner=Force+B")).unwrap_err();
        assert_eq!(twice.status(), axum::http::StatusCode::BAD_REQUEST);
    }
}
