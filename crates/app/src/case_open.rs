//! Opening a case to record into it: the ledger for appending, once its
//! chain checks out (every signature, link and sequence number, and with
//! trusted keys every signer), the index of what it records, and the rule
//! that a signing key joins a case only when the trusted keys list it or
//! the operator says so. Shared by ingest, the worker, get, reproduce...

use std::sync::Arc;

use exhibit_core::event::{Actor, CustodyEvent};
use exhibit_core::ids::CaseId;
use exhibit_custody::{Ledger, LedgerEntry, LedgerSnapshot, Signer, TrustedKeys, check_read_ledger, fingerprint};
use exhibit_pipeline::CaseIndex;
use exhibit_store::ObjectStore;

use crate::{AppError, Result};

/// Which signing keys a use case that appends trusts.
#[derive(Debug, Default)]
pub struct TrustPolicy {
    /// The organisation's pinned keys (`allowed_signers`), if given.
    pub trusted: Option<TrustedKeys>,
    /// Let the signing key join a case other keys signed so far.
    pub introduce_key: bool,
}

/// A case's ledger opened for appending, with what its checked entries
/// record.
pub struct OpenCase {
    /// The ledger, for appending.
    pub ledger: Arc<Ledger>,
    /// The work the checked entries record.
    pub index: CaseIndex,
    /// The intact, checked entries, in chain order.
    pub entries: Vec<LedgerEntry>,
}

/// Opens a case's ledger for appending once its chain checks out
/// ([`checked_entries`]), with the index of what it records, once the
/// signing key is admitted ([`admit_signer`]).
#[tracing::instrument(skip_all, fields(case = %case))]
pub async fn open_case(
    store: Arc<dyn ObjectStore>,
    case: &CaseId,
    signer: Arc<Signer>,
    trust: &TrustPolicy,
) -> Result<OpenCase> {
    // One read of the ledger gives both the head to append after and the
    // entries the index is built from, so the index holds every entry up
    // to the head (a guarded append trusts it that far).
    let snapshot = read_snapshot(store.as_ref(), case).await?;
    let ledger = Ledger::open_read(store, case.clone(), signer, &snapshot.entries)
        .map_err(|source| AppError::Ledger { case: case.to_string(), source })?;
    let entries = checked_read_entries(case, &snapshot, trust.trusted.as_ref())?;
    let events: Vec<CustodyEvent> = exhibit_custody::events_of(&entries).map(|(_, e)| e.clone()).collect();
    let index = CaseIndex::from_events(&events);
    admit_signer(&ledger, trust).await?;
    Ok(OpenCase { ledger: Arc::new(ledger), index, entries })
}

/// The case's intact entries, once the whole chain checks out; otherwise
/// [`AppError::Refused`] naming the first problem.
pub async fn checked_entries(
    store: &dyn ObjectStore,
    case: &CaseId,
    trusted: Option<&TrustedKeys>,
) -> Result<Vec<LedgerEntry>> {
    checked_read_entries(case, &LedgerSnapshot::read(store, case).await?, trusted)
}

/// Every file of a case's ledger, read once; a failure is one to open it.
pub async fn read_snapshot(store: &dyn ObjectStore, case: &CaseId) -> Result<LedgerSnapshot> {
    LedgerSnapshot::read(store, case).await.map_err(|source| AppError::Ledger { case: case.to_string(), source })
}

/// [`checked_entries`] over a ledger already read.
pub fn checked_read_entries(
    case: &CaseId,
    snapshot: &LedgerSnapshot,
    trusted: Option<&TrustedKeys>,
) -> Result<Vec<LedgerEntry>> {
    let checked = check_read_ledger(case, snapshot, trusted);
    if let Some(problem) = checked.first_problem() {
        let more = match checked.problems.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return Err(AppError::Refused(format!(
            "the ledger of case {case} fails its check, so nothing was done: {problem}{more}. Run `exhibit verify --case {case}` for the full report"
        )));
    }
    Ok(checked.entries)
}

/// Refuses to append with a signing key that would join the case unseen:
/// a key new to a case that has entries, or a key outside the trusted keys
/// on a new case, unless they list it or the policy introduces it.
pub async fn admit_signer(ledger: &Ledger, trust: &TrustPolicy) -> Result<()> {
    if trust.introduce_key {
        return Ok(());
    }
    let signer = ledger.signer();
    let key = signer.public_key_openssh();
    let listed = trust.trusted.as_ref().is_some_and(|t| t.lists(&key));
    let fp = fingerprint(&key).unwrap_or_default();
    let case = ledger.case();
    let key_file = signer.path().display();
    if ledger.would_add_key().await && !listed {
        return Err(AppError::KeyNotAdmitted(format!(
            "signing key {fp} ({key_file}) has never signed case {case}, which other keys signed so far. \
             Use the key this case was signed with (set signing.key_file), or pass --introduce-key to add this key \
             to the case, and have the organisation add it to its trusted keys (allowed_signers) so verify trusts it"
        )));
    }
    if let (Some(trusted), 0, false) = (&trust.trusted, ledger.head_seq().await, listed) {
        return Err(AppError::KeyNotAdmitted(format!(
            "signing key {fp} ({key_file}) is not in the trusted keys file {}, so verify would reject every entry \
             of the new case {case}. Have the organisation add it there, or pass --introduce-key",
            trusted.source().display()
        )));
    }
    Ok(())
}

/// Who is acting: the operator (or the authenticated user), this host and
/// process, and the signing key.
pub fn actor(operator: &str, signer: &Signer) -> Actor {
    Actor {
        operator: operator.to_owned(),
        host: gethostname::gethostname().to_string_lossy().into_owned(),
        process: std::process::id(),
        public_key: signer.public_key_openssh(),
    }
}

/// Checks an operator name: not blank, one line, at most 200 characters;
/// returns it trimmed.
pub fn check_operator(operator: &str) -> Result<String> {
    let trimmed = operator.trim();
    if trimmed.is_empty() || trimmed.len() > 200 || trimmed.chars().any(char::is_control) {
        return Err(AppError::Request(format!(
            "operator {operator:?} is not allowed: give the name of the person responsible, 1 to 200 printable characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// A new case may not take an ID a Windows or SMB share cannot hold as a
/// folder; a case already in the store keeps its ID.
pub async fn refuse_non_portable_new_case(store: &dyn ObjectStore, case: &CaseId) -> Result<()> {
    let Some(why) = case.non_portable() else { return Ok(()) };
    if store.head(&exhibit_core::layout::ledger_key(case, 1)).await.is_ok() {
        return Ok(());
    }
    Err(AppError::Request(format!("case ID {case} cannot start a new case: {why}; choose another ID")))
}
