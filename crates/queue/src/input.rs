//! Typed, versioned job inputs. A job names its input by IDs and hashes
//! (an acquire job by its source description), never by a stored file's
//! path, so any worker can run it from the store alone.
//!
//! Wire form: `{"v":1,"kind":"explore", ...the variant's fields}`. A message
//! with another version or an unknown kind still deserializes, as
//! [`JobInput::Unreadable`] holding the raw JSON, so that the worker can
//! record a `failed` event naming it and dead-letter it instead of the
//! queue dropping it.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::ArtefactId;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The job-input version this build writes and reads.
pub const JOB_INPUT_VERSION: u64 = 1;

/// A job's input.
#[derive(Debug, Clone, PartialEq)]
pub enum JobInput {
    /// Version 1.
    V1(StageInput),
    /// A version or kind this build does not know, kept as received.
    Unreadable(Value),
}

/// What each stage is given, tagged by `kind` (the stage's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StageInput {
    /// Read a source into the store.
    Acquire(SourceInput),
    /// Find the media type of an acquired artefact.
    Identify(ArtefactInput),
    /// Walk a medium.
    Explore(ExploreInput),
    /// Normalise audio/video.
    Transcode(DeriveInput),
    /// OCR a scan.
    Ocr(DeriveInput),
    /// Join the searchable PDFs of a folder's pages into one PDF/A.
    OcrBundle(BundleInput),
    /// Plan the exhibit's bundles from the ledger, once its page files'
    /// OCR jobs are complete (a barrier job on the `ocr-bundle` lane: see
    /// `Job::after`), and queue one [`StageInput::OcrBundle`] job each.
    OcrBundlePlan(BundlePlanInput),
    /// Record a set (E01 segments, a cue sheet and its files) once every
    /// member is acquired, and queue its explore job.
    Assemble(SetInput),
}

/// An acquire job's source: the path's raw bytes, hex, and their display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInput {
    /// Display path, for messages.
    pub path: String,
    /// The path's raw bytes, hex (Unix paths are bytes, not text).
    pub path_hex: String,
    /// The operator-named file it was found beside, when it was not named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_beside: Option<String>,
    /// A member of a set planning found: explored only through the set's
    /// record, never on its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_set: bool,
    /// The path to record in place of the path read, hex: a file the
    /// server staged is recorded under its upload, not the staging folder.
    /// `path` then shows it too. Absent: the path read is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_hex: Option<String>,
}

/// An assemble job's set, as planned: its kind and its members' sources,
/// head first, in set order. The members are found among the exhibit's
/// recorded acquisitions by these paths, never on the file system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetInput {
    /// Display path of the head (the `.E01`, the `.cue`), for messages.
    pub path: String,
    /// Which kind of set.
    pub set: exhibit_core::set_record::SetKind,
    /// Every member planned, head first.
    pub members: Vec<SetSource>,
}

/// One planned member of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetSource {
    /// What it is to the set.
    pub role: exhibit_core::set_record::SetRole,
    /// Its place in the set (segment number; 0 for a sheet, 1.. its files).
    pub order: u32,
    /// Display path, for messages.
    pub path: String,
    /// The path's raw bytes, hex, as its acquire job names it.
    pub path_hex: String,
}

/// A stored artefact, by ID and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtefactInput {
    /// Display path, for messages.
    pub path: String,
    /// The artefact.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
    /// A member of a set: identify queues no explore job for it; the set's
    /// assemble job does, once every member is acquired.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_set: bool,
}

/// An explore job's medium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploreInput {
    /// Display path of the artefact, for messages.
    pub path: String,
    /// The artefact to explore.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
    /// How many containers it is nested in (0 for an original).
    pub depth: u32,
    /// Unreadable image ranges `[offset, len]` that were zero-filled.
    #[serde(default)]
    pub bad_ranges: Vec<[u64; 2]>,
    /// For a set (E01 segments, a cue sheet and its files): the SHA-256 of
    /// its record, which an `assembled` event in the ledger holds; explore
    /// opens the members it lists, by hash. `artefact` is then the head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Sha256Digest>,
}

/// The input of a derivation job: one stored artefact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeriveInput {
    /// Display path, for messages.
    pub path: String,
    /// The source artefact.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
    /// Its media type, as identified.
    pub mime: String,
}

/// A job input this build cannot use for the stage it was sent to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobInputError {
    /// Unknown version or kind, or fields that do not fit it.
    #[error("unreadable job input (this build reads version {JOB_INPUT_VERSION}): {0}")]
    Unreadable(String),
    /// A readable input of another stage.
    #[error("a {found} input sent to the {stage} stage")]
    WrongStage {
        /// The stage the job was routed to.
        stage: String,
        /// The input's kind.
        found: &'static str,
    },
}

impl JobInputError {
    /// Both are the sender's mistake: retrying cannot help.
    pub fn kind(&self) -> exhibit_core::ErrorKind {
        exhibit_core::ErrorKind::Invalid
    }
}

impl StageInput {
    /// The stage this input is for.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Acquire(_) => "acquire",
            Self::Identify(_) => "identify",
            Self::Explore(_) => "explore",
            Self::Transcode(_) => "transcode",
            Self::Ocr(_) => "ocr",
            Self::OcrBundle(_) => "ocr-bundle",
            Self::OcrBundlePlan(_) => "ocr-bundle-plan",
            Self::Assemble(_) => "assemble",
        }
    }

    /// The display path, for messages.
    pub fn path(&self) -> &str {
        match self {
            Self::Acquire(s) => &s.path,
            Self::Identify(a) => &a.path,
            Self::Explore(e) => &e.path,
            Self::Transcode(d) | Self::Ocr(d) => &d.path,
            Self::OcrBundle(b) => &b.folder,
            Self::OcrBundlePlan(p) => &p.folders,
            Self::Assemble(s) => &s.path,
        }
    }

    /// The size of the content the job reads.
    pub fn size(&self) -> Option<u64> {
        match self {
            Self::Acquire(_) => None,
            Self::Identify(a) => Some(a.size),
            Self::Explore(e) => Some(e.size),
            Self::Transcode(d) | Self::Ocr(d) => Some(d.size),
            Self::OcrBundle(_) | Self::OcrBundlePlan(_) | Self::Assemble(_) => None,
        }
    }
}

/// One page file of a bundle and the searchable PDF OCR made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundlePage {
    /// The page file's recorded path.
    pub path: String,
    /// The page file (an original).
    pub original: ArtefactId,
    /// Its content hash.
    pub original_sha256: Sha256Digest,
    /// Its searchable PDF/A.
    pub pdf: ArtefactId,
    /// That PDF's content hash.
    pub pdf_sha256: Sha256Digest,
    /// Pages in that PDF.
    pub pages: u64,
    /// Its pages OCR flagged for review (zero-based).
    #[serde(default)]
    pub review: Vec<u64>,
}

/// A page file of the folder that is not in the bundle PDF, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingPage {
    /// The file's recorded path.
    pub path: String,
    /// Why it has no searchable PDF.
    pub why: String,
}

/// The input of a bundle-planning job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundlePlanInput {
    /// The folders that may be bundles, for messages (`scans/, letters/`).
    pub folders: String,
    /// The page count the operator gave (`--pages`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_pages: Option<u32>,
}

/// The input of a bundle job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleInput {
    /// The folder's name, with a trailing `/` (`scans/`).
    pub folder: String,
    /// The page files with a searchable PDF, in page order.
    pub pages: Vec<BundlePage>,
    /// Page files without one.
    pub missing: Vec<MissingPage>,
}

impl BundleInput {
    /// What a person calls the bundle's PDF: "searchable PDF of scans/ (12 pages)".
    pub fn label(&self, pages: u64) -> String {
        format!("searchable PDF of {} ({pages} page{})", self.folder, if pages == 1 { "" } else { "s" })
    }
}

impl JobInput {
    /// Reads the wire form; anything but a known version and kind is
    /// [`JobInput::Unreadable`].
    pub fn from_value(value: Value) -> Self {
        let Some(map) = value.as_object().filter(|m| m.get("v").and_then(Value::as_u64) == Some(JOB_INPUT_VERSION))
        else {
            return Self::Unreadable(value);
        };
        let mut fields = map.clone();
        fields.remove("v");
        match serde_json::from_value(Value::Object(fields)) {
            Ok(input) => Self::V1(input),
            Err(_) => Self::Unreadable(value),
        }
    }

    /// The wire form.
    pub fn to_value(&self) -> Value {
        match self {
            Self::V1(input) => match serde_json::to_value(input) {
                Ok(Value::Object(mut map)) => {
                    map.insert("v".into(), JOB_INPUT_VERSION.into());
                    Value::Object(map)
                }
                // A derived Serialize of plain fields cannot fail.
                _ => Value::Null,
            },
            Self::Unreadable(raw) => raw.clone(),
        }
    }

    /// The input, whatever its stage, or why it cannot be read.
    pub fn readable(&self) -> Result<&StageInput, JobInputError> {
        match self {
            Self::V1(input) => Ok(input),
            Self::Unreadable(raw) => Err(JobInputError::Unreadable(truncated(raw))),
        }
    }

    /// The input for `stage`, or why there is none.
    pub fn for_stage(&self, stage: &str) -> Result<&StageInput, JobInputError> {
        match self {
            Self::V1(input) if input.kind() == stage => Ok(input),
            Self::V1(input) => Err(JobInputError::WrongStage { stage: stage.to_owned(), found: input.kind() }),
            Self::Unreadable(raw) => Err(JobInputError::Unreadable(truncated(raw))),
        }
    }

    /// The display path, for messages.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::V1(input) => Some(input.path()),
            Self::Unreadable(raw) => raw.get("path").and_then(Value::as_str),
        }
    }
}

/// A hostile message can be large; the error names its start only.
fn truncated(raw: &Value) -> String {
    let text = raw.to_string();
    match text.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

impl Serialize for JobInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JobInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(Self::from_value)
    }
}

impl From<StageInput> for JobInput {
    fn from(input: StageInput) -> Self {
        Self::V1(input)
    }
}

#[cfg(test)]
mod tests;
