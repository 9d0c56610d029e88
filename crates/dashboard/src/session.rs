//! Server-side sessions, kept in memory. The cookie holds 256 random bits;
//! the store keys each session by the SHA-256 of them, so the map never
//! holds a usable cookie. Each session has its own CSRF token (the
//! synchroniser token every form carries). A session starts before sign-in,
//! so the login form has a token too, and is replaced by a new one at
//! sign-in, so a session ID planted before sign-in is worth nothing after.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::hooks::Principal;

/// The current time; settable in tests.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// One session as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The value of the session cookie.
    pub cookie: String,
    /// The synchroniser token every form of this session carries.
    pub csrf: String,
    /// Who signed in, if anyone has.
    pub principal: Option<Principal>,
}

impl Session {
    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        sent.len() == self.csrf.len() && bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes()))
    }
}

struct Stored {
    csrf: String,
    principal: Option<Principal>,
    created: OffsetDateTime,
    last_seen: OffsetDateTime,
}

/// Limits for [`SessionStore`].
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// A session ends after this long without a request.
    pub idle: Duration,
    /// A session ends this long after it began.
    pub lifetime: Duration,
    /// The most sessions kept.
    pub max: usize,
}

/// Every live session, by the SHA-256 of its cookie.
pub struct SessionStore {
    sessions: Mutex<HashMap<[u8; 32], Stored>>,
    limits: SessionLimits,
    clock: Clock,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore").field("limits", &self.limits).field("live", &self.len()).finish()
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn key(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

impl SessionStore {
    /// An empty store.
    pub fn new(limits: SessionLimits, clock: Clock) -> Self {
        Self { sessions: Mutex::new(HashMap::new()), limits, clock }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Stored>> {
        // A panic while holding the lock leaves a consistent map (every
        // change is one insert or remove), so a poisoned lock is used as is.
        self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn expired(&self, stored: &Stored, now: OffsetDateTime) -> bool {
        now - stored.last_seen >= self.limits.idle || now - stored.created >= self.limits.lifetime
    }

    /// The live session with this cookie, marked as used now; an expired
    /// one is removed and not returned.
    pub fn get(&self, cookie: &str) -> Option<Session> {
        let now = (self.clock)();
        let key = key(cookie);
        let mut sessions = self.lock();
        let stored = sessions.get_mut(&key)?;
        if self.expired(stored, now) {
            sessions.remove(&key);
            return None;
        }
        stored.last_seen = now;
        Some(Session { cookie: cookie.to_owned(), csrf: stored.csrf.clone(), principal: stored.principal.clone() })
    }

    /// Starts a session with a new cookie and CSRF token, making room
    /// first if the store is full.
    pub fn create(&self, principal: Option<Principal>) -> Session {
        let now = (self.clock)();
        let cookie = random_hex();
        let csrf = random_hex();
        let mut sessions = self.lock();
        if sessions.len() >= self.limits.max {
            self.make_room(&mut sessions, now);
        }
        let stored = Stored { csrf: csrf.clone(), principal: principal.clone(), created: now, last_seen: now };
        sessions.insert(key(&cookie), stored);
        Session { cookie, csrf, principal }
    }

    /// Drops expired sessions; if the store is still full, the one used
    /// longest ago, preferring one nobody signed in to.
    fn make_room(&self, sessions: &mut HashMap<[u8; 32], Stored>, now: OffsetDateTime) {
        sessions.retain(|_, stored| !self.expired(stored, now));
        if sessions.len() < self.limits.max {
            return;
        }
        let oldest = sessions
            .iter()
            .min_by_key(|(_, stored)| (stored.principal.is_some(), stored.last_seen))
            .map(|(key, _)| *key);
        if let Some(key) = oldest {
            tracing::warn!(max = self.limits.max, "session store full; the least recently used session was ended");
            sessions.remove(&key);
        }
    }

    /// Ends the session with this cookie, if there is one.
    pub fn remove(&self, cookie: &str) {
        self.lock().remove(&key(cookie));
    }

    /// How many sessions are stored (expired ones included until noticed).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(max: usize) -> (SessionStore, Arc<Mutex<OffsetDateTime>>) {
        let now = Arc::new(Mutex::new(OffsetDateTime::now_utc()));
        let clock_now = Arc::clone(&now);
        let limits = SessionLimits { idle: Duration::from_secs(60), lifetime: Duration::from_secs(600), max };
        (SessionStore::new(limits, Arc::new(move || *clock_now.lock().unwrap())), now)
    }

    fn alice() -> Principal {
        Principal { org: "force-a".into(), user: "alice".into(), role: "reviewer".into(), credential: String::new() }
    }

    #[test]
    fn a_session_is_found_by_its_cookie_only() {
        let (store, _) = store(10);
        let session = store.create(Some(alice()));
        assert_eq!(session.cookie.len(), 64);
        assert_ne!(session.cookie, session.csrf);
        assert_eq!(store.get(&session.cookie).unwrap().principal, Some(alice()));
        assert!(store.get(&session.csrf).is_none());
        assert!(store.get("").is_none());
    }

    #[test]
    fn idle_and_lifetime_limits_end_a_session() {
        let (store, now) = store(10);
        let session = store.create(None);
        for _ in 0..9 {
            *now.lock().unwrap() += Duration::from_secs(59);
            assert!(store.get(&session.cookie).is_some(), "use keeps it alive");
        }
        *now.lock().unwrap() += Duration::from_secs(60);
        assert!(store.get(&session.cookie).is_none(), "idle too long");
        assert!(store.is_empty(), "and removed");

        let session = store.create(None);
        for _ in 0..11 {
            *now.lock().unwrap() += Duration::from_secs(55);
            store.get(&session.cookie);
        }
        assert!(store.get(&session.cookie).is_none(), "past its lifetime however used");
    }

    #[test]
    fn a_full_store_ends_the_oldest_anonymous_session_first() {
        let (store, now) = store(3);
        let signed_in = store.create(Some(alice()));
        *now.lock().unwrap() += Duration::from_secs(1);
        let anonymous = store.create(None);
        *now.lock().unwrap() += Duration::from_secs(1);
        let newer = store.create(None);
        let newest = store.create(None);
        assert_eq!(store.len(), 3);
        assert!(store.get(&signed_in.cookie).is_some(), "signed-in sessions outlive anonymous ones");
        assert!(store.get(&anonymous.cookie).is_none());
        assert!(store.get(&newer.cookie).is_some() && store.get(&newest.cookie).is_some());
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let (store, _) = store(1);
        let session = store.create(None);
        assert!(session.csrf_matches(&session.csrf.clone()));
        assert!(!session.csrf_matches(&session.csrf.to_uppercase()));
        assert!(!session.csrf_matches(&session.csrf[..63]));
        assert!(!session.csrf_matches(""));
    }
}
