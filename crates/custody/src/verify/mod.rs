//! `exhibit verify`: walks a case's ledger and checks every entry, link and
//! signature, then re-hashes every object and manifest the ledger names.
//! Each problem names exactly which entry, artefact or object it is.

mod anchors;
mod chain;
mod content;

pub use anchors::AnchorSummary;

use std::fmt;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_store::ObjectStore;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use crate::error::Result;

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
    /// The RFC 3161 anchors found, and whether they were checked.
    #[serde(default)]
    pub anchors: AnchorSummary,
}

/// What `verify` checks against beyond the case itself.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The CA that anchors' TSA certificates must chain to. Without it,
    /// anchors are reported as not checked.
    pub tsa_trust: Option<exhibit_timestamp::TsaTrust>,
}

impl VerifyReport {
    /// True when nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
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
}

impl Problem {
    pub(crate) fn altered(seq: u64, cause: EntryFault) -> Self {
        Self::EntryAltered { seq, cause, detail: None }
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
            Self::UnexpectedFile { key } => write!(f, "file {key}: unexpected (exhibit never writes it there)"),
            Self::AnchorInvalid { .. } | Self::AnchorMismatch { .. } | Self::AnchorEntryMissing { .. } => {
                anchors::describe(self, f)
            }
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = format!("{} entries, {} artefacts, {} objects", self.entries, self.artefacts, self.objects);
        if self.is_clean() {
            write!(f, "OK: {counts} intact")?;
            return self.anchors.write_line(f);
        }
        let n = self.problems.len();
        write!(f, "FAILED: case {}: {n} problem{} ({counts} checked)", self.case, if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        self.anchors.write_line(f)
    }
}

/// Checks the whole case: every ledger entry, link and signature, every
/// object (re-hashed) and every manifest the ledger names, and flags
/// anything stored that the ledger does not name. Anchors are reported
/// as not checked; see [`verify_case_with`].
pub async fn verify_case(store: &dyn ObjectStore, case: &CaseId) -> Result<VerifyReport> {
    verify_case_with(store, case, &VerifyOptions::default()).await
}

/// [`verify_case`], and every RFC 3161 anchor against `options.tsa_trust`.
#[instrument(skip(store, options), fields(case = %case))]
pub async fn verify_case_with(store: &dyn ObjectStore, case: &CaseId, options: &VerifyOptions) -> Result<VerifyReport> {
    let chain = chain::check(store, case).await?;
    let (anchors, anchor_problems) = anchors::check(store, case, options.tsa_trust.as_ref()).await?;
    let refs = content::Refs::collect(&chain.trusted);
    let mut problems = chain.problems;
    problems.extend(anchor_problems);
    problems.extend(content::check_objects(store, case, &refs).await?);
    problems.extend(content::check_manifests(store, case, &refs).await?);
    let report = VerifyReport {
        case: case.clone(),
        entries: chain.entries,
        artefacts: refs.artefact_count(),
        objects: refs.objects.len() as u64,
        keys: chain.keys,
        problems,
        anchors,
    };
    info!(entries = report.entries, problems = report.problems.len(), "verified case");
    Ok(report)
}
