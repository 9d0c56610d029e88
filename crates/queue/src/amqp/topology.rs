//! Queue names and declare arguments: one durable quorum queue per stage,
//! one retry queue per delay that dead-letters back into it, and one
//! dead-letter queue per stage.

use std::time::Duration;

use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

/// The names of one stage's queues under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StageQueues {
    /// Where jobs wait to be worked on.
    pub(crate) main: String,
    /// Where jobs given up for good are kept.
    pub(crate) dead: String,
}

impl StageQueues {
    pub(crate) fn new(prefix: &str, stage: &str) -> Self {
        Self { main: format!("{prefix}.{stage}"), dead: format!("{prefix}.{stage}.dead") }
    }

    /// The retry queue for `delay`, rounded to whole milliseconds. One queue
    /// per delay keeps expiry in order: a quorum queue only expires the
    /// message at its head, so one queue of mixed delays would hold a short
    /// delay behind a long one.
    pub(crate) fn retry(&self, delay: Duration) -> (String, u64) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX).max(1);
        (format!("{}.retry.{millis}", self.main), millis)
    }
}

/// Arguments every queue shares: a durable quorum queue whose dead letters
/// (where it has any) are moved at least once, never dropped.
fn quorum() -> FieldTable {
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), text("quorum"));
    args
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

fn dead_letters_to(args: &mut FieldTable, queue: &str) {
    args.insert("x-dead-letter-exchange".into(), text(""));
    args.insert("x-dead-letter-routing-key".into(), text(queue));
    // At-least-once dead-lettering needs reject-publish overflow.
    args.insert("x-dead-letter-strategy".into(), text("at-least-once"));
    args.insert("x-overflow".into(), text("reject-publish"));
}

/// A stage's main queue. A message the broker hands out `delivery_limit`
/// times without a settle (its consumers keep dying on it) is moved to the
/// dead-letter queue by the broker itself. `max_length` makes the broker
/// refuse (nack) publishes beyond it.
pub(crate) fn main_args(queues: &StageQueues, delivery_limit: u32, max_length: Option<u32>) -> FieldTable {
    let mut args = quorum();
    dead_letters_to(&mut args, &queues.dead);
    args.insert("x-delivery-limit".into(), AMQPValue::LongUInt(delivery_limit));
    if let Some(max) = max_length {
        args.insert("x-max-length".into(), AMQPValue::LongUInt(max));
    }
    args
}

/// A retry queue: nobody consumes it; each message waits `millis`, then
/// the broker dead-letters it back into the stage's main queue.
pub(crate) fn retry_args(queues: &StageQueues, millis: u64) -> FieldTable {
    let mut args = quorum();
    dead_letters_to(&mut args, &queues.main);
    args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(i64::try_from(millis).unwrap_or(i64::MAX)));
    args
}

/// The dead-letter queue: kept for an operator.
pub(crate) fn dead_args() -> FieldTable {
    quorum()
}

/// A header name as lapin wants it.
pub(crate) fn header(name: &str) -> ShortString {
    ShortString::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_retry_rounding() {
        let q = StageQueues::new("exhibit", "ocr");
        assert_eq!(q.main, "exhibit.ocr");
        assert_eq!(q.dead, "exhibit.ocr.dead");
        assert_eq!(q.retry(Duration::from_millis(1500)), ("exhibit.ocr.retry.1500".to_owned(), 1500));
        assert_eq!(q.retry(Duration::ZERO).1, 1, "a zero delay still names a queue");
    }

    #[test]
    fn retry_queue_dead_letters_back_to_main() {
        let q = StageQueues::new("p", "hash");
        let args = retry_args(&q, 250);
        let inner = args.inner();
        assert_eq!(inner.get("x-dead-letter-routing-key"), Some(&text("p.hash")));
        assert_eq!(inner.get("x-message-ttl"), Some(&AMQPValue::LongLongInt(250)));
        assert_eq!(inner.get("x-queue-type"), Some(&text("quorum")));
    }
}
