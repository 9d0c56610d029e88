//! How to reach the broker and shape the queues.

use std::time::Duration;

use crate::QueueError;
use crate::amqp::Backoff;

/// Settings of an [`crate::AmqpQueue`].
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// `amqp://USER:PASS@HOST:PORT/VHOST`. Never logged: it holds a password.
    pub uri: String,
    /// Starts every queue name, so that installations (and test runs) on one
    /// vhost stay apart: `PREFIX.STAGE`, `PREFIX.STAGE.dead`,
    /// `PREFIX.STAGE.retry.MILLIS`.
    pub prefix: String,
    /// Unacked deliveries the broker sends a consumer ahead of need.
    pub prefetch: u16,
    /// Deliveries of one message without a settle (its consumers died on
    /// it) before the broker moves it to the dead-letter queue.
    pub delivery_limit: u32,
    /// Jobs a stage queue holds before the broker refuses (nacks) more.
    pub max_length: Option<u32>,
    /// The broker's `consumer_timeout` (RabbitMQ's default is 30 min): a
    /// delivery held unacked longer makes the broker close its channel.
    /// Leases and extensions that would end past it, less a minute, are
    /// refused; raise it in rabbitmq.conf (3.12+: the `consumer-timeout`
    /// policy) for longer jobs, and set it here to match.
    pub consumer_timeout: Duration,
    /// How reconnecting backs off.
    pub backoff: Backoff,
}

/// What a lease must stay under the consumer timeout by.
pub(crate) const TIMEOUT_MARGIN: Duration = Duration::from_secs(60);

impl AmqpConfig {
    /// Defaults for the broker at `uri`, queues named `exhibit.STAGE`.
    pub fn new(uri: impl Into<String>) -> Self {
        Self {
            uri: uri.into(),
            prefix: "exhibit".to_owned(),
            prefetch: 8,
            delivery_limit: crate::DEFAULT_DELIVERY_LIMIT,
            max_length: None,
            consumer_timeout: Duration::from_secs(30 * 60),
            backoff: Backoff::default(),
        }
    }

    /// The longest lease the broker lets a delivery be held.
    pub(crate) fn max_lease(&self) -> Duration {
        self.consumer_timeout.saturating_sub(TIMEOUT_MARGIN)
    }

    /// Refuses a lease longer than [`AmqpConfig::max_lease`].
    pub(crate) fn check_lease(&self, lease: Duration) -> Result<(), QueueError> {
        if lease > self.max_lease() {
            return Err(QueueError::LeaseTooLong { requested: lease, limit: self.max_lease() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueueErrorKind;

    #[test]
    fn leases_stay_under_the_consumer_timeout() {
        let config = AmqpConfig::new("amqp://localhost");
        assert!(config.check_lease(Duration::from_secs(600)).is_ok());
        let err = config.check_lease(Duration::from_secs(30 * 60)).expect_err("a lease at the timeout is refused");
        assert_eq!(err.kind(), QueueErrorKind::Invalid);
        assert!(err.to_string().contains("consumer"), "{err}");
    }
}
