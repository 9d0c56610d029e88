//! Bulk submissions: `POST /v1/cases/{case}/submissions` with an item
//! manifest (`text/csv` or `application/json`, parsed by
//! [`exhibit_app::item_manifest`], the parser `exhibit ingest --manifest`
//! uses) whose rows name uploads by `upload` ID or `sha256`, with the item
//! metadata of each exhibit. Each row is accepted (its metadata recorded in
//! a `described` event naming the user, when it changed) or rejected with
//! its line and reason; the good rows go ahead. The submission and its rows
//! are kept in the intake journal, so `GET .../submissions/{id}` answers
//! after a restart, with each accepted row's upload state.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use exhibit_app::access::User;
use exhibit_app::intake::{Submission, SubmissionRow, UploadEntry};
use exhibit_app::item_manifest::{self, BadRow, ManifestFormat, ManifestRow, SourceColumns};
use exhibit_core::event::{Action, Actor, CustodyEvent, Outcome};
use exhibit_core::item::ItemRecord;
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{DescribedParams, EventParams};
use exhibit_core::{CaseId, Sha256Digest};
use exhibit_custody::{Ledger, LedgerEntry};
use exhibit_tus::UploadId;
use serde_json::json;
use tracing::{info, instrument};

use super::receive::operator;
use super::row_items::RowItems;
use super::status::rfc3339;
use crate::ApiState;
use crate::case_extract::{OwnerParam, ReadableCase, WritableCase};
use crate::case_names::{CaseNames, NamesSlot};
use crate::dto::{SubmissionInfo, SubmissionRowInfo};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, Caller, TimedBytes};
use crate::id_params::SubmissionIdParam;
use crate::openapi_parts::{AmbiguousCase, CaseNotFound, CasePath, MayNotSubmit, OwnerQuery, Unauthenticated};

/// The columns a submission row names its upload by.
const UPLOAD_COLUMNS: SourceColumns = SourceColumns { names: &["upload", "sha256"], one_required: true };

/// Submits a manifest whose rows name uploads of this case.
#[utoipa::path(post, path = "/v1/cases/{case}/submissions", security(("bearer" = [])),
    params(CasePath, OwnerQuery),
    request_body(content = String, content_type = "text/csv",
        description = "A header row naming `exhibit`, `upload` or `sha256`, and item columns; or the same as a JSON array of objects (application/json)"),
    responses(
        (status = 207, description = "Each row's result", body = SubmissionInfo),
        (status = 400, description = "Not a CSV or JSON manifest, or a bad header", body = ErrorBody),
        Unauthenticated, MayNotSubmit, CaseNotFound,
        (status = 409, description = "The case's ledger fails its check, or the server's key may not sign it", body = ErrorBody),
        (status = 408, description = "The manifest did not arrive whole in time", body = ErrorBody),
        (status = 413, description = "Manifest too large", body = ErrorBody),
        (status = 415, description = "Neither text/csv nor application/json", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn submit(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiPath(typed): ApiPath<String>,
    owner: OwnerParam,
    slot: NamesSlot,
    headers: HeaderMap,
    TimedBytes(body): TimedBytes,
) -> Result<(StatusCode, Json<SubmissionInfo>), ApiError> {
    let WritableCase { caller, case, name } =
        WritableCase::of(&state, caller, &owner.with(typed)).await?.remembered(&slot);
    state.reader.writable(&case, state.options.trusted.as_deref()).await?;
    let names = CaseNames { id: case, name: name.clone() };
    let format = format_of(&headers)?;
    let parsed = item_manifest::parse(&body, format, UPLOAD_COLUMNS, false).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_manifest", format!("{e}; nothing was submitted"))
    })?;
    let manifest_sha256 = Sha256Digest::of(&body);
    let user = caller.0.user.clone();
    // In a task of its own: a client that disconnects must not cancel the
    // work between recording a row's description and recording the row.
    let worker = state.clone();
    let work = async move { process(&worker, &user, &names, parsed, manifest_sha256).await };
    let (submission, rows) = tokio::spawn(tracing::Instrument::in_current_span(work))
        .await
        .map_err(|e| ApiError::internal("a submission task failed", &e))??;
    Ok((StatusCode::MULTI_STATUS, Json(info_of(&submission, &rows, &name))))
}

/// Every row in order: each accepted one's description recorded before
/// the next row is taken; once the server is stopping, the rows not
/// reached are recorded as not processed. Then the submission is recorded
/// with every row.
#[instrument(skip_all, fields(case = %names.id, rows = parsed.len()))]
async fn process(
    state: &Arc<ApiState>,
    user: &User,
    names: &CaseNames,
    parsed: Vec<Result<ManifestRow, BadRow>>,
    manifest_sha256: Sha256Digest,
) -> Result<(Submission, Vec<SubmissionRow>), ApiError> {
    let case = &names.id;
    info!("submission started");
    let mut rows = Vec::with_capacity(parsed.len());
    let mut named: HashMap<String, String> = HashMap::new();
    let mut describer = Describer::new(state, user, case, manifest_sha256);
    let mut accepted = 0usize;
    let mut items = RowItems::default();
    for row in parsed {
        if state.drain.is_stopping() {
            rows.push(not_processed(row));
            continue;
        }
        let result = match row {
            Err(bad) => rejected(bad.place, bad.exhibit, bad.reason),
            Ok(row) if bidi_cell(&row).is_some() => {
                let reason = bidi_cell(&row).unwrap_or_default();
                rejected(row.place.clone(), Some(row.exhibit.to_string()), reason)
            }
            // A row names its case as the client knows it: by name.
            Ok(row) if row.case.as_ref().is_some_and(|c| *c != names.name) => {
                let reason = other_case(row.case.as_ref(), &names.name);
                rejected(row.place.clone(), Some(row.exhibit.to_string()), reason)
            }
            Ok(row) => match find_upload(state, case, &row, &named).await? {
                Err(reason) => rejected(row.place.clone(), Some(row.exhibit.to_string()), reason),
                Ok(_) if items.conflict(&row).is_some() => {
                    let reason = items.conflict(&row).unwrap_or_default();
                    rejected(row.place.clone(), Some(row.exhibit.to_string()), reason)
                }
                Ok(upload) => {
                    describer.describe(&row).await?;
                    items.register(&row);
                    named.insert(upload.id.clone(), row.place.clone());
                    accepted += 1;
                    accepted_row(row, upload.id)
                }
            },
        };
        rows.push(result);
    }
    let submission = Submission {
        id: UploadId::random().to_string(),
        case: case.clone(),
        org: user.org.id,
        operator: operator(user),
        manifest_sha256,
        created_at: time::OffsetDateTime::now_utc(),
    };
    state.access.intake().add_submission(&submission, &rows).await?;
    info!(submission = %submission.id, rows = rows.len(), accepted, "submission recorded");
    let (_, rows) = state
        .access
        .intake()
        .submission(case, &submission.id)
        .await?
        .ok_or_else(|| ApiError::internal("the submission just recorded cannot be read", &"missing"))?;
    Ok((submission, rows))
}

fn accepted_row(row: ManifestRow, upload: String) -> SubmissionRow {
    SubmissionRow {
        place: row.place,
        exhibit: Some(row.exhibit.to_string()),
        upload: Some(upload),
        accepted: true,
        reason: None,
        upload_state: None,
        upload_reason: None,
    }
}

/// Why a row is refused for a bidirectional control in a cell, if it is:
/// such text reads differently from what it is.
fn bidi_cell(row: &ManifestRow) -> Option<String> {
    let mut cells =
        row.item_cells.iter().map(|(name, text)| (*name, text)).chain(row.sources.iter().map(|(n, t)| (*n, t)));
    cells.find_map(|(name, text)| {
        let c = text.chars().find(|c| exhibit_core::item::is_bidi_control(*c))?;
        Some(format!(
            "{name}: holds the bidirectional control {}, which makes text read differently from what it is; remove it",
            c.escape_unicode()
        ))
    })
}

/// A row the server did not reach because it was stopping.
fn not_processed(row: Result<ManifestRow, BadRow>) -> SubmissionRow {
    let (place, exhibit) = match row {
        Ok(row) => (row.place, Some(row.exhibit.to_string())),
        Err(bad) => (bad.place, bad.exhibit),
    };
    let reason = format!("{NOT_PROCESSED}: the server was stopping before it reached this row; submit it again");
    rejected(place, exhibit, reason)
}

/// How the reason of a row the server did not reach starts.
pub const NOT_PROCESSED: &str = "not processed";

/// A submission of a case the caller can see, with each row's state now.
#[utoipa::path(get, path = "/v1/cases/{case}/submissions/{id}", security(("bearer" = [])),
    params(
        CasePath,
        ("id" = String, Path, description = "The submission's ID: 32 lowercase hex digits (anything else is 400)",
            pattern = r"^[0-9a-f]{32}$"),
        OwnerQuery,
    ),
    responses(
        (status = 200, description = "The submission", body = SubmissionInfo),
        (status = 400, description = "Not a case ID or submission ID", body = ErrorBody),
        Unauthenticated, AmbiguousCase,
        (status = 404, description = "No such case or submission, or not yours", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn show(
    SubmissionIdParam(id): SubmissionIdParam,
    State(state): State<Arc<ApiState>>,
    ReadableCase { caller, case, name, .. }: ReadableCase,
) -> Result<Json<SubmissionInfo>, ApiError> {
    let (submission, rows) =
        state.access.intake().submission(&case, id.as_str()).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(info_of(&submission, &rows, &name)))
}

fn format_of(headers: &HeaderMap) -> Result<ManifestFormat, ApiError> {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/csv" => Ok(ManifestFormat::Csv),
        "application/json" => Ok(ManifestFormat::Json),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the manifest as Content-Type text/csv or application/json",
        )),
    }
}

fn rejected(place: String, exhibit: Option<String>, reason: String) -> SubmissionRow {
    SubmissionRow {
        place,
        exhibit,
        upload: None,
        accepted: false,
        reason: Some(reason),
        upload_state: None,
        upload_reason: None,
    }
}

/// Why a row naming another case is rejected; the same words whether
/// that case exists or not.
fn other_case(named: Option<&CaseId>, case: &CaseId) -> String {
    let named = named.map_or_else(String::new, |c| c.as_str().escape_debug().to_string());
    format!("case {named:?}: this submission is for case {case}; submit the rows of another case to that case")
}

/// The upload a row names, in this case and for this exhibit, not named by
/// an earlier row; otherwise why not.
async fn find_upload(
    state: &ApiState,
    case: &CaseId,
    row: &ManifestRow,
    named: &HashMap<String, String>,
) -> Result<Result<UploadEntry, String>, ApiError> {
    let journal = state.access.intake();
    let found = if let Some(id) = row.sources.get("upload") {
        let id = id.trim();
        journal.upload(case, id).await?.ok_or_else(|| {
            format!(
                "upload: no finished upload {:?} in this case; upload the file first",
                id.escape_debug().to_string()
            )
        })
    } else {
        let text = row.sources.get("sha256").map_or("", |s| s.trim());
        match text.to_ascii_lowercase().parse::<Sha256Digest>() {
            Err(_) => Err(format!("sha256: {:?} is not 64 hex digits", text.escape_debug().to_string())),
            Ok(sha256) => {
                // The same bytes may have been sent for several exhibits:
                // the row's own exhibit's upload (not yet named) comes
                // first, else the newest, whose exhibit the check below
                // then names.
                let uploads = journal.uploads_with_sha256(case, &sha256).await?;
                let own = uploads.iter().position(|u| u.exhibit == row.exhibit && !named.contains_key(&u.id));
                let pick = uploads.into_iter().nth(own.unwrap_or(0));
                pick.ok_or_else(|| {
                    format!("sha256: no finished upload of this case has SHA-256 {sha256}; upload the file first")
                })
            }
        }
    };
    Ok(found.and_then(|upload| {
        if upload.exhibit != row.exhibit {
            return Err(format!(
                "upload {} was sent for exhibit {}, not {}; correct the row",
                upload.id, upload.exhibit, row.exhibit
            ));
        }
        if let Some(first) = named.get(&upload.id) {
            return Err(format!("upload {} is already named on {first}; name each upload once", upload.id));
        }
        Ok(upload)
    }))
}

/// Records each accepted row's metadata on its exhibit, merged over the
/// latest description, unless nothing changed (as `exhibit ingest
/// --manifest` does), signed with the server's key and naming the user.
/// The case's ledger is opened at the first accepted row.
struct Describer<'a> {
    state: &'a ApiState,
    user: &'a User,
    case: &'a CaseId,
    manifest_sha256: Sha256Digest,
    opened: Option<(Arc<Ledger>, HashMap<String, DescribedParams>)>,
}

impl<'a> Describer<'a> {
    fn new(state: &'a ApiState, user: &'a User, case: &'a CaseId, manifest_sha256: Sha256Digest) -> Self {
        Self { state, user, case, manifest_sha256, opened: None }
    }

    async fn describe(&mut self, row: &ManifestRow) -> Result<(), ApiError> {
        if self.opened.is_none() {
            self.opened = Some(open_descriptions(self.state, self.case).await?);
        }
        let Some((ledger, latest)) = self.opened.as_mut() else {
            return Err(ApiError::internal("the case's ledger was not opened", &"missing"));
        };
        let previous = latest.get(row.exhibit.as_str()).cloned();
        let previous_item: ItemRecord = previous.as_ref().and_then(DescribedParams::item_record).unwrap_or_default();
        let value = serde_json::to_value(row.item.merged_over(&previous_item, &row.cleared))
            .map_err(|e| ApiError::internal("cannot encode the item", &e))?;
        if previous.as_ref().is_some_and(|p| p.item.as_ref() == Some(&value)) {
            return Ok(());
        }
        let params = DescribedParams {
            item: Some(value),
            manifest: Some(json!({"sha256": self.manifest_sha256.to_hex(), "row": row.place})),
        };
        append_described(self.state, self.user, ledger.as_ref(), (self.case, &row.exhibit), params.clone()).await?;
        latest.insert(row.exhibit.to_string(), params);
        Ok(())
    }
}

async fn open_descriptions(
    state: &ApiState,
    case: &CaseId,
) -> Result<(Arc<Ledger>, HashMap<String, DescribedParams>), ApiError> {
    let trust = state.intake.as_ref().map(|i| &i.receiver().deps.trust);
    let default_trust = exhibit_app::case_open::TrustPolicy::default();
    let trust = trust.unwrap_or(&default_trust);
    let opened = exhibit_app::case_open::open_case(state.store.clone(), case, state.signer.clone(), trust).await?;
    let latest = latest_descriptions(&opened.entries);
    Ok((opened.ledger, latest))
}

fn latest_descriptions(entries: &[LedgerEntry]) -> HashMap<String, DescribedParams> {
    let mut latest = HashMap::new();
    for (_, event) in exhibit_custody::events_of(entries) {
        if let (Action::Described, Some(exhibit), Some(params)) =
            (&event.action, &event.exhibit, event.described_params())
        {
            latest.insert(exhibit.to_string(), params);
        }
    }
    latest
}

async fn append_described(
    state: &ApiState,
    user: &User,
    ledger: &Ledger,
    (case, exhibit): (&CaseId, &exhibit_core::ExhibitRef),
    params: DescribedParams,
) -> Result<(), ApiError> {
    let mut event = CustodyEvent {
        at: time::OffsetDateTime::now_utc(),
        case: case.clone(),
        exhibit: Some(exhibit.clone()),
        action: Action::Described,
        artefact: None,
        inputs: Vec::new(),
        tool: ToolInfo::exhibit("submission"),
        params: Default::default(),
        actor: Actor {
            operator: operator(user),
            host: state.options.host.clone(),
            process: std::process::id(),
            public_key: state.signer.public_key_openssh(),
        },
        outcome: Outcome::Ok,
    };
    event.set_params(EventParams::Described(params));
    ledger.append(event).await.map_err(|e| ApiError::internal("cannot record the item's description", &e))?;
    Ok(())
}

/// The submission as clients see it: its case by `name`.
fn info_of(submission: &Submission, rows: &[SubmissionRow], name: &CaseId) -> SubmissionInfo {
    let accepted = rows.iter().filter(|r| r.accepted).count() as u64;
    SubmissionInfo {
        submission: submission.id.clone(),
        case: name.to_string(),
        operator: submission.operator.clone(),
        manifest_sha256: submission.manifest_sha256.to_hex(),
        created_at: rfc3339(submission.created_at),
        accepted,
        rejected: rows.len() as u64 - accepted,
        rows: rows
            .iter()
            .map(|r| SubmissionRowInfo {
                place: r.place.clone(),
                exhibit: r.exhibit.clone(),
                upload: r.upload.clone(),
                result: if r.accepted { "accepted" } else { "rejected" }.to_owned(),
                reason: r.reason.clone().or_else(|| r.upload_reason.clone()),
                state: r.upload_state.map(|s| s.as_str().to_owned()),
            })
            .collect(),
    }
}
