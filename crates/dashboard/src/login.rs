//! Sign-in and sign-out. The login form has a session (not yet signed in)
//! so it can carry a CSRF token; signing in replaces that session with a
//! new one, so an ID planted before sign-in is worth nothing after.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use time::OffsetDateTime;
use tracing::instrument;

use crate::cookies;
use crate::error::DashboardError;
use crate::form::Form;
use crate::hooks::{Credentials, HookError};
use crate::pages::{Chrome, FieldError, LoginPage};
use crate::respond::{self, see_other};
use crate::routes::{answer, hook_failed};
use crate::service::Dashboard;
use crate::session::Session;

/// GET: the form, with a session to hold its CSRF token.
#[instrument(skip_all)]
pub(crate) async fn form(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, uri: Uri) -> Response {
    let result = async {
        if dashboard.signed_in(&headers).await?.is_some() {
            return Ok(see_other(&dashboard.config, "/cases"));
        }
        let (session, new) = match dashboard.session(&headers) {
            Some(session) => (session, false),
            None => (dashboard.sessions.create(None), true),
        };
        let signed_out =
            uri.query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "signed_out"));
        let mut response = render(&dashboard, &session, String::new(), Vec::new(), signed_out, StatusCode::OK)?;
        if new {
            response.headers_mut().append(header::SET_COOKIE, cookies::set(&dashboard.config, &session.cookie));
        }
        Ok(response)
    };
    answer(&dashboard, result.await)
}

fn render(
    dashboard: &Dashboard,
    session: &Session,
    username: String,
    errors: Vec<FieldError>,
    signed_out: bool,
    status: StatusCode,
) -> Result<Response, DashboardError> {
    let page = Chrome::new(&dashboard.config, None);
    respond::page(status, &LoginPage { page, csrf: session.csrf.clone(), username, errors, signed_out })
}

fn field_error(field: &'static str, message: &str) -> Vec<FieldError> {
    vec![FieldError { field, message: message.to_owned() }]
}

/// What the form asks for, or the errors to show.
fn credentials(form: &Form) -> Result<Credentials, Vec<FieldError>> {
    let (username, password, token) = (form.text("username"), form.raw("password"), form.text("token"));
    match (username.is_empty(), password.is_empty(), token.is_empty()) {
        (true, true, false) => Ok(Credentials::Token(token.to_owned())),
        (_, _, false) => Err(field_error("token", "Enter a user name and password, or a token, not both")),
        (true, true, true) => Err(field_error("username", "Enter your user name and password, or an API token")),
        (true, false, true) => Err(field_error("username", "Enter your user name")),
        (false, true, true) => Err(field_error("password", "Enter your password")),
        (false, false, true) => {
            Ok(Credentials::Password { username: username.to_owned(), password: password.to_owned() })
        }
    }
}

/// POST: checks the CSRF token, then the credentials; on success a new
/// signed-in session and a 303 to the cases.
#[instrument(skip_all)]
pub(crate) async fn submit(
    State(dashboard): State<Arc<Dashboard>>,
    extensions: Extensions,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let address = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    let result = async {
        // Without a session there is no token the form could match.
        let session = dashboard.session(&headers).ok_or(DashboardError::Csrf)?;
        let form = Form::read(&headers, body, dashboard.config.max_form_bytes, dashboard.config.form_timeout).await?;
        form.check_csrf(&session)?;
        let username = form.text("username").to_owned();
        let credentials = match credentials(&form) {
            Ok(credentials) => credentials,
            Err(errors) => return render(&dashboard, &session, username, errors, false, StatusCode::BAD_REQUEST),
        };
        if let Some(until) = dashboard.throttle.locked_until(&username, address) {
            tracing::warn!(username = %username, address = ?address, "sign-in refused unchecked: locked out");
            return locked_out(&dashboard, &session, username, until);
        }
        match dashboard.auth.authenticate(&credentials).await {
            Ok(principal) => {
                dashboard.throttle.signed_in(&username);
                tracing::info!(org = %principal.org, user = %principal.user, "signed in");
                dashboard.sessions.remove(&session.cookie);
                let signed_in = dashboard.sessions.create(Some(principal));
                let mut response = see_other(&dashboard.config, "/cases");
                response.headers_mut().append(header::SET_COOKIE, cookies::set(&dashboard.config, &signed_in.cookie));
                Ok(response)
            }
            Err(HookError::Refused(reason)) => {
                tracing::info!(username = %username, address = ?address, reason = %reason, "sign-in refused");
                dashboard.throttle.refused(&username, address);
                let errors = match credentials {
                    Credentials::Token(_) => field_error("token", "Enter a correct API token"),
                    Credentials::Password { .. } => field_error("username", "Enter a correct user name and password"),
                };
                render(&dashboard, &session, username, errors, false, StatusCode::UNAUTHORIZED)
            }
            Err(e @ HookError::Failed(_)) => Err(hook_failed("the authenticator", e)),
        }
    };
    answer(&dashboard, result.await)
}

/// 429 with `Retry-After`, and the login page saying when to try again.
fn locked_out(
    dashboard: &Dashboard,
    session: &Session,
    username: String,
    until: OffsetDateTime,
) -> Result<Response, DashboardError> {
    let wait = (until - dashboard.throttle.now()).whole_seconds().max(1);
    let at = until.to_offset(time::UtcOffset::UTC);
    let message = format!(
        "Too many failed sign-in attempts. Try again after {:02}:{:02} UTC (in {} minutes), or ask your administrator",
        at.hour(),
        at.minute(),
        (wait + 59) / 60
    );
    let errors = field_error("username", &message);
    let mut response = render(dashboard, session, username, errors, false, StatusCode::TOO_MANY_REQUESTS)?;
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    Ok(response)
}

/// POST: ends the session (CSRF token required), clears the cookie, and
/// says so on the login page.
#[instrument(skip_all)]
pub(crate) async fn logout(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, body: Body) -> Response {
    let result = async {
        let Some(session) = dashboard.session(&headers) else {
            return Ok(see_other(&dashboard.config, "/login"));
        };
        let form = Form::read(&headers, body, dashboard.config.max_form_bytes, dashboard.config.form_timeout).await?;
        form.check_csrf(&session)?;
        dashboard.sessions.remove(&session.cookie);
        if let Some(principal) = &session.principal {
            tracing::info!(org = %principal.org, user = %principal.user, "signed out");
        }
        let mut response = see_other(&dashboard.config, "/login?signed_out=1");
        response.headers_mut().append(header::SET_COOKIE, cookies::clear(&dashboard.config));
        Ok(response)
    };
    answer(&dashboard, result.await)
}
