//! Signed jobs. Anyone who can publish to a broker could otherwise make
//! workers act and sign ledger events in any case: a forged job naming
//! another case's artefact, or a replay of a real job under a new ID (the
//! issue 14 attacker did both). A [`SignedQueue`] signs every job it
//! publishes with the publisher's key and, as it receives, dead-letters a
//! job that is unsigned, altered, or signed by a key the receiver does not
//! trust, before anything opens its case.
//!
//! The signature covers the whole job but its `attempt` count (which a
//! backend may change on redelivery), prefixed with [`DOMAIN`] so that a
//! job's signature can never pass for a ledger entry's.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::{Delivery, DeliveryTag, Job, JobQueue, QueueError};

/// Prefix of the signed bytes.
pub const DOMAIN: &[u8] = b"exhibit-job-v1\0";

/// A publisher's signature over a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSignature {
    /// The signing key, as one OpenSSH public key line.
    pub key: String,
    /// The signature, armored as `ssh-keygen -Y sign` writes it.
    pub sig: String,
}

/// Signs jobs with this process's key, and decides whose jobs to accept.
pub trait JobKeys: Send + Sync + Debug {
    /// Signs `msg` with this process's key.
    fn sign(&self, msg: &[u8]) -> Result<JobSignature, String>;

    /// Ok when `signature` is a valid signature over `msg` by a key this
    /// process trusts; otherwise why not, in words an operator can act on.
    fn check(&self, signature: &JobSignature, msg: &[u8]) -> Result<(), String>;
}

/// The bytes a job's signature covers.
pub fn signed_bytes(job: &Job) -> Result<Vec<u8>, String> {
    let unsigned = Job { signature: None, attempt: 0, ..job.clone() };
    let json = serde_json::to_vec(&unsigned).map_err(|e| format!("the job does not serialise: {e}"))?;
    Ok([DOMAIN, &json].concat())
}

/// Told the stage of each job a [`SignedQueue`] refused (for metrics).
pub type RefusalHook = Arc<dyn Fn(&str) + Send + Sync>;

/// A queue whose jobs are signed as published and checked as received.
pub struct SignedQueue {
    inner: Arc<dyn JobQueue>,
    keys: Arc<dyn JobKeys>,
    on_refused: Option<RefusalHook>,
}

impl Debug for SignedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedQueue").field("inner", &self.inner).field("keys", &self.keys).finish_non_exhaustive()
    }
}

impl SignedQueue {
    /// Wraps `inner`, signing and checking with `keys`.
    pub fn new(inner: Arc<dyn JobQueue>, keys: Arc<dyn JobKeys>) -> Self {
        Self { inner, keys, on_refused: None }
    }

    /// Calls `hook` with the stage of every job refused.
    #[must_use]
    pub fn on_refused(self, hook: RefusalHook) -> Self {
        Self { on_refused: Some(hook), ..self }
    }

    /// `job` with this process's signature.
    fn signed(&self, job: Job) -> Result<Job, QueueError> {
        let signature = signed_bytes(&job)
            .and_then(|bytes| self.keys.sign(&bytes))
            .map_err(|reason| QueueError::Sign { job: job.job_id.0.clone(), reason })?;
        Ok(Job { signature: Some(signature), ..job })
    }

    /// Why the job of `delivery` must not run, if it must not.
    fn refusal(&self, job: &Job) -> Option<String> {
        let Some(signature) = &job.signature else {
            return Some("the job is not signed (published by an older exhibit, or not by exhibit)".into());
        };
        signed_bytes(job).and_then(|bytes| self.keys.check(signature, &bytes)).err()
    }
}

#[async_trait]
impl JobQueue for SignedQueue {
    async fn publish(&self, job: Job) -> Result<(), QueueError> {
        self.inner.publish(self.signed(job)?).await
    }

    async fn publish_all(&self, jobs: Vec<Job>) -> Result<(), QueueError> {
        let signed = jobs.into_iter().map(|job| self.signed(job)).collect::<Result<Vec<_>, _>>()?;
        self.inner.publish_all(signed).await
    }

    async fn receive(&self, stage: &str, lease: Duration) -> Result<Delivery, QueueError> {
        loop {
            let delivery = self.inner.receive(stage, lease).await?;
            let Some(why) = self.refusal(&delivery.job) else { return Ok(delivery) };
            let job = &delivery.job;
            warn!(job = %job.job_id.0, case = %job.case, stage, reason = %why, "refused a job; dead-lettering it unrun");
            let reason = format!("refused, not run: {why}");
            self.inner.dead_letter(delivery.tag, &reason).await?;
            if let Some(hook) = &self.on_refused {
                hook(stage);
            }
        }
    }

    async fn ack(&self, tag: DeliveryTag) -> Result<(), QueueError> {
        self.inner.ack(tag).await
    }

    async fn nack(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.inner.nack(tag, delay).await
    }

    async fn release(&self, tag: DeliveryTag, delay: Duration) -> Result<(), QueueError> {
        self.inner.release(tag, delay).await
    }

    async fn extend(&self, tag: DeliveryTag, lease: Duration) -> Result<(), QueueError> {
        self.inner.extend(tag, lease).await
    }

    async fn dead_letter(&self, tag: DeliveryTag, reason: &str) -> Result<(), QueueError> {
        self.inner.dead_letter(tag, reason).await
    }

    async fn depth(&self, stage: &str) -> Result<Option<u64>, QueueError> {
        self.inner.depth(stage).await
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn delivery_limit(&self) -> Option<u32> {
        self.inner.delivery_limit()
    }
}
