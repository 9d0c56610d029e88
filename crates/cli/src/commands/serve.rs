//! `exhibit serve`: the HTTP API (crates/api) over the configured store,
//! read model and access state, signing the events it records with the
//! configured key and naming the authenticated user as the operator.
//! SIGTERM or SIGINT stops it taking connections; requests in hand finish.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use exhibit_api::limits::TokenLimits;
use exhibit_api::{ApiOptions, ApiState};
use exhibit_dashboard::DashboardConfig;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::Config;
use crate::session::{case_reader, open_signer, open_store};
use crate::trust::{TrustArgs, load_trusted};

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides [api] listen); port 0 picks one.
    /// The address is printed on stderr.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    #[command(flatten)]
    trust: TrustArgs,
    /// Let the server's signing key join cases that other keys signed so
    /// far (downloads are recorded with it). Have the organisation add it
    /// to its trusted keys so verify trusts it.
    #[arg(long)]
    introduce_key: bool,
    /// PEM certificate chain for HTTPS (overrides [api] tls_cert); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert, readable by its owner only (overrides [api] tls_key).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

pub async fn run(args: ServeArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_store(&config)?;
    let access = super::admin::open_access(&config).await?;
    let reader = case_reader(&config, store.clone()).await?;
    let signer = open_signer(&config)?;
    let trusted = load_trusted(&args.trust, &config)?.map(Arc::new);
    let options = ApiOptions {
        max_body_bytes: config.api.max_body_bytes,
        trusted,
        introduce_key: args.introduce_key,
        host: gethostname::gethostname().to_string_lossy().into_owned(),
    };
    let keys = (options.trusted.as_deref().cloned(), args.introduce_key);
    let intake =
        super::serve_uploads::intake(&config, (store.clone(), signer.clone()), (access.clone(), reader.clone()), keys)?;
    let state = Arc::new(ApiState { store, reader, access, signer, options, intake });
    let tls = tls_config(&args, &config)?;
    let app = app(&state, &config, tls.is_some())?;
    let listen = args.listen.unwrap_or_else(|| config.api.listen.clone());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (--listen, [api] listen)"))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!("exhibit serve: listening on {scheme}://{addr}");
    exhibit_api::serve_app(listener, tls, app, stop_signal()?).await.context("the server failed")?;
    eprintln!("exhibit serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// The API under its per-token limits, and the dashboard at /dashboard.
fn app(state: &Arc<ApiState>, config: &Config, tls: bool) -> anyhow::Result<Router> {
    let limits = config.api.token_limits().map_err(|key| anyhow::anyhow!("{key} must be at least 1"))?;
    let api = exhibit_api::router(state.clone());
    let api = exhibit_api::with_token_limits(api, TokenLimits::new(limits, state.access.clone()));
    let dashboard = DashboardConfig { tls, ..DashboardConfig::default() };
    let dashboard = exhibit_api::dashboard::router(state, dashboard).context("cannot set up the dashboard")?;
    Ok(api.merge(dashboard))
}

/// The TLS configuration from the flags, else [api] tls_cert and tls_key;
/// `None` for plain HTTP.
fn tls_config(args: &ServeArgs, config: &Config) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    let cert = args.tls_cert.as_ref().or(config.api.tls_cert.as_ref());
    let key = args.tls_key.as_ref().or(config.api.tls_key.as_ref());
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(exhibit_api::tls::load(cert, key)?)),
        (None, None) => Ok(None),
        _ => anyhow::bail!("give both [api] tls_cert and tls_key (or --tls-cert and --tls-key), or neither"),
    }
}

fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!("exhibit serve: stopping: finishing the requests in hand");
    })
}
