//! Checks of the ledger itself: parse, sequence, signature, links, keys.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::Action;
use exhibit_core::ids::CaseId;
use tracing::{debug, info_span};

use super::{EntryFault, Problem};
use crate::entry::LedgerEntry;
use crate::ledger::LedgerSnapshot;
use crate::signer::{normalise_public_key, verify_signature};

/// What the ledger check found.
pub(super) struct Chain {
    /// Ledger files read.
    pub entries: u64,
    /// Entries whose content is intact, in chain order.
    pub trusted: Vec<LedgerEntry>,
    /// Entries that parse but were altered: what they name is not trace of
    /// a deleted tail.
    pub altered: Vec<LedgerEntry>,
    /// Keys introduced by `key-added` entries.
    pub keys: Vec<String>,
    /// Ledger problems, in sequence order.
    pub problems: Vec<Problem>,
    /// Intact entries with a valid signature, in chain order: who signed.
    pub signed: Vec<Signed>,
    /// Body SHA-256 of each entry, by the sequence number its body claims.
    pub hashes: BTreeMap<u64, Sha256Digest>,
}

/// Who signed one intact, validly signed entry, and the key it introduces.
pub(super) struct Signed {
    pub seq: u64,
    pub at: time::OffsetDateTime,
    pub signer: String,
    pub added: Option<String>,
}

/// A parsed entry with what was computed about it.
struct Parsed {
    file_seq: u64,
    entry: LedgerEntry,
    hash: Sha256Digest,
    sig_ok: bool,
}

pub(super) fn check(case: &CaseId, snapshot: &LedgerSnapshot) -> Chain {
    let _guard = info_span!("verify_ledger").entered();
    let (stored, unexpected) = (&snapshot.entries, &snapshot.unexpected);

    // Problems about one file, keyed by its sequence number; the first found wins.
    let mut by_seq: BTreeMap<u64, Problem> = BTreeMap::new();
    let mut reordered = Vec::new();
    let present: BTreeSet<u64> = stored.iter().map(|s| s.seq).collect();
    let last_file = present.last().copied().unwrap_or(0);
    for seq in (1..last_file).filter(|s| !present.contains(s)) {
        by_seq.insert(seq, Problem::EntryMissing { seq });
    }

    let mut parsed = Vec::with_capacity(stored.len());
    for s in stored {
        match &s.parsed {
            Err(e) => {
                let detail = Some(e.to_string());
                by_seq.insert(s.seq, Problem::EntryAltered { seq: s.seq, cause: EntryFault::Unreadable, detail });
            }
            Ok(entry) => match entry.body_bytes() {
                Ok(body) => {
                    let sig_ok = verify_signature(entry.signer_key(), &body, &entry.sig);
                    let entry = entry.clone();
                    parsed.push(Parsed { file_seq: s.seq, hash: Sha256Digest::of(&body), entry, sig_ok });
                }
                Err(e) => {
                    let detail = Some(e.to_string());
                    by_seq.insert(s.seq, Problem::EntryAltered { seq: s.seq, cause: EntryFault::Unreadable, detail });
                }
            },
        }
    }

    // Index by the sequence number each body claims, so that swapped files
    // are reported as reordered and not also as broken links.
    let mut by_body: BTreeMap<u64, usize> = BTreeMap::new();
    for (i, p) in parsed.iter().enumerate() {
        if p.entry.seq != p.file_seq {
            reordered.push(Problem::EntriesReordered { seq: p.file_seq, holds: p.entry.seq });
        }
        let keep_existing = by_body.get(&p.entry.seq).is_some_and(|&j| parsed[j].file_seq == parsed[j].entry.seq);
        if !keep_existing {
            by_body.insert(p.entry.seq, i);
        }
    }
    let last_body = by_body.keys().last().copied().unwrap_or(0);
    let mut batch_changes = Vec::new();

    for p in &parsed {
        if let Some(other) = p.entry.events().iter().find(|e| e.case != *case) {
            by_seq.entry(p.file_seq).or_insert(Problem::EntryAltered {
                seq: p.file_seq,
                cause: EntryFault::WrongCase,
                detail: Some(format!("case {}", other.case)),
            });
        }
        if p.sig_ok {
            continue;
        }
        batch_changes.extend(
            p.entry.batch_faults().into_iter().map(|fault| Problem::BatchEventChanged { seq: p.file_seq, fault }),
        );
        let next_links = by_body.get(&(p.entry.seq + 1)).map(|&j| parsed[j].entry.prev == Some(p.hash));
        let problem = match next_links {
            Some(true) => Problem::BadSignature { seq: p.file_seq },
            None if p.entry.seq == last_body => Problem::BadSignature { seq: p.file_seq },
            Some(false) => Problem::altered(p.file_seq, EntryFault::SignatureAndLink),
            None => Problem::altered(p.file_seq, EntryFault::Signature),
        };
        by_seq.entry(p.file_seq).or_insert(problem);
    }

    // Links, from entries whose signature vouches for their `prev`.
    for p in parsed.iter().filter(|p| p.sig_ok) {
        if p.entry.seq == 1 {
            if p.entry.prev.is_some() {
                by_seq.entry(p.file_seq).or_insert(Problem::altered(p.file_seq, EntryFault::NotFirst));
            }
            continue;
        }
        let Some(&j) = by_body.get(&(p.entry.seq - 1)) else { continue };
        let pred = &parsed[j];
        if pred.sig_ok && p.entry.prev != Some(pred.hash) {
            debug!(seq = p.file_seq, "entry does not link to its predecessor");
            by_seq.entry(pred.file_seq).or_insert(Problem::altered(pred.file_seq, EntryFault::Link));
        }
    }

    let altered: HashSet<u64> =
        by_seq.iter().filter(|(_, p)| matches!(p, Problem::EntryAltered { .. })).map(|(seq, _)| *seq).collect();
    let altered_entries = parsed.iter().filter(|p| altered.contains(&p.file_seq)).map(|p| p.entry.clone()).collect();
    let mut trusted: Vec<&Parsed> = by_body.values().map(|&i| &parsed[i]).collect();
    trusted.retain(|p| !altered.contains(&p.file_seq));
    let (keys, unknown) = check_keys(&trusted);
    for seq in unknown {
        by_seq.entry(seq).or_insert(Problem::UnknownKey { seq });
    }

    let mut problems: Vec<Problem> =
        unexpected.iter().map(|k| Problem::UnexpectedFile { key: k.to_string() }).collect();
    problems.extend(reordered);
    problems.extend(by_seq.into_values());
    problems.extend(batch_changes);
    problems.sort_by_key(problem_seq);
    let signed = trusted.iter().filter(|p| p.sig_ok).map(|p| signed_by(p)).collect();
    let hashes = by_body.iter().map(|(&seq, &i)| (seq, parsed[i].hash)).collect();
    Chain {
        entries: present.len() as u64,
        trusted: trusted.into_iter().map(|p| p.entry.clone()).collect(),
        altered: altered_entries,
        keys,
        problems,
        signed,
        hashes,
    }
}

/// Walks intact entries in chain order. A `key-added` entry introduces its
/// key when it is signed by that key or by one already introduced. Returns
/// the keys introduced and the file seqs of entries signed by any other key.
fn check_keys(trusted: &[&Parsed]) -> (Vec<String>, Vec<u64>) {
    let mut known: Vec<String> = Vec::new();
    let mut unknown = Vec::new();
    for p in trusted.iter().filter(|p| p.sig_ok) {
        let signer = normalise_public_key(p.entry.signer_key());
        for event in p.entry.events().iter().filter(|e| e.action == Action::KeyAdded) {
            let added = crate::ledger::added_key(event).as_deref().and_then(normalise_public_key);
            if let (Some(added), Some(signer)) = (added, &signer) {
                if (&added == signer || known.contains(signer)) && !known.contains(&added) {
                    known.push(added);
                }
            }
        }
        if !signer.is_some_and(|s| known.contains(&s)) {
            unknown.push(p.file_seq);
        }
    }
    (known, unknown)
}

fn signed_by(p: &Parsed) -> Signed {
    let added = p.entry.events().iter().filter(|e| e.action == Action::KeyAdded).find_map(crate::ledger::added_key);
    let at = p.entry.at().unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Signed { seq: p.file_seq, at, signer: p.entry.signer_key().to_owned(), added }
}

/// Sort key: ledger-wide problems first, then by entry.
fn problem_seq(p: &Problem) -> u64 {
    match p {
        Problem::EntryAltered { seq, .. }
        | Problem::EntryMissing { seq }
        | Problem::EntriesReordered { seq, .. }
        | Problem::BadSignature { seq }
        | Problem::BatchEventChanged { seq, .. }
        | Problem::UnknownKey { seq } => *seq,
        _ => 0,
    }
}
