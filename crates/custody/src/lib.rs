//! The custody ledger of a case: signed, hash-chained, append-only entries in
//! the object store, and the `verify` walk that checks them together with
//! every object and manifest they name.
//!
//! This crate owns the entry format, the Ed25519 signing key of a worker,
//! appending under concurrency (create-only puts, retry on conflict),
//! anchoring the head with an RFC 3161 timestamp ([`anchor_head`], tokens
//! at `cases/<case>/anchors/<seq>.tsr`), and verification.
//!
//! # Entry format
//!
//! Entry `seq` lives at `cases/<case>/ledger/<seq, 20 digits>.json`. The file
//! is one canonical JSON object (keys sorted, no whitespace): the fields of
//! the [`CustodyEvent`](exhibit_core::event::CustodyEvent), plus `seq`
//! (1-based), `prev` (hex SHA-256 of the previous entry's *body*, `null` for
//! entry 1) and `sig`. A *batch* entry records many events under one
//! signature instead: `batch` (the events in order), `case`, and
//! `event_sha256` (the SHA-256 of each event's canonical JSON, so verify
//! names which event of a tampered batch changed), plus `seq`, `prev`,
//! `sig`. Readers take an entry's events from [`LedgerEntry::events`].
//!
//! The *body* is the signed byte string: the same object without `sig`,
//! canonicalised again. A third party can rebuild it with stock tools:
//!
//! ```text
//! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("sig"); sys.stdout.write(json.dumps(d, sort_keys=True, separators=(",",":"), ensure_ascii=False))' 00000000000000000001.json > body
//! ```
//!
//! `sig` is an armored SSH signature (`-----BEGIN SSH SIGNATURE-----`) over
//! the body in namespace [`NAMESPACE`], checkable with OpenSSH against the
//! organisation's `allowed_signers` file. Take that file from the
//! organisation's own record of its keys, never from the entry's
//! `actor.public_key`: whoever rewrites a ledger writes that field too.
//!
//! ```text
//! ssh-keygen -y -f signing_ed25519 | sed 's/^/jane@force.example namespaces="exhibit-ledger" /' > allowed_signers
//! jq -r .sig 00000000000000000001.json > body.sig
//! ssh-keygen -Y verify -f allowed_signers -I jane@force.example -n exhibit-ledger -s body.sig < body
//! ```
//!
//! # Trust
//!
//! [`verify_case_with`] takes the same file as [`TrustedKeys`]: an entry
//! signed by a key it does not list, and that no listed key introduced in
//! a `key-added` entry, is a [`Problem::UntrustedKey`] naming the key's
//! fingerprint. Without it the report lists signers and says they were not
//! checked ([`VerifyReport::signers_checked`]). The report's
//! [`VerifyReport::head`] is a receipt: a later run given it
//! ([`VerifyOptions::expect_head`]) fails if the chain no longer holds
//! that entry, rewritten or cut back.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn exhibit_store::ObjectStore>, event: exhibit_core::event::CustodyEvent) -> Result<(), exhibit_custody::CustodyError> {
//! use std::sync::Arc;
//! use exhibit_custody::{Ledger, Signer, TrustedKeys, VerifyOptions, verify_case_with};
//! let signer = Arc::new(Signer::load_or_create("/var/lib/exhibit/keys/worker".as_ref())?);
//! let case = "42AB1234520".parse().expect("valid case ID");
//! let ledger = Ledger::open(store.clone(), case, signer).await?;
//! let appended = ledger.append(event).await?;
//! println!("entry {} ({})", appended.seq, appended.body_sha256);
//! let trusted = TrustedKeys::load("/etc/exhibit/allowed_signers".as_ref()).expect("pinned keys");
//! let options = VerifyOptions { trusted_keys: Some(trusted), ..Default::default() };
//! let report = verify_case_with(store.as_ref(), ledger.case(), &options).await?;
//! println!("{report}"); // ends with `head: seq N sha256 H`: keep it as a receipt
//! assert!(report.is_trusted());
//! # Ok(()) }
//! ```

mod anchor;
mod batch_faults;
mod entry;
mod error;
mod guarded;
mod ledger;
mod signer;
mod trust;
mod verify;

pub use anchor::{AnchorError, AnchorOutcome, Anchorer, anchor_head};
pub use entry::{
    BATCH_FIELD, BatchFault, EVENT_SHA256_FIELD, EntryBody, EntryError, LedgerEntry, body_of_file, event_sha256,
    events_of,
};
pub use error::{CustodyError, Result};
pub use guarded::AppendGuard;
pub use ledger::{
    AppendedEntry, BATCH_BYTES, BATCH_EVENTS, ENTRY_LIMIT, Ledger, LedgerSnapshot, StoredEntry, read_entries,
};
pub use signer::{NAMESPACE, Signer, verify_signature};
pub use trust::{TrustError, TrustedKey, TrustedKeys, fingerprint};
pub use verify::{
    AnchorSummary, CheckedLedger, EntryFault, HashClaim, HeadReceipt, Problem, ReceiptSyntaxError, RecordLookup,
    RecordedArtefact, SignerSummary, VerifyOptions, VerifyReport, check_ledger, check_read_ledger, recorded_artefact,
    verify_case, verify_case_with, verify_read_case,
};
