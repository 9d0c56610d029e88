//! Test scaffolding: serves the dashboard on loopback with the stub
//! authenticator and data provider of `dashboard_stub/stub.rs`, so a real
//! browser (Playwright with Debian's Chromium) can be pointed at it. Not
//! the API server: `exhibit serve` nests the same router behind real
//! authentication and its read model.
//!
//! Prints `listening http://ADDR/dashboard` once it accepts connections.

// `StubAuth::revoke` is for the in-process tests, which share this file.
#[allow(dead_code)]
#[path = "dashboard_stub/stub.rs"]
mod stub;

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::bail;
use clap::Parser;
use exhibit_dashboard::{Dashboard, DashboardConfig};

#[derive(Parser)]
#[command(about = "Serve the dashboard on loopback with stub users and cases (test scaffolding)")]
struct Args {
    /// Loopback address to listen on (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("this test server listens on loopback only, not {}", args.listen);
    }
    let config = DashboardConfig::default();
    let base = config.base_path.clone();
    let dashboard = Dashboard::new(config, Arc::new(stub::StubAuth::default()), Arc::new(stub::fixture()))?;
    let app = axum::Router::new().nest(&base, exhibit_dashboard::router(Arc::new(dashboard)));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("listening http://{}{base}", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
