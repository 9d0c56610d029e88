//! The chain check a refresh runs on each entry it projects: the entry is
//! the one its file name says, its signature verifies, and it links to the
//! entry before it. The whole-ledger check (signers against the trusted
//! keys, hash conflicts) stays with the commands that append; this one
//! costs one signature check per new entry, so every read of a case sees
//! an edited, moved or replaced entry the moment it is projected.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::CaseId;
use exhibit_custody::{StoredEntry, verify_signature};

use super::Problem;

/// What is wrong with `stored`, given the body SHA-256 of the entry before
/// it (`None` for entry 1, or when that entry could not be read).
pub(super) fn link_problem(case: &CaseId, before: Option<&Sha256Digest>, stored: &StoredEntry) -> Option<Problem> {
    // An entry that does not parse is named by the projection.
    let entry = stored.parsed.as_ref().ok()?;
    let seq = stored.seq;
    let verify = format!("run `exhibit verify --case {case}` for the full report");
    let text = if entry.seq != seq {
        format!("ledger entry {seq} holds entry {} (moved or altered); {verify}", entry.seq)
    } else if !entry.body_bytes().is_ok_and(|body| verify_signature(entry.signer_key(), &body, &entry.sig)) {
        format!("ledger entry {seq} was altered: its signature does not verify; {verify}")
    } else if seq == 1 && entry.prev.is_some() {
        format!("ledger entry 1 links to an entry before it, so entries were removed from the start; {verify}")
    } else if seq > 1 && before.is_some() && entry.prev.as_ref() != before {
        format!("ledger entry {seq} does not link to entry {}: one of them was altered or replaced; {verify}", seq - 1)
    } else {
        return None;
    };
    Some(Problem { seq, text })
}

/// The body SHA-256 of a stored entry, for the link of the next one.
pub(super) fn body_sha256(stored: &StoredEntry) -> Option<Sha256Digest> {
    stored.parsed.as_ref().ok().and_then(|entry| entry.body_sha256().ok())
}
