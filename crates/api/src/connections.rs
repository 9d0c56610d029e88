//! The server's connection loop: axum's `serve`, with a header read
//! timeout. axum sets none (its hyper builder has no timer), so a client
//! that sent half a request line held its connection, and a task, for as
//! long as it liked. Each connection here is served by hyper-util's
//! builder with a timer and [`HEADER_READ_TIMEOUT`]; the time a handler
//! takes to answer (an upload's ingest) is not limited by it. Stopping:
//! the listener is dropped, every connection is told to finish the
//! request in hand, and the loop returns when all have closed.
//!
//! hyper starts the header timer at a request's first byte, so a
//! connection that never sends one is closed here after the same time
//! ([`FirstByte`]). One client address holds at most
//! [`MAX_CONNECTIONS_PER_CLIENT`] connections; the ones over it are closed
//! at once, so one host cannot use up the server's file descriptors. Plain
//! HTTP is HTTP/1.1 only (TLS offers only `http/1.1` by ALPN): the header
//! timeout is HTTP/1's.
//!
//! A client that asks for a large download and stops reading would hold
//! its connection for ever: each connection's writes fail once the socket
//! has taken no byte for [`ConnectionLimits::write_stall`] while the server
//! had bytes to send ([`WriteStall`]). Nothing else is timed: a handler may
//! be busy, and a body slow, for as long as their own limits allow.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use crate::first_byte::FirstByte;
use crate::per_client::PerClient;
use crate::write_stall::WriteStall;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;

/// How long a request's head may take to arrive once its connection is
/// reading one.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections one client address may hold at once.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 256;

/// How long a connection may go without the client taking a byte of an
/// answer the server is sending.
pub const WRITE_STALL_LIMIT: Duration = Duration::from_secs(60);

/// What one connection may hold, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a request's head may take to arrive (and a new connection
    /// its first byte).
    pub header_timeout: Duration,
    /// How long the socket may take no byte while the server has some to
    /// write; the connection is closed after.
    pub write_stall: Duration,
    /// Connections one client address may hold at once.
    pub max_per_client: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: HEADER_READ_TIMEOUT,
            write_stall: WRITE_STALL_LIMIT,
            max_per_client: MAX_CONNECTIONS_PER_CLIENT,
        }
    }
}

/// Serves `app` on `listener` until `shutdown`, then finishes the requests
/// in hand. Handlers see the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve_connections<L>(
    mut listener: L,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnectionLimits,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let (stop_tx, stop_rx) = watch::channel(false);
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    let clients = PerClient::new(limits.max_per_client);
    let header_timeout = limits.header_timeout;
    loop {
        let (io, addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let Some(slot) = clients.admit(addr.ip()) else {
            tracing::warn!(%addr, limit = limits.max_per_client, "connection refused: the client holds too many");
            drop(io);
            continue;
        };
        let service = TowerToHyperService::new(app.clone().layer(axum::Extension(ConnectInfo(addr))));
        let (mut stop, open) = (stop_rx.clone(), open_rx.clone());
        tokio::spawn(async move {
            let (io, first_byte) = FirstByte::new(io);
            let io = WriteStall::new(io, limits.write_stall);
            let mut builder = Builder::new(TokioExecutor::new()).http1_only();
            builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let connection = builder.serve_connection(TokioIo::new(io), service);
            let mut connection = std::pin::pin!(connection);
            let silent = tokio::time::sleep(header_timeout);
            let mut silent = std::pin::pin!(silent);
            let (mut stopping, mut waiting_for_first_byte) = (false, true);
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(e) = served {
                            tracing::debug!(%addr, error = %e, "connection ended");
                        }
                        break;
                    }
                    () = &mut silent, if waiting_for_first_byte => {
                        if !first_byte.seen() {
                            tracing::debug!(%addr, "connection closed: no byte within the header timeout");
                            break;
                        }
                        waiting_for_first_byte = false;
                    }
                    changed = stop.wait_for(|stop| *stop), if !stopping => {
                        stopping = true;
                        if changed.is_ok() {
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop((open, slot));
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}
