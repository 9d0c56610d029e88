//! The HTTP API of exhibit (`exhibit serve`): forces, the prosecution,
//! defence firms and archives reach the cases their organisation owns or
//! was shared, and nothing else, with `Authorization: Bearer TOKEN` on
//! every request.
//!
//! It owns the routes, the JSON shapes and their OpenAPI 3.1 document
//! (`/openapi.json`), the 404-not-403 rule, and downloads that are hashed,
//! ranged and recorded in the case's ledger as `accessed` events naming the
//! user. Who may see what lives in [`exhibit_app::access`]; what a case
//! holds comes from the read model ([`exhibit_app::CaseReader`]).
//!
//! ```no_run
//! # async fn example(state: exhibit_api::ApiState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! exhibit_api::serve(listener, std::sync::Arc::new(state), std::future::pending()).await
//! # }
//! ```

pub mod after_response;
mod artefacts;
mod case_extract;
mod case_names;
mod cases;
pub mod connections;
pub mod dashboard;
mod download;
mod download_cut;
pub use download::RangedAccesses;
pub mod drain;
mod dto;
mod error;
mod extract;
mod first_byte;
mod id_params;
pub mod intake;
pub mod limits;
pub mod openapi;
mod openapi_parts;
mod openapi_tus;
mod per_client;
mod problems;
mod range;
mod rejections;
pub mod tls;
mod write_stall;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use exhibit_app::CaseReader;
use exhibit_app::access::AccessState;
use exhibit_custody::{Signer, TrustedKeys};
use exhibit_store::ObjectStore;
use tokio::net::TcpListener;

pub use error::{ApiError, ErrorBody};

/// The default largest request body: JSON requests are small. Uploads go
/// through tus, which has limits of its own.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Largest request body accepted (413 above).
    pub max_body_bytes: usize,
    /// The organisation's pinned keys: a ledger that fails against them is
    /// not relied on, and the server's key may join a case they list it for.
    pub trusted: Option<Arc<TrustedKeys>>,
    /// Let the server's signing key join cases other keys signed so far
    /// (as `exhibit get --introduce-key`).
    pub introduce_key: bool,
    /// This machine's name, for the `actor.host` of events.
    pub host: String,
    /// How long a JSON body may take to arrive whole (408 after).
    pub body_timeout: std::time::Duration,
}

/// The default of [`ApiOptions::body_timeout`]: a JSON body is at most
/// [`DEFAULT_MAX_BODY_BYTES`] by default, seconds on the slowest link.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            trusted: None,
            introduce_key: false,
            host: "exhibit".into(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub struct ApiState {
    /// The evidence store.
    pub store: Arc<dyn ObjectStore>,
    /// The read model, over the same store.
    pub reader: CaseReader,
    /// Organisations, tokens, ownership and shares.
    pub access: Arc<dyn AccessState>,
    /// The server's signing key: every event it records is signed with it,
    /// and names the authenticated user as the operator.
    pub signer: Arc<Signer>,
    /// Limits and trust.
    pub options: ApiOptions,
    /// How evidence comes in (uploads, PUT, submissions); `None` for a
    /// server that takes none (answered 503).
    pub intake: Option<intake::Intake>,
    /// Set when the server is stopping: submissions take no new rows.
    pub drain: Arc<drain::Drain>,
    /// Ranged downloads recorded lately, so one user's ranges of one
    /// artefact make one `accessed` event per window, not one per request.
    pub ranged_accesses: download::RangedAccesses,
    /// Records made after a response is gone (a cut download), which a
    /// stopping server waits for.
    pub after_response: Arc<after_response::AfterResponse>,
}

/// Every route of the API, with tus uploads at `/v1/uploads` served by
/// the state's [`intake::Intake`] (answered 503 when the server takes no
/// uploads).
pub fn router(state: Arc<ApiState>) -> Router {
    let limit = state.options.max_body_bytes;
    let manifest_limit = usize::try_from(exhibit_app::item_manifest::MANIFEST_LIMIT).unwrap_or(usize::MAX);
    let uploads_router: Router<Arc<ApiState>> = match &state.intake {
        Some(intake) => exhibit_tus::router(intake.uploads().clone()),
        None => Router::new()
            .route("/", axum::routing::any(|| async { intake::put::no_uploads() }))
            .route("/{id}", axum::routing::any(|| async { intake::put::no_uploads() })),
    };
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .route("/v1/cases", post(cases::create).get(cases::list))
        .route("/v1/cases/{case}", get(cases::show))
        .route("/v1/cases/{case}/shares", post(cases::share))
        .route("/v1/cases/{case}/shares/{org}", delete(cases::unshare))
        .route("/v1/cases/{case}/artefacts", get(artefacts::list))
        .route("/v1/cases/{case}/artefacts/{id}/content", get(download::content))
        .route("/v1/cases/{case}/status", get(intake::status::case_status))
        .route("/v1/cases/{case}/uploads/{id}", get(intake::status::upload_status))
        .route(
            "/v1/cases/{case}/submissions",
            post(intake::submissions::submit).layer(DefaultBodyLimit::max(manifest_limit)),
        )
        .route("/v1/cases/{case}/submissions/{id}", get(intake::submissions::show))
        .route(
            "/v1/cases/{case}/exhibits/{exhibit}/files/{filename}",
            axum::routing::put(intake::put::put_file).layer(DefaultBodyLimit::disable()),
        )
        .nest("/v1/uploads", uploads_router)
        .fallback(|| async { ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed here")
        })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::Extension(extract::BodyTimeout(state.options.body_timeout)))
        .layer(axum::middleware::from_fn(rejections::api_errors_only))
        .layer(axum::middleware::from_fn(case_names::storage_ids_hidden))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One span per request, and its status in the log.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use tracing::Instrument as _;
    let span = tracing::info_span!("request", method = %request.method(), path = %request.uri().path());
    let response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| tracing::info!(status = response.status().as_u16(), "answered"));
    response
}

/// `router` with the per-token limits of [`limits`] in front of it.
pub fn with_token_limits(router: Router, limits: Arc<limits::TokenLimits>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(limits, limits::token_limits))
}

/// Under TLS, every answer tells browsers to use HTTPS only from now on
/// (HSTS, a year), so a signed-in dashboard session is never sent in clear
/// by a later plain link. Not sent over plain HTTP, where it means nothing.
pub fn with_hsts(router: Router) -> Router {
    router.layer(axum::middleware::map_response(|mut response: axum::response::Response| async move {
        response.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
        response
    }))
}

/// Serves the API on `listener` until `shutdown` completes, then finishes
/// the requests in hand.
pub async fn serve(
    listener: TcpListener,
    state: Arc<ApiState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(listener, None, router(state), shutdown).await
}

/// Serves `app` on `listener`, over TLS when `tls` is given, until
/// `shutdown` completes, then finishes the requests in hand. Handlers see
/// the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve_app(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app_limited(listener, tls, app, shutdown, connections::ConnectionLimits::default()).await
}

/// [`serve_app`] with the time a request's head may take to arrive (see
/// [`connections`]), the other connection limits at their defaults.
pub async fn serve_app_timed(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    header_timeout: std::time::Duration,
) -> std::io::Result<()> {
    let limits = connections::ConnectionLimits { header_timeout, ..connections::ConnectionLimits::default() };
    serve_app_limited(listener, tls, app, shutdown, limits).await
}

/// [`serve_app`] with these connection limits (see [`connections`]).
pub async fn serve_app_limited(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: connections::ConnectionLimits,
) -> std::io::Result<()> {
    match tls {
        None => connections::serve_connections(listener, app, shutdown, limits).await,
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config)?;
            connections::serve_connections(listener, app, shutdown, limits).await
        }
    }
}
