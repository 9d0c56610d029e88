//! Sign-in throttling: after too many refused sign-ins for one user name,
//! or from one client address, within the lockout period, further tries
//! for it are refused unchecked until the period has passed since the
//! last refusal. Checked before the authenticator, so a locked-out guesser
//! costs no password hashing either.
//!
//! Kept in memory: a restart forgets it, as it forgets sessions. The map
//! is bounded; past its size the entries that expired go first, then the
//! oldest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use time::OffsetDateTime;

use crate::session::Clock;

/// Most keys remembered (user names and addresses together).
const MAX_KEYS: usize = 100_000;

/// How many refusals lock what out, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleLimits {
    /// Refused sign-ins for one user name before it is locked.
    pub per_user: u32,
    /// Refused sign-ins from one client address before it is locked.
    pub per_address: u32,
    /// How long a lock lasts, and how long refusals are remembered.
    pub lockout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Refusals {
    count: u32,
    last: OffsetDateTime,
}

/// Refused sign-ins by user name and by client address.
pub struct LoginThrottle {
    limits: ThrottleLimits,
    clock: Clock,
    refusals: Mutex<HashMap<Key, Refusals>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle").field("limits", &self.limits).finish_non_exhaustive()
    }
}

fn keys(username: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
    let user = (!username.is_empty()).then(|| Key::User(username.to_lowercase()));
    user.into_iter().chain(address.map(Key::Address))
}

impl LoginThrottle {
    /// A throttle with nothing refused yet.
    pub fn new(limits: ThrottleLimits, clock: Clock) -> Self {
        Self { limits, clock, refusals: Mutex::new(HashMap::new()) }
    }

    /// The throttle's clock's time.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Refusals>> {
        self.refusals.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::User(_) => self.limits.per_user,
            Key::Address(_) => self.limits.per_address,
        }
    }

    /// When a sign-in for `username` from `address` may be tried again,
    /// if either is locked out now.
    pub fn locked_until(&self, username: &str, address: Option<IpAddr>) -> Option<OffsetDateTime> {
        let now = (self.clock)();
        let map = self.lock();
        keys(username, address)
            .filter_map(|key| {
                let r = map.get(&key)?;
                let until = r.last + self.limits.lockout;
                (r.count >= self.limit(&key) && until > now).then_some(until)
            })
            .max()
    }

    /// Counts a refused sign-in against the user name and the address.
    pub fn refused(&self, username: &str, address: Option<IpAddr>) {
        let now = (self.clock)();
        let mut map = self.lock();
        if map.len() >= MAX_KEYS {
            self.prune(&mut map, now);
        }
        for key in keys(username, address) {
            let entry = map.entry(key).or_insert(Refusals { count: 0, last: now });
            if entry.last + self.limits.lockout <= now {
                entry.count = 0;
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
    }

    /// Forgets the user name's refusals after it signed in (the address's
    /// stay: one right guess does not clear a spray of wrong ones).
    pub fn signed_in(&self, username: &str) {
        if !username.is_empty() {
            self.lock().remove(&Key::User(username.to_lowercase()));
        }
    }

    fn prune(&self, map: &mut HashMap<Key, Refusals>, now: OffsetDateTime) {
        map.retain(|_, r| r.last + self.limits.lockout > now);
        while map.len() >= MAX_KEYS {
            let Some(oldest) = map.iter().min_by_key(|(_, r)| r.last).map(|(k, _)| k.clone()) else { break };
            map.remove(&oldest);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use super::*;

    fn throttle(now: Arc<Mutex<OffsetDateTime>>) -> LoginThrottle {
        let limits = ThrottleLimits { per_user: 3, per_address: 5, lockout: Duration::from_secs(600) };
        LoginThrottle::new(limits, Arc::new(move || *now.lock().unwrap()))
    }

    #[test]
    fn a_user_name_locks_after_its_limit_and_unlocks_after_the_period() {
        let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let now = Arc::new(Mutex::new(start));
        let t = throttle(now.clone());
        let here = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for _ in 0..3 {
            assert_eq!(t.locked_until("alice", here), None);
            t.refused("Alice", here);
        }
        assert_eq!(t.locked_until("ALICE", None), Some(start + Duration::from_secs(600)), "letter case");
        assert_eq!(t.locked_until("bob", None), None, "another user");
        *now.lock().unwrap() = start + Duration::from_secs(600);
        assert_eq!(t.locked_until("alice", None), None, "the period passed");
        t.refused("alice", None);
        assert_eq!(t.locked_until("alice", None), None, "counting starts again");
    }

    #[test]
    fn an_address_locks_after_its_limit_whatever_the_names() {
        let now = Arc::new(Mutex::new(OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()));
        let t = throttle(now);
        let sprayer = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
        for i in 0..5 {
            t.refused(&format!("user{i}"), sprayer);
        }
        assert!(t.locked_until("someone-new", sprayer).is_some());
        assert!(t.locked_until("someone-new", Some(IpAddr::V4(Ipv4Addr::LOCALHOST))).is_none());
        t.signed_in("user1");
        assert!(t.locked_until("user1", sprayer).is_some(), "the address stays locked");
    }
}
