//! Who signed the ledger, and whether the organisation's pinned keys cover
//! them. A key counts as trusted for an entry when the trusted-keys file
//! admits it at the entry's time, or when a `key-added` entry signed by a
//! key trusted at that point introduced it (rotation) and the file does
//! not list it: a listed key is held to its own line, so `valid-before`
//! revokes a rotated-in key too. A key that introduces itself gains
//! nothing.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::Problem;
use super::chain::Signed;
use crate::signer::normalise_public_key;
use crate::trust::{TrustedKeys, fingerprint};

/// One key that signed entries of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerSummary {
    /// `SHA256:...`, as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    /// The key as one OpenSSH line.
    pub public_key: String,
    /// Entries it signed.
    pub entries: u64,
    /// The first entry it signed.
    pub first_seq: u64,
    /// Principals of the trusted-keys line that admits it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principals: Option<String>,
}

/// What the signer walk found.
pub(super) struct SignerCheck {
    pub signers: Vec<SignerSummary>,
    pub problems: Vec<Problem>,
}

/// Walks validly signed, intact entries in chain order.
pub(super) fn check(signed: &[Signed], trusted: Option<&TrustedKeys>) -> SignerCheck {
    let mut signers: Vec<SignerSummary> = Vec::new();
    let mut rotated: Vec<String> = Vec::new();
    let mut untrusted: Vec<(String, Vec<u64>)> = Vec::new();
    // Entries repeat a handful of keys; parse each key text once.
    let mut parsed: HashMap<&str, Option<String>> = HashMap::new();
    for entry in signed {
        let normalised = parsed.entry(&entry.signer).or_insert_with(|| normalise_public_key(&entry.signer));
        let Some(key) = normalised.clone() else { continue };
        let pinned = trusted.and_then(|t| t.admits(&key, entry.at));
        summarise(&mut signers, &key, entry.seq, pinned.map(|p| p.principals.clone()));
        if trusted.is_none() {
            continue;
        }
        // A key the file lists is held to its own line (valid-before
        // revokes it) even when a trusted key introduced it.
        let listed = trusted.is_some_and(|t| t.lists(&key));
        if pinned.is_none() && (listed || !rotated.contains(&key)) {
            match untrusted.iter_mut().find(|(k, _)| *k == key) {
                Some((_, seqs)) => seqs.push(entry.seq),
                None => untrusted.push((key, vec![entry.seq])),
            }
            continue;
        }
        if let Some(added) = entry.added.as_deref().and_then(normalise_public_key) {
            if !rotated.contains(&added) {
                rotated.push(added);
            }
        }
    }
    let problems = untrusted
        .into_iter()
        .map(|(key, entries)| Problem::UntrustedKey {
            fingerprint: fingerprint(&key).unwrap_or_default(),
            public_key: key,
            entries,
        })
        .collect();
    SignerCheck { signers, problems }
}

fn summarise(signers: &mut Vec<SignerSummary>, key: &str, seq: u64, principals: Option<String>) {
    if let Some(s) = signers.iter_mut().find(|s| s.public_key == key) {
        s.entries += 1;
        s.principals = s.principals.take().or(principals);
        return;
    }
    signers.push(SignerSummary {
        fingerprint: fingerprint(key).unwrap_or_default(),
        public_key: key.to_owned(),
        entries: 1,
        first_seq: seq,
        principals,
    });
}

/// Sequence numbers as ranges: `1-6, 9`.
pub(super) struct Seqs<'a>(pub &'a [u64]);

impl fmt::Display for Seqs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut end = start;
            while i + 1 < self.0.len() && self.0[i + 1] == end + 1 {
                i += 1;
                end += 1;
            }
            if start != self.0[0] {
                f.write_str(", ")?;
            }
            match end - start {
                0 => write!(f, "{start}")?,
                _ => write!(f, "{start}-{end}")?,
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Seqs;

    #[test]
    fn seqs_print_as_ranges() {
        assert_eq!(Seqs(&[1, 2, 3, 5, 7, 8]).to_string(), "1-3, 5, 7-8");
        assert_eq!(Seqs(&[4]).to_string(), "4");
        assert_eq!(Seqs(&[]).to_string(), "");
    }
}
