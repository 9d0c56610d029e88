//! Who may hand workers jobs: the [`JobKeys`] of exhibit processes. Each
//! signs the jobs it publishes with its ledger signing key; a job is run
//! only when signed by this process's own key or by a key the
//! organisation pinned (`--trusted-keys`), the same keys it trusts to sign
//! ledger entries. See [`exhibit_queue::signed`].

use std::sync::Arc;

use exhibit_custody::{Signer, TrustedKeys, fingerprint, verify_signature};
use exhibit_queue::signed::RefusalHook;
use exhibit_queue::{JobKeys, JobQueue, JobSignature, SignedQueue};

/// The keys of one exhibit process.
#[derive(Debug)]
pub struct ProcessJobKeys {
    signer: Arc<Signer>,
    trusted: Option<TrustedKeys>,
}

impl ProcessJobKeys {
    /// Signs with `signer`; accepts it and the `trusted` keys.
    pub fn new(signer: Arc<Signer>, trusted: Option<TrustedKeys>) -> Self {
        Self { signer, trusted }
    }

    fn trusts(&self, key: &str) -> bool {
        let own = fingerprint(&self.signer.public_key_openssh());
        let now = time::OffsetDateTime::now_utc();
        (own.is_some() && fingerprint(key) == own)
            || self.trusted.as_ref().is_some_and(|t| t.admits(key, now).is_some())
    }
}

impl JobKeys for ProcessJobKeys {
    fn sign(&self, msg: &[u8]) -> Result<JobSignature, String> {
        let sig = self.signer.sign(msg).map_err(|e| e.to_string())?;
        Ok(JobSignature { key: self.signer.public_key_openssh(), sig })
    }

    fn check(&self, signature: &JobSignature, msg: &[u8]) -> Result<(), String> {
        let key = fingerprint(&signature.key).ok_or("its signing key is not an OpenSSH public key")?;
        if !self.trusts(&signature.key) {
            return Err(format!(
                "it is signed by key {key}, which this process does not trust; if that key is your organisation's, add it to the trusted keys file (--trusted-keys or [verify] trusted_keys) and restart"
            ));
        }
        if !verify_signature(&signature.key, msg, &signature.sig) {
            return Err(format!("its signature by key {key} does not match its content: it was altered after signing"));
        }
        Ok(())
    }
}

/// `queue` with signed jobs when other processes share it (a broker); an
/// in-process queue as it is, since nothing outside can publish to it.
pub fn signed_queue(queue: Arc<dyn JobQueue>, signer: Arc<Signer>, trusted: Option<TrustedKeys>) -> Arc<dyn JobQueue> {
    signed_queue_counting(queue, signer, trusted, None)
}

/// As [`signed_queue`], telling `refused` the stage of each job refused.
pub fn signed_queue_counting(
    queue: Arc<dyn JobQueue>,
    signer: Arc<Signer>,
    trusted: Option<TrustedKeys>,
    refused: Option<RefusalHook>,
) -> Arc<dyn JobQueue> {
    if !queue.shared() {
        return queue;
    }
    let signed = SignedQueue::new(queue, Arc::new(ProcessJobKeys::new(signer, trusted)));
    Arc::new(match refused {
        Some(hook) => signed.on_refused(hook),
        None => signed,
    })
}
