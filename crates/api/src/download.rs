//! Downloads: an artefact's content, whole or one byte range, with its
//! SHA-256 in `Repr-Digest` (RFC 9530), and an `accessed` event naming the
//! authenticated user appended to the case's ledger before the first byte
//! leaves. A whole download is re-hashed as it streams: if the stored bytes
//! no longer match the ledger the connection is cut before the last byte,
//! so a client never receives a complete, wrong file. A range is read
//! positionally and not re-hashed (that would mean reading everything); the
//! client checks the assembled whole against `Repr-Digest`.

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_core::read_at::ReadAt;
use exhibit_custody::RecordedArtefact;
use tokio::sync::mpsc;
use tracing::{info, instrument, warn};

use crate::ApiState;
use crate::case_extract::ReadableCase;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, Caller};
use crate::openapi_parts::{CasePath, Unauthenticated};
use crate::range::{Wanted, wanted};

/// Bytes per chunk sent.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the client: memory per download is bounded by this.
const AHEAD: usize = 4;

/// An artefact's content.
#[utoipa::path(get, path = "/v1/cases/{case}/artefacts/{id}/content", security(("bearer" = [])),
    params(
        CasePath,
        ("id" = String, Path, description = "Artefact ID, 32 hex digits"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023"),
    ),
    responses(
        (status = 200, description = "The whole content, re-hashed as it streams",
            content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Repr-Digest" = String, description = "sha-256=:BASE64:, of the whole content"))),
        (status = 206, description = "One byte range", content_type = "application/octet-stream", body = Vec<u8>,
            headers(("Content-Range" = String), ("Repr-Digest" = String, description = "Of the whole content"))),
        (status = 400, description = "Not a case or artefact ID", body = ErrorBody),
        Unauthenticated,
        (status = 404, description = "No such case or artefact, or not yours", body = ErrorBody),
        (status = 409, description = "The ledger or manifest fails its check, or the server's key is not admitted", body = ErrorBody),
        (status = 416, description = "The range starts past the end", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn content(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiPath((typed, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A string that is no artefact ID is 400 whatever exists.
    let id: ArtefactId = id.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(e.to_string()))?;
    let ReadableCase { caller, case, .. } = ReadableCase::of(&state, caller, &typed).await?;
    state.reader.refresh(&case).await?;
    let artefacts = state.reader.model().artefacts(&case, None).await?;
    let manifest = artefacts.into_iter().find(|m| m.id == id).ok_or_else(ApiError::not_found)?;
    let record = crate::recorded::checked(&state, &case, &manifest).await?;
    let range = wanted(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), record.size);
    if range == Wanted::Unsatisfiable {
        let mut response =
            ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable", "the range starts past the end")
                .into_response();
        response.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes */{}", record.size)));
        return Ok(response);
    }
    let described = match range {
        Wanted::Part { start, end } => format!("HTTP download, bytes {start}-{end}"),
        _ => "HTTP download, whole".to_owned(),
    };
    crate::recorded::record_access(&state, &caller, &case, &manifest, &record, described).await?;
    info!(case = %case, artefact = %id, ?range, "download recorded; sending");
    respond(&state, &case, &manifest, &record, range).await
}

async fn respond(
    state: &ApiState,
    case: &CaseId,
    manifest: &ArtefactManifest,
    record: &RecordedArtefact,
    range: Wanted,
) -> Result<Response, ApiError> {
    let digest = base64::engine::general_purpose::STANDARD.encode(record.sha256.as_bytes());
    let mut response = match range {
        Wanted::Part { start, end } => {
            let at = exhibit_store::view::open_content_at(&state.store, case, manifest)
                .await
                .map_err(|e| ApiError::internal("cannot open the content", &e))?;
            let mut r = Response::new(stream_range(at, start, end));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            r.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes {start}-{end}/{}", record.size)));
            r.headers_mut().insert(header::CONTENT_LENGTH, value(&(end - start + 1).to_string()));
            r
        }
        _ => {
            let reader = exhibit_store::view::open_content(&state.store, case, manifest, record.sha256)
                .await
                .map_err(|e| ApiError::internal("cannot open the content", &e))?;
            let mut r = Response::new(stream_whole(Box::new(reader), manifest.id.clone()));
            r.headers_mut().insert(header::CONTENT_LENGTH, value(&record.size.to_string()));
            r.headers_mut().insert("content-digest", value(&format!("sha-256=:{digest}:")));
            r
        }
    };
    let headers = response.headers_mut();
    headers.insert("repr-digest", value(&format!("sha-256=:{digest}:")));
    headers.insert(header::ETAG, value(&format!("\"{}\"", record.sha256.to_hex())));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_DISPOSITION, value(&format!("attachment; filename=\"{}\"", manifest.id)));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}

fn value(text: &str) -> HeaderValue {
    // Every value here is made of digits, hex, base64 and ASCII words.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Streams a verifying reader; its hash failure at the end cuts the body.
fn stream_whole(mut reader: Box<dyn Read + Send>, id: ArtefactId) -> Body {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(AHEAD);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; CHUNK];
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!(artefact = %id, error = %e, "content failed its check while streaming; cutting the response");
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    body_of(rx)
}

/// Streams bytes `start..=end` of positional content.
fn stream_range(at: Arc<dyn ReadAt>, start: u64, end: u64) -> Body {
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut offset = start;
        while offset <= end {
            let want = usize::try_from((end - offset + 1).min(CHUNK as u64)).unwrap_or(CHUNK);
            let mut buf = vec![0u8; want];
            let sent = match exhibit_core::read_at::read_exact_at(at.as_ref(), offset, &mut buf) {
                Ok(()) => tx.blocking_send(Ok(Bytes::from(buf))),
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            };
            if sent.is_err() {
                break;
            }
            offset += want as u64;
        }
    });
    body_of(rx)
}

fn body_of(rx: mpsc::Receiver<std::io::Result<Bytes>>) -> Body {
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
}
