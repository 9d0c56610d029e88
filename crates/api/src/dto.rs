//! The JSON shapes of requests and responses, as the OpenAPI document
//! describes them.

use exhibit_app::access::CaseAccess;
use exhibit_app::readmodel;
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/cases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// The case's name in your organisation, e.g. `42AB1234520` or
    /// `2024/00123/POL` (the rules of a case ID). Names are your
    /// organisation's own: another organisation's case of the same name is
    /// another case. The pattern gives the characters and length allowed;
    /// the server also refuses (400) an empty part, a part ending in `.`
    /// or space, and names Windows reserves (`con`).
    #[schema(pattern = r"^[A-Za-z0-9][A-Za-z0-9 ./_-]{0,63}$")]
    pub case: String,
}

/// A case the caller's organisation can see.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseInfo {
    /// The case's name, as its owner first gave it.
    pub case: String,
    /// The organisation that owns it.
    pub owner: String,
    /// `owner` (read and write) or `shared` (read only).
    #[schema(value_type = String, pattern = "^(owner|shared)$")]
    pub access: CaseAccess,
}

/// `GET /v1/cases`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    /// By name, then owner.
    pub cases: Vec<CaseInfo>,
}

/// How many jobs of an exhibit and action ended how.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobCount {
    /// The exhibit, if the job was about one.
    pub exhibit: Option<String>,
    /// The recorded action (`acquired`, `identified`, `failed`...).
    pub action: String,
    /// `done` or `failed`.
    pub status: String,
    /// How many.
    pub count: u64,
}

impl From<readmodel::JobCount> for JobCount {
    fn from(j: readmodel::JobCount) -> Self {
        Self {
            exhibit: j.exhibit.map(|e| e.to_string()),
            action: j.action,
            status: j.status.as_str().to_owned(),
            count: j.count,
        }
    }
}

/// A problem the read model found in the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemInfo {
    /// The ledger entry it concerns.
    pub seq: u64,
    /// What is wrong.
    pub text: String,
}

impl From<readmodel::Problem> for ProblemInfo {
    fn from(p: readmodel::Problem) -> Self {
        Self { seq: p.seq, text: p.text }
    }
}

/// `GET /v1/cases/{case}`: the case as the ledger records it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseStatus {
    /// The case, its owner and how the caller reaches it.
    #[serde(flatten)]
    pub info: CaseInfo,
    /// The last ledger entry (0: nothing recorded yet).
    pub head_seq: u64,
    /// Artefacts recorded.
    pub artefacts: u64,
    /// Exhibits named.
    pub exhibits: u64,
    /// Jobs by exhibit, action and outcome.
    pub jobs: Vec<JobCount>,
    /// Problems in the ledger; `exhibit verify` has the full report.
    pub problems: Vec<ProblemInfo>,
}

/// `POST /v1/cases/{case}/shares`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    /// The organisation to share the case with, read only.
    pub org: String,
}

/// A share of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareInfo {
    /// The case's name, as its owner gave it.
    pub case: String,
    /// The organisation it is shared with.
    pub org: String,
}

/// One artefact of a case.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtefactInfo {
    /// 32 hex digits.
    pub id: String,
    /// The exhibit it belongs to.
    pub exhibit: String,
    /// `original`, `extracted` or `derivative`.
    pub kind: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// MIME type as identified.
    pub media_type: String,
    /// Where it came from: an original's file name (as uploaded; never the
    /// server's path to it), a file's path in its image.
    pub path: Option<String>,
    /// The artefact it came out of, if any.
    pub parent: Option<String>,
    /// Conditions found (`needs-review`, `deleted`...).
    pub flags: Vec<String>,
}

impl From<&ArtefactManifest> for ArtefactInfo {
    fn from(m: &ArtefactManifest) -> Self {
        Self {
            id: m.id.to_string(),
            exhibit: m.exhibit.to_string(),
            kind: match m.kind {
                ArtefactKind::Original => "original",
                ArtefactKind::Extracted => "extracted",
                ArtefactKind::Derivative => "derivative",
            }
            .to_owned(),
            size: m.size,
            sha256: m.digests.sha256.to_hex(),
            media_type: m.media_type.mime.clone(),
            path: shown_path(m),
            parent: m.parent.as_ref().map(|p| p.id.to_string()),
            flags: m.flags.clone(),
        }
    }
}

/// What a reader is shown of where an artefact came from. An original's
/// recorded path is where the operator's machine read it (an upload's is
/// `upload/<id>/<name>`): only its name is shown. A path inside
/// an image is the image's own, relative, and shown whole.
fn shown_path(m: &ArtefactManifest) -> Option<String> {
    let source = m.source.as_ref()?;
    Some(match m.kind {
        ArtefactKind::Original => source.name.display.clone(),
        ArtefactKind::Extracted | ArtefactKind::Derivative => source.path.display.clone(),
    })
}

/// `GET /v1/cases/{case}/artefacts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtefactList {
    /// The case's name, as its owner gave it.
    pub case: String,
    /// By exhibit, then source path.
    pub artefacts: Vec<ArtefactInfo>,
}

/// `PUT .../files/{filename}`: the file as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct PutResult {
    /// The upload's ID (`put-` and 32 hex digits), for submissions.
    pub upload: String,
    /// The case's name, as its owner gave it.
    pub case: String,
    /// The exhibit.
    pub exhibit: String,
    /// The file's name.
    pub filename: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// `done`: recorded in the ledger.
    pub state: String,
}

/// Uploads of a case by state.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadCounts {
    /// tus uploads created and not whole yet (bytes still arriving).
    pub receiving: u64,
    /// Received, not yet ingested.
    pub queued: u64,
    /// Being ingested.
    pub running: u64,
    /// Ingested.
    pub done: u64,
    /// Failed (kept staged, retried when the server starts).
    pub failed: u64,
}

/// An upload whose ingest failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadFailure {
    /// The upload's ID.
    pub upload: String,
    /// The exhibit.
    pub exhibit: String,
    /// The file's name.
    pub filename: String,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Who sent it.
    pub operator: String,
    /// What happened and what to do.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// An upload or chunk refused because its hash did not match.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefusalInfo {
    /// The tus upload, if it was one.
    pub upload: Option<String>,
    /// The exhibit named.
    pub exhibit: Option<String>,
    /// The file name given.
    pub filename: Option<String>,
    /// Who sent it.
    pub operator: String,
    /// What did not match and what to do.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// `GET /v1/cases/{case}/status`: what the case received and how its jobs went.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeStatus {
    /// The case's name, as its owner gave it.
    pub case: String,
    /// Uploads by state.
    pub uploads: UploadCounts,
    /// Jobs recorded in the ledger, by exhibit, action and outcome.
    pub jobs: Vec<JobCount>,
    /// Uploads whose ingest failed, newest first.
    pub failures: Vec<UploadFailure>,
    /// Refused uploads and chunks, newest first.
    pub refusals: Vec<RefusalInfo>,
    /// Problems in the ledger.
    pub problems: Vec<ProblemInfo>,
}

/// One row of a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionRowInfo {
    /// `line 4` (CSV) or `item 3` (JSON).
    pub place: String,
    /// The exhibit, if the row named a valid one.
    pub exhibit: Option<String>,
    /// The upload the row named, once found.
    pub upload: Option<String>,
    /// `accepted` or `rejected`.
    pub result: String,
    /// Why it was rejected. A row the server did not reach because it was
    /// stopping is rejected with a reason that starts `not processed`:
    /// submit it again.
    pub reason: Option<String>,
    /// For an accepted row, its upload's ingest: `queued`, `running`, `done`, `failed`.
    pub state: Option<String>,
}

/// A bulk submission and the result of each row.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionInfo {
    /// Its ID, for `GET /v1/cases/{case}/submissions/{id}`.
    pub submission: String,
    /// The case's name, as its owner gave it.
    pub case: String,
    /// Who sent it.
    pub operator: String,
    /// SHA-256 of the manifest, hex.
    pub manifest_sha256: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Each row, in order.
    pub rows: Vec<SubmissionRowInfo>,
}

/// A request body of raw bytes (a file, or a chunk of one): in the
/// document, `type: string, format: binary`.
#[derive(Debug)]
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl ToSchema for Binary {}

/// `GET /v1/cases/{case}/uploads/{id}`: one received file and its ingest.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadInfo {
    /// The upload's ID (tus, or `put-...`).
    pub upload: String,
    /// The case's name, as its owner gave it.
    pub case: String,
    /// The exhibit.
    pub exhibit: String,
    /// The file's name.
    pub filename: String,
    /// Bytes (the declared length while `receiving`).
    pub size: u64,
    /// Bytes received so far (as `size` once received whole).
    pub received: u64,
    /// SHA-256 of the content as received, hex; none while `receiving`.
    pub sha256: Option<String>,
    /// Who sent it.
    pub operator: String,
    /// `receiving` (a tus upload not whole yet), then its ingest: `queued`,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// For `failed`: what happened and what to do; for `done`, a note
    /// when a later job on it needs attention.
    pub reason: Option<String>,
    /// When the state last changed (RFC 3339).
    pub updated_at: String,
}
