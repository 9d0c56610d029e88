//! How many connections each client address holds (see
//! [`crate::connections`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Open connections by client address, each at most `limit`.
#[derive(Debug, Clone)]
pub struct PerClient {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    limit: usize,
}

/// One admitted connection; its address's count drops with it.
#[derive(Debug)]
pub struct Slot {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl PerClient {
    pub fn new(limit: usize) -> Self {
        Self { open: Arc::default(), limit }
    }

    /// A slot for a connection from `ip`, or `None` when it holds `limit`.
    pub fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(Slot { open: self.open.clone(), ip })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PerClient;

    #[test]
    fn a_client_gets_its_limit_and_a_closed_slot_back() {
        let clients = PerClient::new(2);
        let (a, b) = ("127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap());
        let first = clients.admit(a).unwrap();
        let _second = clients.admit(a).unwrap();
        assert!(clients.admit(a).is_none());
        assert!(clients.admit(b).is_some());
        drop(first);
        assert!(clients.admit(a).is_some());
    }
}
