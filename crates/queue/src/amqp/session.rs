//! One connection to the broker and its publishing channel, re-opened with
//! exponential backoff when it drops. lapin does not recover connections on
//! its own unless told to; doing it here keeps the rule in one place: a
//! dropped connection makes every delivery of it unknown (the broker puts
//! those messages back), and the next call connects again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};
use tracing::{info, warn};

use crate::QueueError;

/// A live connection and its publishing channel (with confirms on).
#[derive(Debug)]
pub(crate) struct Session {
    /// Counts connections; deliveries remember the one they came on.
    pub(crate) generation: u64,
    pub(crate) connection: Connection,
    pub(crate) publisher: Channel,
}

impl Session {
    pub(crate) fn is_open(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

/// How reconnecting backs off.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Connection attempts before giving up with an error.
    pub attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_millis(100), max: Duration::from_secs(10), attempts: 12 }
    }
}

/// Hands out the current session, connecting when there is none.
#[derive(Debug)]
pub(crate) struct Sessions {
    uri: String,
    name: String,
    backoff: Backoff,
    current: tokio::sync::Mutex<Option<Arc<Session>>>,
    generation: AtomicU64,
}

impl Sessions {
    pub(crate) fn new(uri: String, name: String, backoff: Backoff) -> Self {
        Self { uri, name, backoff, current: tokio::sync::Mutex::new(None), generation: AtomicU64::new(0) }
    }

    /// The open session, connecting (with backoff) if it is closed.
    pub(crate) async fn get(&self) -> Result<Arc<Session>, QueueError> {
        let mut current = self.current.lock().await;
        if let Some(session) = current.as_ref().filter(|s| s.is_open()) {
            return Ok(session.clone());
        }
        let session = Arc::new(self.connect_with_backoff().await?);
        *current = Some(session.clone());
        Ok(session)
    }

    /// Forgets session `generation` after a failure on it, so the next
    /// [`Sessions::get`] connects again.
    pub(crate) async fn drop_generation(&self, generation: u64) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|s| s.generation == generation) {
            *current = None;
        }
    }

    /// Forgets session `generation` if its connection is no longer open.
    pub(crate) async fn drop_if_closed(&self, generation: u64) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|s| s.generation == generation && !s.is_open()) {
            *current = None;
        }
    }

    async fn connect_with_backoff(&self) -> Result<Session, QueueError> {
        let mut wait = self.backoff.initial;
        let mut attempt = 1;
        loop {
            match self.connect_once().await {
                Ok(session) => return Ok(session),
                Err(e) if attempt >= self.backoff.attempts => {
                    return Err(QueueError::io(format!("connecting to the broker ({attempt} attempts)"), e));
                }
                Err(e) => {
                    warn!(error = %e, attempt, ?wait, "cannot reach the broker; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(self.backoff.max);
                    attempt += 1;
                }
            }
        }
    }

    async fn connect_once(&self) -> Result<Session, lapin::Error> {
        let properties = ConnectionProperties::default().with_connection_name(self.name.clone().into());
        let connection = Connection::connect(&self.uri, properties).await?;
        let publisher = connection.create_channel().await?;
        publisher.confirm_select(ConfirmSelectOptions::default()).await?;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        info!(generation, name = %self.name, "connected to the broker");
        Ok(Session { generation, connection, publisher })
    }
}
