//! Custody events: the body of one ledger entry. The ledger (in
//! `exhibit-custody`) adds the sequence number, the link to the previous
//! entry and the signature.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::digest::Sha256Digest;
use crate::ids::{ArtefactId, CaseId, ExhibitRef};
use crate::manifest::ToolInfo;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Acquired,
    Explored,
    Extracted,
    Identified,
    Transcoded,
    Ocr,
    Stored,
    Verified,
    Failed,
    Exported,
    Accessed,
    KeyAdded,
    /// An item manifest described the exhibit (`params.item`).
    Described,
    /// Several originals were recorded as one set (an E01 segment set, a
    /// cue sheet and its files): `params.set`, members as `inputs`.
    Assembled,
}

/// An artefact an event is about, or reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtefactRef {
    /// The artefact's ID; absent for content that never became an artefact
    /// (a file that changed while it was read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ArtefactId>,
    /// Content hash.
    pub sha256: Sha256Digest,
    /// Content size in bytes.
    pub size: u64,
    /// SHA-256 of the manifest's bytes, when the event wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_sha256: Option<Sha256Digest>,
}

/// An input an event consumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRef {
    /// The input's ID.
    pub id: ArtefactId,
    /// The input's content hash, as read.
    pub sha256: Sha256Digest,
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The person responsible (ACPO principle 4).
    pub operator: String,
    /// Host name of the machine.
    pub host: String,
    /// Process ID of the worker.
    pub process: u32,
    /// OpenSSH public key that signs this entry.
    pub public_key: String,
}

/// How it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// It worked.
    Ok,
    /// It failed, and why.
    Failed {
        /// What went wrong and what to do.
        reason: String,
    },
}

/// One custody event, without the chaining and signature the ledger adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    /// When, UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Which case.
    pub case: CaseId,
    /// Which exhibit, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhibit: Option<ExhibitRef>,
    /// What happened.
    pub action: Action,
    /// What it produced or is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artefact: Option<ArtefactRef>,
    /// What it read.
    #[serde(default)]
    pub inputs: Vec<InputRef>,
    /// Which tool.
    pub tool: ToolInfo,
    /// Parameters that shaped the result (a JSON object, integers only).
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// Who.
    pub actor: Actor,
    /// How it ended.
    pub outcome: Outcome,
}
