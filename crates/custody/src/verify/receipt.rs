//! Receipts: the head a verify run printed (`head: seq N sha256 H`), kept
//! by whoever ran it. A later run given the receipt checks that the chain
//! still holds that entry with that body, which catches a rewrite at or
//! before entry N and a cut back past it, with no key or TSA involved.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use exhibit_core::digest::Sha256Digest;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Problem;

/// One ledger entry by sequence number and body SHA-256 (what the next
/// entry's `prev` holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadReceipt {
    /// Sequence number.
    pub seq: u64,
    /// SHA-256 of the entry's signed body.
    pub sha256: Sha256Digest,
}

/// Why a receipt string does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("receipt {0:?} is not N:SHA256 (a sequence number from 1, a colon and 64 hex digits), as `verify` prints it")]
pub struct ReceiptSyntaxError(String);

impl FromStr for HeadReceipt {
    type Err = ReceiptSyntaxError;

    /// `N:H`, as in `--expect-head 17:ab12...`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let refuse = || ReceiptSyntaxError(s.chars().take(100).collect());
        let (seq, hash) = s.trim().split_once(':').ok_or_else(refuse)?;
        let seq: u64 = seq.parse().ok().filter(|n| *n >= 1).ok_or_else(refuse)?;
        let sha256 = hash.parse().map_err(|_| refuse())?;
        Ok(Self { seq, sha256 })
    }
}

impl fmt::Display for HeadReceipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {} sha256 {}", self.seq, self.sha256)
    }
}

/// The head of the chain: its last entry by the sequence numbers bodies claim.
pub(super) fn head(hashes: &BTreeMap<u64, Sha256Digest>) -> Option<HeadReceipt> {
    hashes.last_key_value().map(|(&seq, &sha256)| HeadReceipt { seq, sha256 })
}

/// Checks `receipt` against the chain's body hashes.
pub(super) fn check(receipt: &HeadReceipt, hashes: &BTreeMap<u64, Sha256Digest>) -> Option<Problem> {
    let last = hashes.keys().last().copied().unwrap_or(0);
    match hashes.get(&receipt.seq) {
        Some(found) if *found == receipt.sha256 => None,
        Some(found) => {
            Some(Problem::ReceiptMismatch { seq: receipt.seq, expected: receipt.sha256, found: Some(*found) })
        }
        None if receipt.seq > last => Some(Problem::ReceiptBeyondHead { seq: receipt.seq, head: last }),
        None => Some(Problem::ReceiptMismatch { seq: receipt.seq, expected: receipt.sha256, found: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_parse_and_print() {
        let h = Sha256Digest::of(b"x");
        let r: HeadReceipt = format!("7:{h}").parse().unwrap();
        assert_eq!(r, HeadReceipt { seq: 7, sha256: h });
        assert_eq!(r.to_string(), format!("seq 7 sha256 {h}"));
        for bad in ["", "7", "0:aa", &format!("x:{h}"), &format!("7:{h}0"), &format!("-1:{h}")] {
            assert!(bad.parse::<HeadReceipt>().is_err(), "{bad}");
        }
    }
}
