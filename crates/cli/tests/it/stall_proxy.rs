//! A loopback TCP proxy that forwards at most a budget of bytes from
//! clients to the server, then holds every connection (reads and forwards
//! nothing more) until released: a client uploading through it stops at a
//! point the test chose, whatever the machine's speed. Releasing cuts the
//! held connections (the server sees the request end early) and forwards
//! everything after without limit.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

pub struct StallProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Budget {
    /// Bytes still allowed upstream; `None` once released.
    left: Option<u64>,
    stalled: bool,
    forwarded: u64,
    held: Vec<TcpStream>,
}

struct Shared {
    upstream: u16,
    budget: Mutex<Budget>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Budget> {
        self.budget.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StallProxy {
    /// Forwards to `127.0.0.1:upstream`, `budget` bytes upstream at most.
    pub fn start(upstream: u16, budget: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            budget: Mutex::new(Budget { left: Some(budget), ..Budget::default() }),
            changed: Condvar::new(),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || connect(&shared, client));
            }
        });
        Self { port, shared }
    }

    /// Waits until the budget is spent; false after `limit`.
    pub fn wait_stalled(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut budget = self.shared.lock();
        while !budget.stalled {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return false };
            budget = self.shared.changed.wait_timeout(budget, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        true
    }

    /// Cuts the held connections and lifts the budget.
    pub fn release(&self) {
        let mut budget = self.shared.lock();
        budget.left = None;
        for stream in budget.held.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.shared.changed.notify_all();
    }

    /// Bytes forwarded from clients to the server so far.
    pub fn forwarded(&self) -> u64 {
        self.shared.lock().forwarded
    }
}

fn connect(shared: &Arc<Shared>, client: TcpStream) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", shared.upstream)) else { return };
    let (Ok(client_back), Ok(server_back)) = (client.try_clone(), server.try_clone()) else { return };
    {
        let mut budget = shared.lock();
        if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
            budget.held.extend([c, s]);
        }
    }
    std::thread::spawn(move || copy_down(server_back, client_back));
    copy_up(shared, client, server);
}

/// Server to client: as it comes.
fn copy_down(mut server: TcpStream, mut client: TcpStream) {
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Write);
}

/// Client to server, within the budget; at its end, holds until released.
fn copy_up(shared: &Shared, mut client: TcpStream, mut server: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let allowed = {
            let mut budget = shared.lock();
            while budget.left == Some(0) {
                budget.stalled = true;
                shared.changed.notify_all();
                budget = shared.changed.wait(budget).unwrap_or_else(PoisonError::into_inner);
                if budget.left.is_none() {
                    // Released: this connection was cut.
                    return;
                }
            }
            budget.left.map_or(buf.len(), |left| buf.len().min(usize::try_from(left).unwrap_or(usize::MAX)))
        };
        let n = match client.read(&mut buf[..allowed]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
        let mut budget = shared.lock();
        budget.forwarded += n as u64;
        if let Some(left) = budget.left.as_mut() {
            *left = left.saturating_sub(n as u64);
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}
