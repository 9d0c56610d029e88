//! `exhibit serve`: the HTTP API (crates/api) over the configured store,
//! read model and access state, signing the events it records with the
//! configured key and naming the authenticated user as the operator.
//! SIGTERM or SIGINT stops it taking connections; requests in hand finish
//! (a bulk submission finishes its row in flight and records the rest as
//! not processed), for at most [`DRAIN_TIME`], after which it exits anyway.

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
use crate::session::{case_reader, open_signer_held_by, open_store};
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
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let signer = open_signer_held_by(&config, format!("exhibit serve on {host}"))?;
    let trusted = load_trusted(&args.trust, &config)?.map(Arc::new);
    let options = ApiOptions {
        max_body_bytes: config.api.max_body_bytes,
        trusted,
        introduce_key: args.introduce_key,
        host,
        body_timeout: config.serve.body_timeout(),
    };
    let keys = (options.trusted.as_deref().cloned(), args.introduce_key);
    let intake =
        super::serve_uploads::intake(&config, (store.clone(), signer.clone()), (access.clone(), reader.clone()), keys)?;
    let drain = Arc::new(exhibit_api::drain::Drain::default());
    let (ranged_accesses, after_response) = Default::default();
    let state = Arc::new(ApiState {
        store,
        reader,
        access,
        signer,
        options,
        intake,
        drain: drain.clone(),
        ranged_accesses,
        after_response,
    });
    let tls = tls_config(&args, &config)?;
    let app = app(&state, &config, tls.is_some())?;
    let listen = args.listen.unwrap_or_else(|| config.api.listen.clone());
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen} (--listen, [api] listen)"))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!("exhibit serve: listening on {scheme}://{addr}");
    let uploads = state.intake.as_ref().map(|intake| intake.uploads().clone());
    let limits = config.serve.connection_limits();
    serve_until_stopped((listener, limits), tls, app, (drain, uploads)).await?;
    // A download cut as the server stopped is recorded as cut before exit.
    if tokio::time::timeout(DRAIN_TIME, state.after_response.idle()).await.is_err() {
        eprintln!("exhibit serve: records of cut downloads did not finish within {}s", DRAIN_TIME.as_secs());
    }
    eprintln!("exhibit serve: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Serves until SIGTERM or SIGINT; then sets `drain` (submissions take no
/// new rows), ends the upload bodies being received (keeping their bytes),
/// stops taking connections and waits for the requests in hand
/// at most [`DRAIN_TIME`].
async fn serve_until_stopped(
    (listener, limits): (tokio::net::TcpListener, exhibit_api::connections::ConnectionLimits),
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    (drain, uploads): (Arc<exhibit_api::drain::Drain>, Option<Arc<exhibit_tus::TusService>>),
) -> anyhow::Result<()> {
    let (mut term, mut int) = stop_signal()?;
    let (stopping, stopped) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!("exhibit serve: stopping: finishing the requests in hand");
        drain.begin();
        // A stalled upload would outlast the drain time and lose what it
        // received; it ends now and keeps its bytes.
        if let Some(uploads) = &uploads {
            uploads.stop_receiving();
        }
        let _ = stopping.send(());
    };
    let serving = exhibit_api::serve_app_limited(listener, tls, app, shutdown, limits);
    let drain_over = async {
        match stopped.await {
            Ok(()) => tokio::time::sleep(DRAIN_TIME).await,
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        served = serving => served.context("the server failed")?,
        () = drain_over => {
            let secs = DRAIN_TIME.as_secs();
            eprintln!("exhibit serve: the requests in hand did not finish within {secs}s; stopping without them");
        }
    }
    Ok(())
}

/// How long requests in hand may take to finish once the server is told
/// to stop. A bulk submission stops taking rows at once, so only a row in
/// flight, an upload's chunk or a download is waited for.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(20);

/// The API under its per-token limits, and the dashboard at /dashboard.
fn app(state: &Arc<ApiState>, config: &Config, tls: bool) -> anyhow::Result<Router> {
    let limits = config.api.token_limits().map_err(|key| anyhow::anyhow!("{key} must be at least 1"))?;
    let api = exhibit_api::router(state.clone());
    let api = exhibit_api::with_token_limits(api, TokenLimits::new(limits, state.access.clone()));
    let dashboard = DashboardConfig { tls, form_timeout: config.serve.body_timeout(), ..DashboardConfig::default() };
    let dashboard = exhibit_api::dashboard::router(state, dashboard).context("cannot set up the dashboard")?;
    let app = api.merge(dashboard);
    Ok(if tls { exhibit_api::with_hsts(app) } else { app })
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

fn stop_signal() -> anyhow::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    let term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let int = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    Ok((term, int))
}
