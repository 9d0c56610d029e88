//! The integrity report as data: what the HTML shows and `verify --json`
//! prints. Every string that came from evidence (names, paths, E01
//! metadata) is kept as recorded; escaping is the renderer's job.

use exhibit_core::digest::Digests;
use exhibit_core::ids::{ArtefactId, ExhibitRef};
use exhibit_core::item::ItemRecord;
use exhibit_core::manifest::ArtefactKind;
use exhibit_custody::VerifyReport;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Everything the integrity report says about one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrityReport {
    /// The tool and version that wrote the report.
    pub generated_by: String,
    /// When the report was written, UTC (RFC 3339).
    pub generated_at: String,
    /// The one-line verdict a reader sees first.
    pub verdict: Verdict,
    /// What `verify` found: problems, head, signers, anchors.
    #[serde(flatten)]
    pub verify: VerifyReport,
    /// Things a person should look at that are not damage.
    #[serde(default)]
    pub notes: Vec<Value>,
    /// Failures the ledger records (jobs that did not complete).
    #[serde(default)]
    pub failures: Vec<RecordedFailure>,
    /// Fixity audits the ledger records.
    #[serde(default)]
    pub audits: AuditHistory,
    /// One section per exhibit, in the order the ledger first names them.
    #[serde(default)]
    pub exhibits: Vec<ExhibitReport>,
}

/// The verdict: intact and trusted, intact with signers unchecked, or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing wrong, every signer pinned, every anchor checked.
    Trusted,
    /// Nothing wrong, but signers or anchors were not checked against
    /// anything outside the store.
    IntactUnchecked,
    /// Something is wrong: see the problems.
    Failed,
}

impl Verdict {
    /// The verdict of a verify run.
    pub fn of(report: &VerifyReport) -> Self {
        let anchors_unchecked = report.anchors.found > 0 && report.anchors.checked_against.is_none();
        match (report.is_clean(), report.signers_checked && !anchors_unchecked) {
            (false, _) => Self::Failed,
            (true, false) => Self::IntactUnchecked,
            (true, true) => Self::Trusted,
        }
    }

    /// The verdict as a heading.
    pub fn headline(self) -> &'static str {
        match self {
            Self::Trusted => "Intact: every object, manifest and entry checks out, and every signer is trusted",
            Self::IntactUnchecked => {
                "Intact, but not checked against trusted keys: nothing is damaged, yet nobody confirmed who signed"
            }
            Self::Failed => "FAILED: the case is not intact",
        }
    }
}

/// A `failed` event from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedFailure {
    /// The entry.
    pub seq: u64,
    /// When, UTC.
    pub at: String,
    /// The exhibit, if the event names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhibit: Option<ExhibitRef>,
    /// What failed (the recorded action) and why.
    pub reason: String,
}

/// What the ledger says of fixity audits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHistory {
    /// Audit entries recorded.
    pub entries: u64,
    /// When the latest one was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<String>,
    /// Objects whose latest audit failed, by SHA-256.
    #[serde(default)]
    pub failed_objects: Vec<String>,
}

/// One exhibit's section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExhibitReport {
    /// The exhibit reference, e.g. `JS/1`.
    pub exhibit: ExhibitRef,
    /// What the latest item manifest row said about it (description,
    /// seizure, seal, device, notes), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemRecord>,
    /// How many artefacts of each kind, and their bytes.
    pub counts: Counts,
    /// Each acquisition: who, when, what, hashes, bad sectors.
    pub acquisitions: Vec<Acquisition>,
    /// Each E01 check: metadata, stored against computed hashes.
    pub image_checks: Vec<ImageCheck>,
    /// Truncated media and their facts, as explore recorded them.
    #[serde(default)]
    pub truncations: Vec<Value>,
    /// OCR pages a person should review.
    pub review: Vec<ReviewPages>,
    /// Every derivative and whether it was reproduced.
    pub derivatives: Vec<DerivativeCheck>,
    /// Every artefact of the exhibit.
    pub artefacts: Vec<ArtefactRow>,
}

/// Artefact counts of one exhibit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Acquired as given.
    pub originals: u64,
    /// Found inside another artefact.
    pub extracted: u64,
    /// Made from another artefact.
    pub derivatives: u64,
    /// Artefacts whose manifest is missing or differs from the ledger.
    pub unverified_manifests: u64,
    /// Bytes over all artefacts.
    pub bytes: u64,
}

/// One acquisition of an original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acquisition {
    /// The entry that recorded it.
    pub seq: u64,
    /// The artefact it became.
    pub artefact: ArtefactId,
    /// The person responsible.
    pub operator: String,
    /// The machine it ran on.
    pub host: String,
    /// When, UTC.
    pub at: String,
    /// The device or image path as given.
    pub source: String,
    /// Bytes acquired.
    pub size: u64,
    /// Digests, as the manifest records them (SHA-256 alone when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digests: Option<Digests>,
    /// Unreadable ranges `[offset, length]`, zero-filled.
    #[serde(default)]
    pub bad_ranges: Vec<[u64; 2]>,
    /// The device acquisition record (identity, retries), when a device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Value>,
}

/// A `verified` event for an E01 set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageCheck {
    /// The entry.
    pub seq: u64,
    /// The image checked.
    pub artefact: ArtefactId,
    /// The set's segment names.
    pub segments: Vec<String>,
    /// Acquisition metadata the E01 carries.
    pub metadata: Map<String, Value>,
    /// Hashes stored in the E01.
    pub stored: Map<String, Value>,
    /// Hashes computed over the media.
    pub computed: Map<String, Value>,
    /// Whether MD5 and SHA-1 matched (absent where nothing was stored).
    pub md5_matches: Option<bool>,
    /// Whether SHA-1 matched.
    pub sha1_matches: Option<bool>,
    /// Why the check failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// OCR pages of one artefact flagged for review (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPages {
    /// The OCR output.
    pub artefact: ArtefactId,
    /// Its name, when known.
    pub name: String,
    /// Pages to review, counted from 1.
    pub pages: Vec<u64>,
}

/// One derivative and its latest reproduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivativeCheck {
    /// The derivative.
    pub artefact: ArtefactId,
    /// The rule that made it.
    pub rule: String,
    /// The artefact it was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<ArtefactId>,
    /// `None` when never reproduced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduced: Option<Reproduction>,
}

/// The latest `reproduce` of a derivative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reproduction {
    /// The entry.
    pub seq: u64,
    /// When, UTC.
    pub at: String,
    /// Whether the re-run gave the recorded hash.
    pub matched: bool,
    /// What was compared (file or decoded-content SHA-256).
    pub compared: String,
}

/// One artefact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtefactRow {
    /// Its ID.
    pub id: ArtefactId,
    /// Original, extracted or derivative; `None` when its manifest
    /// cannot be trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ArtefactKind>,
    /// Its name or path: the source path, the path inside its image, or
    /// the rule that made it.
    pub name: String,
    /// Size in bytes, as the ledger records it.
    pub size: u64,
    /// Digests: from the manifest when it checks out, else SHA-256 alone.
    pub digests: Digests,
    /// MIME type, when the manifest checks out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// PRONOM PUID, when identification recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub puid: Option<String>,
    /// From the original down to this artefact's parent.
    #[serde(default)]
    pub lineage: Vec<ArtefactId>,
    /// Flags such as `deleted`, `needs-review`, `bad-sectors`.
    #[serde(default)]
    pub flags: Vec<String>,
    /// `recorded` (manifest matches the ledger), `altered` or `missing`.
    pub manifest: ManifestState,
}

/// Whether an artefact's manifest matches what the ledger recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ManifestState {
    /// The stored manifest has a SHA-256 the ledger recorded.
    Recorded,
    /// It differs: its contents are not shown.
    Altered,
    /// None is stored, or the ledger recorded none.
    Missing,
}
