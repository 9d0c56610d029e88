//! The configurable limits of each connection (`ConnectionLimits`): a
//! download the client stops reading is closed after the write stall
//! limit, and the cap on connections per client address is the one given.

use std::time::Duration;

use exhibit_api::connections::ConnectionLimits;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::oneshot;

/// The body of the stand-in download: far larger than loopback's socket
/// buffers (a few MiB each way), so a client that stops reading stalls it.
const BODY: usize = 64 << 20;

/// Sends on drop: the server let go of the answer's body (its connection
/// ended), which is what the test waits for instead of sleeping.
struct Dropped(Option<oneshot::Sender<()>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A server whose `/big` streams [`BODY`] bytes; the receiver fires once
/// the body is dropped.
async fn big_download_server(limits: ConnectionLimits) -> (std::net::SocketAddr, oneshot::Receiver<()>) {
    let (tx, dropped) = oneshot::channel();
    let guard = std::sync::Arc::new(std::sync::Mutex::new(Some(Dropped(Some(tx)))));
    let app = axum::Router::new().route(
        "/big",
        axum::routing::get(move || {
            let guard = guard.lock().unwrap().take();
            async move {
                let chunks = (0..BODY >> 20).map(move |_| {
                    let _held = &guard;
                    Ok::<_, std::convert::Infallible>(bytes::Bytes::from(vec![7u8; 1 << 20]))
                });
                axum::body::Body::from_stream(futures_util::stream::iter(chunks))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(exhibit_api::serve_app_limited(listener, None, app, std::future::pending(), limits));
    (addr, dropped)
}

/// A client that asks for a large download and stops reading is
/// disconnected once the socket has taken no byte for the write stall
/// limit: the server drops the answer, and the client then reads what the
/// buffers held and the end of the connection, short of the whole body.
/// (The connection was held for ever.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_the_client_stops_reading_is_closed_after_the_write_stall_limit() {
    let limits = ConnectionLimits { write_stall: Duration::from_secs(1), ..ConnectionLimits::default() };
    let (addr, dropped) = big_download_server(limits).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut head = vec![0u8; 1024];
    let n = stream.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..n]));
    // The client reads no more; the server must give up on it.
    let given_up = tokio::time::timeout(Duration::from_secs(60), dropped).await;
    assert!(given_up.is_ok(), "the server still held a download nobody read after 60 s");
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the connection stayed open");
    assert!(n + rest.len() < BODY, "the whole body was sent ({} bytes)", n + rest.len());
}

/// A client that reads is sent the whole download, however long it takes,
/// under the same limit (the stall clock stops at each byte taken).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_that_is_read_is_sent_whole_under_the_write_stall_limit() {
    let limits = ConnectionLimits { write_stall: Duration::from_secs(1), ..ConnectionLimits::default() };
    let (addr, _dropped) = big_download_server(limits).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    assert!(answer.len() > BODY, "{} bytes", answer.len());
}

/// The cap on one client address's connections is the configured one: with
/// 3, the fourth connection is closed at once and the three held are
/// served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_cap_on_connections_per_client_is_honoured() {
    let limits = ConnectionLimits { max_per_client: 3, ..ConnectionLimits::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    tokio::spawn(exhibit_api::serve_app_limited(listener, None, app, std::future::pending(), limits));
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let mut over = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut rest = Vec::new();
    let refused = tokio::time::timeout(Duration::from_secs(20), over.read_to_end(&mut rest)).await;
    assert!(refused.is_ok(), "a fourth connection of one client was kept open under a cap of 3");
    assert!(rest.is_empty());
    for stream in &mut held {
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
    }
}
