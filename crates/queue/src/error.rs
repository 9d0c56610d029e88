//! Queue errors. Each carries a [`QueueErrorKind`] so that workers decide on
//! retries without parsing messages.

use exhibit_core::ErrorKind;
use thiserror::Error;

/// What kind of failure a [`QueueError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueErrorKind {
    /// A settle or extend named a delivery the queue does not hold (already
    /// settled, its lease expired, or never handed out).
    UnknownDelivery,
    /// The queue URI names a backend this build does not have.
    Unsupported,
    /// The broker or its connection failed.
    Io,
    /// The caller asked for something the backend cannot give (a lease
    /// past the broker's consumer timeout, a queue the broker holds with
    /// other settings). Trying again cannot help.
    Invalid,
}

impl From<QueueErrorKind> for ErrorKind {
    fn from(kind: QueueErrorKind) -> Self {
        match kind {
            QueueErrorKind::UnknownDelivery => ErrorKind::NotFound,
            QueueErrorKind::Unsupported => ErrorKind::Invalid,
            QueueErrorKind::Io => ErrorKind::Io,
            QueueErrorKind::Invalid => ErrorKind::Invalid,
        }
    }
}

/// A failed queue operation.
#[derive(Debug, Error)]
pub enum QueueError {
    /// No delivery with this tag is outstanding.
    #[error("no outstanding delivery with tag {tag}")]
    UnknownDelivery {
        /// The tag that was settled or extended.
        tag: u64,
    },
    /// The URI does not name a backend this build has.
    #[error("unsupported queue URI {uri:?}: {reason}")]
    Unsupported {
        /// The URI as given.
        uri: String,
        /// Why it was refused, in words.
        reason: &'static str,
    },
    /// A lease or extension would outlast the broker's consumer timeout.
    #[error(
        "a lease of {requested:?} is over the {limit:?} the broker allows (its consumer timeout less a margin); extend the lease more often, or raise the broker's consumer_timeout and the queue's setting to match"
    )]
    LeaseTooLong {
        /// The lease asked for.
        requested: std::time::Duration,
        /// The longest allowed.
        limit: std::time::Duration,
    },
    /// A delivery limit outside [`crate::DELIVERY_LIMITS`].
    #[error("a delivery limit of {limit} is not allowed: it must be from 1 to 1000 ([queue] delivery_limit)")]
    DeliveryLimit {
        /// The limit asked for.
        limit: u32,
    },
    /// The broker holds a queue of this name with other arguments than
    /// this configuration declares (RabbitMQ's PRECONDITION_FAILED), and
    /// cannot change a quorum queue's arguments in place.
    #[error(
        "the broker already has queue {queue} with other settings than this configuration gives it ({broker}); \
         RabbitMQ cannot change a quorum queue's settings in place: set [queue] delivery_limit (EXHIBIT__QUEUE__DELIVERY_LIMIT) \
         back to the value the queue was made with, or stop the workers, let the queue drain, delete it \
         (rabbitmqctl delete_queue {queue}) and start them again with the new value"
    )]
    QueueSettings {
        /// The queue's name.
        queue: String,
        /// What the broker said.
        broker: String,
    },
    /// A job could not be signed before it was published.
    #[error("cannot sign job {job}: {reason}")]
    Sign {
        /// The job's ID.
        job: String,
        /// Why.
        reason: String,
    },
    /// The broker or its connection failed.
    #[error("job queue I/O failed: {context}: {source}")]
    Io {
        /// What the queue was doing.
        context: String,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl QueueError {
    /// A URI whose scheme names no backend of this build.
    pub fn unsupported_uri(uri: &str) -> Self {
        let reason = if cfg!(feature = "amqp") {
            "known schemes: memory://, amqp://"
        } else {
            "known schemes: memory:// (amqp:// needs the amqp feature)"
        };
        Self::Unsupported { uri: uri.to_owned(), reason }
    }

    /// An I/O failure while doing `context`.
    pub fn io(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::Io { context: context.into(), source: source.into() }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> QueueErrorKind {
        match self {
            Self::UnknownDelivery { .. } => QueueErrorKind::UnknownDelivery,
            Self::Unsupported { .. } => QueueErrorKind::Unsupported,
            Self::Io { .. } => QueueErrorKind::Io,
            Self::LeaseTooLong { .. } | Self::Sign { .. } | Self::DeliveryLimit { .. } | Self::QueueSettings { .. } => {
                QueueErrorKind::Invalid
            }
        }
    }

    /// The workspace-wide kind, for exit codes and retry decisions.
    pub fn error_kind(&self) -> ErrorKind {
        self.kind().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_core_kinds() {
        assert_eq!(QueueError::UnknownDelivery { tag: 7 }.error_kind(), ErrorKind::NotFound);
        let unsupported = QueueError::unsupported_uri("sqs://x");
        assert_eq!(unsupported.kind(), QueueErrorKind::Unsupported);
        assert_eq!(unsupported.error_kind(), ErrorKind::Invalid);
        assert!(unsupported.to_string().contains("sqs://x"));
        let io = QueueError::io("publishing", std::io::Error::other("reset"));
        assert_eq!(io.error_kind(), ErrorKind::Io);
        assert!(std::error::Error::source(&io).is_some());
    }
}
