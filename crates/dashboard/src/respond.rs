//! Turning pages and errors into responses, with the headers every page
//! carries.

use askama::Template;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::config::DashboardConfig;
use crate::error::DashboardError;
use crate::pages::{Chrome, ErrorPage};

/// Script, style, fonts and images only from this origin; no inline
/// script; forms post only here; no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to every response the router gives.
pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // Pages show evidence: never kept in a shared or back-button cache.
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A rendered page with `status`.
pub fn page(status: StatusCode, template: &impl Template) -> Result<Response, DashboardError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// A 303 to a path under the base path (so a form's POST becomes a GET).
pub fn see_other(config: &DashboardConfig, path: &str) -> Response {
    Redirect::to(&format!("{}{path}", config.base_path)).into_response()
}

/// The error page for `error`; a server error's detail goes to the log,
/// never to the page.
pub fn error_page(config: &DashboardConfig, error: &DashboardError) -> Response {
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(error = %error, "dashboard request failed");
    } else {
        tracing::debug!(error = %error, status = status.as_u16(), "dashboard request refused");
    }
    let (heading, paragraphs, link_text, link_path) = match error {
        DashboardError::NotFound => (
            "Page not found",
            vec![
                "If you typed the web address, check it is correct.".to_owned(),
                "If you followed a link to a case, the case may not exist, or may not be shared with your organisation."
                    .to_owned(),
            ],
            "Go to your cases",
            "/cases",
        ),
        DashboardError::Csrf => (
            "Your form could not be sent",
            vec![
                "The form had expired, or did not come from this service, so nothing was changed.".to_owned(),
                "Go back to the page, reload it, and try again.".to_owned(),
            ],
            "Start again",
            "/cases",
        ),
        DashboardError::BadForm(reason) => (
            "Your form could not be read",
            vec![format!("Nothing was changed: {reason}."), "Go back to the page, reload it, and try again.".into()],
            "Start again",
            "/cases",
        ),
        DashboardError::BadQuery(reason) => (
            "This page address is not valid",
            vec![format!("{reason}."), "Follow the link from your list of cases.".into()],
            "Go to your cases",
            "/cases",
        ),
        DashboardError::FormTimedOut(limit) => (
            "Your form could not be read",
            vec![
                format!("Nothing was changed: it did not arrive whole within {} seconds.", limit.as_secs()),
                "Go back to the page, reload it, and try again.".into(),
            ],
            "Start again",
            "/cases",
        ),
        DashboardError::Hook { .. } | DashboardError::Render(_) | DashboardError::Config(_) => (
            "Sorry, there is a problem with the service",
            vec!["Try again later. If it keeps happening, tell your digitisation team the time it happened.".into()],
            "Go to your cases",
            "/cases",
        ),
    };
    let template = ErrorPage { page: Chrome::new(config, None), heading, paragraphs, link_text, link_path };
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page failed");
            (status, heading).into_response()
        }
    }
}
