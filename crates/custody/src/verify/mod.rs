//! `exhibit verify`: walks a case's ledger and checks every entry, link and
//! signature, then re-hashes every object and manifest the ledger names.
//! Each problem names exactly which entry, artefact or object it is.

pub(crate) mod anchors;
mod chain;
mod clock;
mod content;
mod gate;
mod receipt;
mod recorded;
mod report;
mod signers;
mod views;

pub use anchors::AnchorSummary;
pub use gate::{CheckedLedger, check_ledger, check_read_ledger};
pub use recorded::{HashClaim, RecordLookup, RecordedArtefact, recorded_artefact};

use std::fmt;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::case_prefix;
use exhibit_store::ObjectStore;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use crate::error::{CustodyError, Result};
use crate::ledger::LedgerSnapshot;
use crate::trust::TrustedKeys;
pub use receipt::{HeadReceipt, ReceiptSyntaxError};
use signers::Seqs;
pub use signers::SignerSummary;

/// What a verify run checks beyond the case's own content.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The organisation's pinned keys; without them signers are listed
    /// but not checked.
    pub trusted_keys: Option<TrustedKeys>,
    /// A head an earlier run printed, which the chain must still hold.
    pub expect_head: Option<HeadReceipt>,
    /// The CA that anchors' TSA certificates must chain to. Without it,
    /// anchors are reported as not checked.
    pub tsa_trust: Option<exhibit_timestamp::TsaTrust>,
}

/// What `verify` found in one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The case checked.
    pub case: CaseId,
    /// Ledger files read.
    pub entries: u64,
    /// Distinct artefacts the ledger names.
    pub artefacts: u64,
    /// Distinct content objects the ledger names.
    pub objects: u64,
    /// Public keys recorded by `key-added` entries, in ledger order. Compare
    /// them with the keys your organisation trusts.
    pub keys: Vec<String>,
    /// Everything wrong, ledger problems first, each in sequence order.
    pub problems: Vec<Problem>,
    /// The last entry of the chain: keep it as a receipt for `--expect-head`.
    pub head: Option<HeadReceipt>,
    /// Every key that signed entries, in the order they first signed.
    pub signers: Vec<SignerSummary>,
    /// Whether signers were checked against a trusted-keys file. When
    /// false, anyone who can write the store could have re-signed the case.
    pub signers_checked: bool,
    /// The trusted-keys file used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_keys: Option<String>,
    /// The receipt checked, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_head: Option<HeadReceipt>,
    /// The RFC 3161 anchors found, and whether they were checked.
    #[serde(default)]
    pub anchors: AnchorSummary,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// True when nothing is wrong and every signer is pinned.
    pub fn is_trusted(&self) -> bool {
        self.is_clean() && self.signers_checked
    }
}

/// Why an entry counts as altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryFault {
    /// The file is not a valid ledger entry.
    Unreadable,
    /// Its signature fails and the next entry no longer links to it.
    SignatureAndLink,
    /// Its signature fails and no next entry can confirm its content.
    Signature,
    /// Its signature is valid but the next entry no longer links to it: it
    /// was replaced and re-signed.
    Link,
    /// It is entry 1 but links to an earlier entry.
    NotFirst,
    /// It belongs to another case.
    WrongCase,
}

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Problem {
    /// An object's content no longer has the SHA-256 it is stored under.
    ObjectAltered { sha256: Sha256Digest, artefacts: Vec<ArtefactId> },
    /// An object the ledger names is not in the store.
    ObjectMissing { sha256: Sha256Digest, artefacts: Vec<ArtefactId> },
    /// A file kept as a view into an image can no longer be read as it was
    /// recorded: its runs cover bytes of the image (`base`) that changed,
    /// or the image is gone.
    ViewBroken { artefact: ArtefactId, base: ArtefactId, base_sha256: Sha256Digest, reason: String },
    /// An object is in the store but no ledger entry names it.
    ObjectNotInLedger { key: String },
    /// A manifest differs from what the ledger recorded.
    ManifestAltered { artefact: ArtefactId },
    /// A manifest the ledger recorded is not in the store.
    ManifestMissing { artefact: ArtefactId },
    /// A manifest is in the store but no ledger entry records it.
    ManifestNotInLedger { artefact: ArtefactId },
    /// An entry's content was changed.
    EntryAltered {
        seq: u64,
        cause: EntryFault,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// An entry is missing: later entries exist.
    EntryMissing { seq: u64 },
    /// The file for entry `seq` holds entry `holds`.
    EntriesReordered { seq: u64, holds: u64 },
    /// An entry's signature fails, but its content is intact: the next
    /// entry still links to it (or it is the last entry, which nothing
    /// after it can vouch for).
    BadSignature { seq: u64 },
    /// An entry is signed by a key no earlier `key-added` entry introduced.
    UnknownKey { seq: u64 },
    /// Entries are signed by a key the trusted-keys file does not admit and
    /// no trusted key introduced.
    UntrustedKey { fingerprint: String, public_key: String, entries: Vec<u64> },
    /// The entry a receipt names has another body now (or is gone from
    /// the middle of the chain): the ledger was rewritten.
    ReceiptMismatch { seq: u64, expected: Sha256Digest, found: Option<Sha256Digest> },
    /// A receipt names an entry past the ledger's end: it was cut back.
    ReceiptBeyondHead { seq: u64, head: u64 },
    /// Stored manifests or objects that no entry records: the trace of
    /// entries after the ledger's last one, deleted (or of an interrupted
    /// ingest, or of planted files; the report says all three).
    TailMissing { after: u64, manifests: Vec<ArtefactId>, objects: Vec<String> },
    /// A file under the case that exhibit never writes there.
    UnexpectedFile { key: String },
    /// A timestamp anchor is not a valid token from the configured TSA.
    AnchorInvalid { file: String, seq: u64, reason: String },
    /// An anchored entry's body no longer has the SHA-256 the TSA signed.
    AnchorMismatch {
        file: String,
        seq: u64,
        anchored: Sha256Digest,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        found: Option<Sha256Digest>,
    },
    /// An anchored entry is not in the ledger: it was cut off.
    AnchorEntryMissing { file: String, seq: u64 },
    /// Entries name different SHA-256s for one artefact: one of them
    /// recorded content that is not the artefact's.
    ArtefactHashConflict { artefact: ArtefactId, claims: Vec<HashClaim> },
    /// An entry's own time is more than an hour before the previous
    /// entry's: it may be back-dated (its signer chose `at`).
    EntryBackdated { seq: u64, at: String, after: u64, after_at: String },
    /// An entry after an anchor claims a time more than an hour before the
    /// TSA signed that anchor: it is back-dated.
    EntryBeforeAnchor { seq: u64, at: String, anchor: u64, anchor_at: String },
    /// Inside batch entry `seq`, one event no longer matches the hashes the
    /// entry signed (reported beside the entry's own alteration).
    BatchEventChanged { seq: u64, fault: crate::BatchFault },
}

impl Problem {
    pub(crate) fn altered(seq: u64, cause: EntryFault) -> Self {
        Self::EntryAltered { seq, cause, detail: None }
    }

    /// The ledger entry the problem is about, when it is about one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Self::EntryAltered { seq, .. }
            | Self::EntryMissing { seq }
            | Self::EntriesReordered { seq, .. }
            | Self::BadSignature { seq }
            | Self::UnknownKey { seq }
            | Self::ReceiptMismatch { seq, .. }
            | Self::ReceiptBeyondHead { seq, .. }
            | Self::AnchorInvalid { seq, .. }
            | Self::AnchorMismatch { seq, .. }
            | Self::AnchorEntryMissing { seq, .. }
            | Self::EntryBackdated { seq, .. }
            | Self::EntryBeforeAnchor { seq, .. }
            | Self::BatchEventChanged { seq, .. } => Some(*seq),
            Self::TailMissing { after, .. } => Some(*after + 1),
            Self::UntrustedKey { entries, .. } => entries.first().copied(),
            _ => None,
        }
    }
}

struct Ids<'a>(&'a [ArtefactId]);

impl fmt::Display for Ids<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.0.iter().map(ArtefactId::as_str).collect();
        match ids.len() {
            0 => f.write_str("object"),
            1 => write!(f, "artefact {}", ids[0]),
            _ => write!(f, "artefacts {}", ids.join(", ")),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ObjectAltered { sha256, artefacts } => {
                write!(f, "{}: object altered (its content no longer has sha256 {sha256})", Ids(artefacts))
            }
            Self::ObjectMissing { sha256, artefacts } => {
                write!(f, "{}: object missing (sha256 {sha256})", Ids(artefacts))
            }
            Self::ViewBroken { artefact, base, base_sha256, reason } => write!(
                f,
                "artefact {artefact}: view broken (it reads from image artefact {base}, sha256 {base_sha256}, \
                 and its bytes are no longer the ones recorded): {reason}"
            ),
            Self::ObjectNotInLedger { key } => write!(f, "object {key}: extra (no ledger entry names it)"),
            Self::ManifestAltered { artefact } => {
                write!(f, "artefact {artefact}: manifest altered (it differs from what the ledger recorded)")
            }
            Self::ManifestMissing { artefact } => write!(f, "artefact {artefact}: manifest missing"),
            Self::ManifestNotInLedger { artefact } => {
                write!(f, "artefact {artefact}: extra manifest (no ledger entry records it)")
            }
            Self::EntryAltered { seq, cause, detail } => {
                write!(f, "entry {seq}: altered (")?;
                match cause {
                    EntryFault::Unreadable => f.write_str("it is not a valid ledger entry")?,
                    EntryFault::SignatureAndLink => {
                        write!(f, "its signature fails and entry {} no longer links to it", seq + 1)?
                    }
                    EntryFault::Signature => f.write_str("its signature fails and no later entry vouches for it")?,
                    EntryFault::Link => write!(
                        f,
                        "entry {} no longer links to it, although it carries a valid signature: it was replaced",
                        seq + 1
                    )?,
                    EntryFault::NotFirst => f.write_str("it is the first entry but links to an earlier one")?,
                    EntryFault::WrongCase => f.write_str("it belongs to another case")?,
                }
                match detail {
                    Some(d) => write!(f, ": {d})"),
                    None => f.write_str(")"),
                }
            }
            Self::EntryMissing { seq } => write!(f, "entry {seq}: missing (later entries exist)"),
            Self::BatchEventChanged { seq, fault } => write!(f, "entry {seq}: {fault}"),
            Self::EntriesReordered { seq, holds } => {
                write!(f, "entry {seq}: reordered (its file holds entry {holds})")
            }
            Self::BadSignature { seq } => {
                write!(
                    f,
                    "entry {seq}: bad signature (it does not verify with the key the entry names; no later entry contradicts its content)"
                )
            }
            Self::UnknownKey { seq } => {
                write!(f, "entry {seq}: unknown key (signed by a key no earlier key-added entry introduced)")
            }
            Self::UntrustedKey { fingerprint, entries, .. } => write!(
                f,
                "key {fingerprint}: untrusted key (no line of the trusted keys file admits it at the entry's time, nor did a trusted key introduce a key the file does not list; it signed entr{} {})",
                if entries.len() == 1 { "y" } else { "ies" },
                Seqs(entries)
            ),
            Self::ReceiptMismatch { seq, expected, found: Some(found) } => write!(
                f,
                "entry {seq}: differs from the receipt (receipt sha256 {expected}, ledger now sha256 {found}): the ledger was rewritten at or before entry {seq}"
            ),
            Self::ReceiptMismatch { seq, expected, found: None } => {
                write!(f, "entry {seq}: missing, but the receipt shows it existed (sha256 {expected})")
            }
            Self::ReceiptBeyondHead { seq, head } => write!(
                f,
                "entries {}-{seq}: missing (the ledger ends at entry {head}, but the receipt shows entry {seq} existed: the ledger was cut back)",
                head + 1
            ),
            Self::TailMissing { after, manifests, objects } => {
                let mut evidence: Vec<String> = manifests.iter().map(|a| format!("artefact {a}'s manifest")).collect();
                evidence.extend(objects.iter().map(|o| format!("object {o}")));
                let (are, them) = if evidence.len() == 1 { ("is", "it") } else { ("are", "them") };
                write!(
                    f,
                    "entries after {after}: missing ({}, but {} {are} stored with no entry recording {them}: later entries were deleted, unless an interrupted ingest left {them} (rerunning it records {them}) or someone planted {them})",
                    if *after == 0 {
                        "the ledger is empty".to_owned()
                    } else {
                        format!("the ledger ends at entry {after}")
                    },
                    evidence.join(", ")
                )
            }
            Self::UnexpectedFile { key } => write!(f, "file {key}: unexpected (exhibit never writes it there)"),
            Self::ArtefactHashConflict { artefact, claims } => {
                let claims: Vec<String> =
                    claims.iter().map(|c| format!("entry {} sha256 {}", c.seq, c.sha256)).collect();
                write!(f, "artefact {artefact}: entries disagree on its content ({})", claims.join(", "))
            }
            Self::EntryBackdated { seq, at, after, after_at } => write!(
                f,
                "entry {seq}: back-dated? (its time {at} is over an hour before entry {after}'s {after_at}; the signer chooses an entry's time, so a retired key could sign entries dated inside its validity)"
            ),
            Self::EntryBeforeAnchor { seq, at, anchor, anchor_at } => write!(
                f,
                "entry {seq}: back-dated (its time {at} is over an hour before the TSA timestamped entry {anchor} at {anchor_at}, yet it comes after it)"
            ),
            Self::AnchorInvalid { .. } | Self::AnchorMismatch { .. } | Self::AnchorEntryMissing { .. } => {
                anchors::describe(self, f)
            }
        }
    }
}

/// Checks the whole case with no pinned keys and no receipt; see
/// [`verify_case_with`].
pub async fn verify_case(store: &dyn ObjectStore, case: &CaseId) -> Result<VerifyReport> {
    verify_case_with(store, case, &VerifyOptions::default()).await
}

/// Checks the whole case: every ledger entry, link and signature, every
/// object (re-hashed) and every manifest the ledger names, and flags
/// anything stored that the ledger does not name. With trusted keys, every
/// signer must be pinned; with a receipt, the chain must still hold it. A
/// case with nothing stored under it is [`CustodyError::CaseNotFound`].
#[instrument(skip(store, options), fields(case = %case))]
pub async fn verify_case_with(store: &dyn ObjectStore, case: &CaseId, options: &VerifyOptions) -> Result<VerifyReport> {
    let snapshot = LedgerSnapshot::read(store, case).await?;
    verify_read_case(store, case, &snapshot, options).await
}

/// [`verify_case_with`] over a ledger already read (`snapshot`), so a
/// command that also reports on the case's events reads the ledger once.
/// Objects, manifests and anchors are still read from `store`.
#[instrument(skip(store, snapshot, options), fields(case = %case))]
pub async fn verify_read_case(
    store: &dyn ObjectStore,
    case: &CaseId,
    snapshot: &LedgerSnapshot,
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let chain = chain::check(case, snapshot);
    if chain.entries == 0 && store.list(&case_prefix(case)).await?.is_empty() {
        return Err(CustodyError::CaseNotFound { case: case.to_string(), store: store.uri() });
    }
    let (mut anchors, anchor_problems) = anchors::check(store, case, options.tsa_trust.as_ref()).await?;
    let refs = content::Refs::collect(&chain.trusted);
    let head = receipt::head(&chain.hashes);
    anchors.note_head(head.map(|h| h.seq));
    let signers = signers::check(&chain.signed, options.trusted_keys.as_ref());
    let mut problems = chain.problems;
    problems.extend(signers.problems);
    problems.extend(recorded::hash_conflicts(&chain.trusted));
    let anchored = anchors.latest.zip(anchors.latest_time);
    problems.extend(clock::backdated(&chain.trusted, anchored));
    problems.extend(anchor_problems);
    problems.extend(options.expect_head.as_ref().and_then(|r| receipt::check(r, &chain.hashes)));
    let mut content = content::check_objects(store, case, &refs).await?;
    content.extend(content::check_manifests(store, case, &refs).await?);
    let named_by_altered = content::Refs::collect(&chain.altered);
    problems.extend(content::tail_missing(head.map_or(0, |h| h.seq), &content, &named_by_altered));
    problems.extend(content);
    let report = VerifyReport {
        case: case.clone(),
        entries: chain.entries,
        artefacts: refs.artefact_count(),
        objects: refs.objects.len() as u64,
        keys: chain.keys,
        problems,
        head,
        signers: signers.signers,
        signers_checked: options.trusted_keys.is_some(),
        trusted_keys: options.trusted_keys.as_ref().map(|t| t.source().display().to_string()),
        expected_head: options.expect_head,
        anchors,
    };
    info!(entries = report.entries, problems = report.problems.len(), "verified case");
    Ok(report)
}
