//! A loopback TCP proxy that can make a server unreachable for a while:
//! [`OutageProxy::outage`] stops listening (new connections are refused)
//! and cuts every connection through it (requests in flight fail);
//! [`OutageProxy::restore`] listens again on the same port.
//!
//! What it simulates: a server that is down or unreachable and comes back
//! with its data, as after a restart or a network cut. Not simulated: a
//! server that loses data, or one that hangs without refusing (requests
//! then wait for a timeout instead of failing at once).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use super::free_port;

/// A proxy from a free loopback port to `127.0.0.1:upstream`.
pub struct OutageProxy {
    /// The port clients connect to.
    pub port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    upstream: u16,
    down: AtomicBool,
    next_id: AtomicU64,
    /// Both ends of every live connection, to cut them.
    live: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
}

impl OutageProxy {
    /// Starts forwarding to `upstream`.
    pub fn start(upstream: u16) -> Self {
        let shared = Arc::new(Shared {
            upstream,
            down: AtomicBool::new(false),
            next_id: AtomicU64::new(0),
            live: Mutex::new(HashMap::new()),
        });
        let mut proxy = Self { port: free_port(), shared, acceptor: None };
        proxy.listen();
        proxy
    }

    /// Its URL, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Refuses new connections and cuts the live ones, until
    /// [`OutageProxy::restore`].
    pub fn outage(&mut self) {
        self.shared.down.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which sees `down` and closes the listener.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let cut: Vec<_> = self.shared.live().drain().collect();
        for (_, (client, server)) in cut {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }

    /// Listens again on the same port.
    pub fn restore(&mut self) {
        self.shared.down.store(false, Ordering::SeqCst);
        self.listen();
    }

    fn listen(&mut self) {
        // std sets SO_REUSEADDR, so the port is free again at once.
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("the proxy cannot listen on {}: {e}", self.port));
        let shared = self.shared.clone();
        self.acceptor = Some(std::thread::spawn(move || accept(&listener, &shared)));
    }
}

impl Shared {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (TcpStream, TcpStream)>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for OutageProxy {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.outage();
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if shared.down.load(Ordering::SeqCst) {
            return;
        }
        let Ok(server) = TcpStream::connect(("127.0.0.1", shared.upstream)) else {
            continue;
        };
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) else { continue };
        shared.live().insert(id, (c, s));
        let shared = shared.clone();
        std::thread::spawn(move || forward(id, client, server, &shared));
    }
}

/// Copies both ways until either side closes, then closes both.
fn forward(id: u64, client: TcpStream, server: TcpStream, shared: &Shared) {
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else { return };
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let _ = std::io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = upstream.join();
    let _ = server_in.shutdown(Shutdown::Both);
    shared.live().remove(&id);
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::*;

    /// An upstream that answers each connection's first line with "ok".
    fn upstream() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut byte = [0u8; 1];
                    while stream.read(&mut byte).is_ok_and(|n| n == 1) {
                        if byte[0] == b'\n' && stream.write_all(b"ok\n").is_err() {
                            return;
                        }
                    }
                });
            }
        });
        port
    }

    fn ask(stream: &mut TcpStream) -> std::io::Result<String> {
        stream.write_all(b"?\n")?;
        let mut reply = [0u8; 3];
        stream.read_exact(&mut reply)?;
        Ok(String::from_utf8_lossy(&reply).into_owned())
    }

    #[test]
    fn forwards_then_refuses_and_cuts_during_an_outage_then_forwards_again() {
        let mut proxy = OutageProxy::start(upstream());
        let mut live = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        assert_eq!(ask(&mut live).unwrap(), "ok\n");
        proxy.outage();
        assert!(ask(&mut live).is_err(), "a live connection is cut");
        let refused = TcpStream::connect(("127.0.0.1", proxy.port));
        assert!(refused.is_err(), "a new connection is refused");
        proxy.restore();
        let mut again = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        assert_eq!(ask(&mut again).unwrap(), "ok\n");
    }
}
