//! Anchoring a ledger head outside the ledger: the SHA-256 of the head
//! entry's body (what the next entry's `prev` would hold) is sent to an
//! RFC 3161 Time-Stamping Authority, and its signed response is stored
//! create-only at `cases/<case>/anchors/<seq:020>.tsr`.
//!
//! The token's message imprint *is* the body hash, so a third party checks
//! it with stock tools:
//! `openssl ts -verify -digest <prev of entry seq+1> -in <seq>.tsr -CAfile tsa-ca.pem`.
//! A head that already has a token is not sent again.

use std::io::Cursor;
use std::sync::Arc;

use exhibit_core::ErrorKind;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::{ObjectKey, anchor_key};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use exhibit_timestamp::{TimestampError, TsaClient, TsaTrust};
use thiserror::Error;
use tracing::{info, instrument};

use crate::entry::body_of_file;
use crate::error::CustodyError;
use crate::ledger::{ENTRY_LIMIT, list_ledger};
use crate::verify::anchors::{ANCHOR_LIMIT, imprint_of};

/// Where heads are timestamped, and the CA the tokens must chain to.
#[derive(Debug, Clone)]
pub struct Anchorer {
    client: TsaClient,
    trust: Option<TsaTrust>,
}

/// What [`anchor_head`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorOutcome {
    /// A new token for the head was stored under `key`.
    Anchored {
        /// The head's sequence number.
        seq: u64,
        /// The SHA-256 of its body: the token's message imprint.
        body_sha256: Sha256Digest,
        /// Where the response is stored.
        key: ObjectKey,
    },
    /// The head already had a token; nothing was asked.
    AlreadyAnchored {
        /// The head's sequence number.
        seq: u64,
    },
    /// The case has no ledger entries.
    EmptyLedger,
}

/// Why a head could not be anchored.
#[derive(Debug, Error)]
pub enum AnchorError {
    /// The TSA failed or gave a token that does not check out.
    #[error("cannot timestamp ledger entry {seq} (sha256 {body_sha256}) at {url}: {source}")]
    Tsa {
        /// The head's sequence number.
        seq: u64,
        /// Its body hash.
        body_sha256: Sha256Digest,
        /// The TSA.
        url: String,
        /// What went wrong.
        source: TimestampError,
    },
    /// A token is stored for the head but does not check out (planted or
    /// damaged): the head is unanchored, and the file cannot be replaced.
    #[error("the stored timestamp {key} for ledger entry {seq} is NOT valid ({detail}); the entry is not anchored")]
    InvalidExisting {
        /// The head's sequence number.
        seq: u64,
        /// The stored token.
        key: ObjectKey,
        /// Why it fails.
        detail: String,
    },
    /// Reading the head or storing the token failed.
    #[error(transparent)]
    Custody(#[from] CustodyError),
}

impl AnchorError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Tsa { source, .. } => match source.kind() {
                exhibit_timestamp::TimestampErrorKind::Unreachable => ErrorKind::Io,
                exhibit_timestamp::TimestampErrorKind::Config => ErrorKind::Invalid,
                _ => ErrorKind::Corrupt,
            },
            Self::InvalidExisting { .. } => ErrorKind::Corrupt,
            Self::Custody(e) => e.kind(),
        }
    }

    /// The sequence number of the head that was to be anchored, if known.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::Tsa { seq, .. } | Self::InvalidExisting { seq, .. } => Some(*seq),
            Self::Custody(_) => None,
        }
    }
}

impl Anchorer {
    /// Anchors with `client`; tokens are checked against `trust` before
    /// they are stored (without it, only imprint and nonce are checked).
    pub fn new(client: TsaClient, trust: Option<TsaTrust>) -> Self {
        Self { client, trust }
    }

    /// The TSA's URL.
    pub fn url(&self) -> &str {
        self.client.url()
    }
}

/// Timestamps the current head of `case`'s ledger, unless it already has
/// a token. One TSA round trip at most.
#[instrument(skip(store, anchorer), fields(case = %case, tsa = anchorer.url()))]
pub async fn anchor_head(
    store: &Arc<dyn ObjectStore>,
    case: &CaseId,
    anchorer: &Anchorer,
) -> Result<AnchorOutcome, AnchorError> {
    let (files, _) = list_ledger(store.as_ref(), case).await.map_err(CustodyError::from)?;
    let Some((seq, meta)) = files.last() else { return Ok(AnchorOutcome::EmptyLedger) };
    let seq = *seq;
    let key = anchor_key(case, seq);
    let bytes = read_small(store.as_ref(), &meta.key, ENTRY_LIMIT).await.map_err(CustodyError::from)?;
    let body =
        body_of_file(&bytes).map_err(|source| CustodyError::DamagedEntry { case: case.to_string(), seq, source })?;
    let body_sha256 = Sha256Digest::of(&body);
    if check_existing(store.as_ref(), &key, seq, body_sha256, anchorer.trust.as_ref()).await? {
        return Ok(AnchorOutcome::AlreadyAnchored { seq });
    }
    let anchorer_copy = anchorer.clone();
    let digest = *body_sha256.as_bytes();
    let issued =
        tokio::task::spawn_blocking(move || anchorer_copy.client.timestamp(digest, anchorer_copy.trust.as_ref()))
            .await
            .map_err(|e| CustodyError::Join(e.to_string()))?
            .map_err(|source| AnchorError::Tsa { seq, body_sha256, url: anchorer.url().to_owned(), source })?;
    match store.put_new(&key, Box::new(Cursor::new(issued.response)), HashSelection::SHA256_ONLY).await {
        Ok(_) => {
            info!(seq, %body_sha256, "anchored the ledger head");
            Ok(AnchorOutcome::Anchored { seq, body_sha256, key })
        }
        // Another writer anchored the same head first: that token serves.
        Err(e) if e.kind() == StoreErrorKind::AlreadyExists => Ok(AnchorOutcome::AlreadyAnchored { seq }),
        Err(e) => Err(CustodyError::from(e).into()),
    }
}

/// Whether a valid token is already stored for the head. A stored token is
/// trusted only if its imprint is the head's body hash (and, with a CA, its
/// signature checks out): a planted file must not stop the head from being
/// anchored unnoticed.
async fn check_existing(
    store: &dyn ObjectStore,
    key: &ObjectKey,
    seq: u64,
    body_sha256: Sha256Digest,
    trust: Option<&TsaTrust>,
) -> Result<bool, AnchorError> {
    let invalid = |detail: String| AnchorError::InvalidExisting { seq, key: key.clone(), detail };
    let bytes = match read_small(store, key, ANCHOR_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(false),
        Err(e) if e.kind() == StoreErrorKind::Io => return Err(CustodyError::from(e).into()),
        Err(e) => return Err(invalid(e.to_string())),
    };
    match imprint_of(&bytes, trust) {
        Ok((imprint, _)) if imprint == body_sha256 => Ok(true),
        Ok((imprint, _)) => Err(invalid(format!("it timestamps sha256 {imprint}, the entry is sha256 {body_sha256}"))),
        Err(detail) => Err(invalid(detail)),
    }
}
