//! Params of `failed`, `exported`, `accessed`, `key-added`, `described`,
//! `assembled`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::item::ItemRecord;

/// `failed`: a job, an item or an anchor that did not work.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FailedParams {
    /// The job that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The stage it ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The job's input, or `{path}` of the item that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The ingest run it failed in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// What kind of fault (`damaged-record`, `unconverted`, `limit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// For a fault, the settings the stage judged the input under (its
    /// limits and build): a rerun under the same settings does not try the
    /// job again, one under others does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<String>,
    /// The source that was read, for a source that changed while read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_key: Option<String>,
    /// The anchor that was not made: `{tsa_url, seq}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Value>,
}

impl FailedParams {
    /// The path the failure is about: `input.path`, in any input shape.
    pub fn input_path(&self) -> Option<&str> {
        self.input.as_ref()?.get("path")?.as_str()
    }

    /// The exact bytes of that path: `input.path_hex` where the event
    /// records it (an acquire job's source, a walk's entry fault), else
    /// `input.path`'s text (older events, and inputs named for display).
    /// The reason embeds the path as display text, which loses bytes that
    /// are not UTF-8; a terminal shows the path from these bytes.
    pub fn input_path_bytes(&self) -> Option<Vec<u8>> {
        let input = self.input.as_ref()?;
        let hex_bytes = input.get("path_hex").and_then(Value::as_str).and_then(|h| hex::decode(h).ok());
        hex_bytes.or_else(|| self.input_path().map(|p| p.as_bytes().to_vec()))
    }
}

/// `exported`: a BagIt bag and/or CASE/UCO file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportedParams {
    /// Artefacts exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artefacts: Option<u64>,
    /// The bag: `{dir, files, bytes, manifest_sha256}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bagit: Option<Value>,
    /// The CASE/UCO file: `{file, sha256}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_uco: Option<Value>,
}

/// `accessed`: content read out of the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessedParams {
    /// Where it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// A counter some test entries carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
}

/// `key-added`: a signing key introduced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyAddedParams {
    /// The OpenSSH public key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// `described`: an item manifest row described the exhibit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DescribedParams {
    /// The row, as recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Value>,
    /// Which manifest file and row: `{sha256, file, row}` (`file`, its name
    /// without folders, since `exhibit ingest --manifest` recorded it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Value>,
}

impl DescribedParams {
    /// The row, typed.
    pub fn item_record(&self) -> Option<ItemRecord> {
        serde_json::from_value(self.item.clone()?).ok()
    }
}

/// `assembled`: several originals recorded as one set, once every member
/// was acquired. The members are also the event's `inputs`, in set order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssembledParams {
    /// The assemble job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The set: kind, members by ID and hash, missing members by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<crate::set_record::SetRecord>,
    /// SHA-256 of the set's canonical JSON, hex: the set's identity, which
    /// the explore job names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_sha256: Option<String>,
}
