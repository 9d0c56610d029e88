//! TLS for `exhibit serve`: rustls (aws-lc-rs provider, TLS 1.2 and 1.3) from a
//! PEM certificate chain and key, and a listener that does each handshake
//! in a task of its own, so a client that stalls in the handshake holds up
//! no one else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake that takes longer is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; more wait to be accepted.
const CONCURRENT_HANDSHAKES: usize = 256;

/// Why the certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read, or holds no PEM item of the kind wanted.
    #[error(
        "cannot read the TLS {what} {path}: {reason}; give a PEM file ([api] tls_cert / tls_key, --tls-cert / --tls-key)"
    )]
    Read {
        /// `certificate` or `key`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key file may be read by other users.
    #[error("the TLS key {0} can be read by other users; run chmod 600 on it")]
    KeyExposed(PathBuf),
    /// rustls refused the pair (a key that does not match the certificate).
    #[error("the TLS certificate and key cannot be used together: {0}")]
    Config(#[from] rustls::Error),
}

impl TlsError {
    /// The kind, for callers that branch on it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Read { .. } => "read",
            Self::KeyExposed(_) => "key-exposed",
            Self::Config(_) => "config",
        }
    }
}

fn read_error<'a>(what: &'static str, path: &'a Path) -> impl Fn(rustls_pki_types::pem::Error) -> TlsError + 'a {
    move |e| TlsError::Read { what, path: path.to_owned(), reason: e.to_string() }
}

fn check_key_private(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path).map_err(|e| TlsError::Read {
        what: "key",
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(TlsError::KeyExposed(path.to_owned()));
    }
    Ok(())
}

/// The server's TLS configuration from PEM files: the certificate chain
/// (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1), which must
/// be readable by its owner only.
pub fn load(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(read_error("certificate", cert))?
        .collect::<Result<_, _>>()
        .map_err(read_error("certificate", cert))?;
    if chain.is_empty() {
        return Err(TlsError::Read {
            what: "certificate",
            path: cert.to_owned(),
            reason: "no certificate in it".into(),
        });
    }
    check_key_private(key)?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(read_error("key", key))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts TCP connections and hands on those whose TLS handshake
/// completed, as an [`axum::serve::Listener`].
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp`. Stops when the listener is dropped.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(accept_loop(tcp, TlsAcceptor::from(config), tx));
        Ok(Self { ready, local })
    }
}

async fn accept_loop(tcp: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>) {
    let handshakes = Arc::new(Semaphore::new(CONCURRENT_HANDSHAKES));
    while !tx.is_closed() {
        let Ok(permit) = handshakes.clone().acquire_owned().await else { return };
        let (stream, addr) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: pause, as axum's own listener does.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = tx.closed() => return,
        };
        let (acceptor, tx) = (acceptor.clone(), tx.clone());
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send((tls, addr)).await;
                }
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(pair) => pair,
            // The accept loop ended (its runtime is shutting down).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
