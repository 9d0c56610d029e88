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
//! entry 1) and `sig`.
//!
//! The *body* is the signed byte string: the same object without `sig`,
//! canonicalised again. A third party can rebuild it with stock tools:
//!
//! ```text
//! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("sig"); sys.stdout.write(json.dumps(d, sort_keys=True, separators=(",",":"), ensure_ascii=False))' 00000000000000000001.json > body
//! ```
//!
//! `sig` is an armored SSH signature (`-----BEGIN SSH SIGNATURE-----`) over
//! the body in namespace [`NAMESPACE`], checkable with OpenSSH:
//!
//! ```text
//! echo "exhibit namespaces=\"exhibit-ledger\" $(jq -r .actor.public_key 00000000000000000001.json)" > allowed
//! jq -r .sig 00000000000000000001.json > body.sig
//! ssh-keygen -Y verify -f allowed -I exhibit -n exhibit-ledger -s body.sig < body
//! ```
//!
//! # Example
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<dyn exhibit_store::ObjectStore>, event: exhibit_core::event::CustodyEvent) -> Result<(), exhibit_custody::CustodyError> {
//! use std::sync::Arc;
//! use exhibit_custody::{Ledger, Signer, verify_case};
//! let signer = Arc::new(Signer::load_or_create("/var/lib/exhibit/keys/worker".as_ref())?);
//! let case = "42AB1234520".parse().expect("valid case ID");
//! let ledger = Ledger::open(store.clone(), case, signer).await?;
//! let appended = ledger.append(event).await?;
//! println!("entry {} ({})", appended.seq, appended.body_sha256);
//! let report = verify_case(store.as_ref(), ledger.case()).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```

mod anchor;
mod entry;
mod error;
mod ledger;
mod signer;
mod verify;

pub use anchor::{AnchorError, AnchorOutcome, Anchorer, anchor_head};
pub use entry::{EntryError, LedgerEntry, body_of_file};
pub use error::{CustodyError, Result};
pub use ledger::{AppendedEntry, ENTRY_LIMIT, Ledger, StoredEntry, read_entries};
pub use signer::{NAMESPACE, Signer, verify_signature};
pub use verify::{AnchorSummary, EntryFault, Problem, VerifyOptions, VerifyReport, verify_case, verify_case_with};
