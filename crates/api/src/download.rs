//! Downloads: an artefact's content, whole or one byte range, with its
//! SHA-256 in `Repr-Digest` (RFC 9530), and an `accessed` event naming the
//! authenticated user appended to the case's ledger before the first byte
//! leaves (and a second one if the body is cut short, [`crate::download_cut`]),
//! through the application layer's `get` use case
//! (`exhibit_app::artefact::get`), as `exhibit get` records it. A whole download is re-hashed as it streams: if the stored bytes
//! no longer match the ledger the connection is cut before the last byte,
//! so a client never receives a complete, wrong file. A range is read
//! positionally and not re-hashed (that would mean reading everything); the
//! client checks the assembled whole against `Repr-Digest`.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use exhibit_app::AppError;
use exhibit_app::artefact::ArtefactRequest;
use exhibit_app::artefact::OpenArtefact;
use exhibit_app::case_open::TrustPolicy;
use exhibit_core::event::Actor;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::read_at::ReadAt;
use tokio::sync::mpsc;
use tracing::{info, instrument, warn};

use crate::ApiState;
use crate::case_extract::{OwnerParam, ReadableCase};
use crate::case_names::NamesSlot;
use crate::download_cut::CutWatch;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, Caller};
use crate::openapi_parts::{CasePath, OwnerQuery, Unauthenticated};
use crate::range::{Wanted, wanted};

/// Bytes per chunk sent.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the client: memory per download is bounded by this.
const AHEAD: usize = 4;

/// An artefact's content.
#[utoipa::path(get, path = "/v1/cases/{case}/artefacts/{id}/content", security(("bearer" = [])),
    params(
        CasePath,
        ("id" = String, Path, description = "Artefact ID, 32 hex digits", pattern = r"^[0-9a-f]{32}$"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023"),
        OwnerQuery,
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
        (status = 409, description = "The ledger or manifest fails its check, the server's key is not admitted, or several organisations shared a case of this name with yours (add ?owner=)", body = ErrorBody),
        (status = 416, description = "The range starts past the end", body = ErrorBody),
    ))]
#[instrument(skip_all, fields(user = %caller.0.user.name, org = %caller.0.user.org.name))]
pub async fn content(
    State(state): State<Arc<ApiState>>,
    caller: Caller,
    ApiPath((typed, id)): ApiPath<(String, String)>,
    owner: OwnerParam,
    slot: NamesSlot,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A string that is no artefact ID is 400 whatever exists.
    let id: ArtefactId = id.parse().map_err(|e: exhibit_core::IdError| ApiError::invalid(e.to_string()))?;
    let ReadableCase { caller, case, name, .. } =
        ReadableCase::of(&state, caller, &owner.with(typed)).await?.remembered(&slot);
    // A download records an access: the ledger must still hold every entry
    // this server read, and its chain must check out (else 409 `corrupt`,
    // listed among the case's problems).
    state.reader.writable(&case, state.options.trusted.as_deref()).await?;
    let artefacts = state.reader.model().artefacts(&case, None).await?;
    if !artefacts.iter().any(|m| m.id == id) {
        return Err(ApiError::not_found());
    }
    let artefact = Arc::new(open_for_access(&state, &caller, &case, id.clone()).await?);
    let size = artefact.record.size;
    let range = if if_range_holds(&headers, &artefact) {
        wanted(headers.get(header::RANGE).and_then(|v| v.to_str().ok()), size)
    } else {
        Wanted::Whole
    };
    if range == Wanted::Unsatisfiable {
        let mut response =
            ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable", "the range starts past the end")
                .into_response();
        response.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
        return Ok(response);
    }
    if method == axum::http::Method::HEAD {
        // The headers only (the server drops the body): no byte of the
        // evidence leaves, so no access is recorded.
        return respond((&state, &artefact), range, false).await;
    }
    let reader = (caller.0.user.id, case.clone(), id.clone());
    let now = Instant::now();
    let described = match range {
        Wanted::Part { .. } if state.ranged_accesses.covers(&reader, now) => {
            info!(case = %case, artefact = %id, ?range, "range of an access recorded in the last 10 minutes; sending");
            return respond((&state, &artefact), range, false).await;
        }
        Wanted::Part { start, end } => format!(
            "HTTP download, bytes {start}-{end}; this user's further ranges of it within 10 minutes are part of this access"
        ),
        _ => "HTTP download, whole".to_owned(),
    };
    artefact.record_access("serve", described).await.map_err(refusal(&name))?;
    // Remember the entry just appended, so its removal is noticed.
    state.reader.refresh(&case).await?;
    if matches!(range, Wanted::Part { .. }) {
        state.ranged_accesses.remember(reader, now);
    }
    info!(case = %case, artefact = %id, ?range, "download recorded; sending");
    respond((&state, &artefact), range, true).await
}

/// How long one recorded ranged access of an artefact covers the same
/// user's further ranges of it. A video player seeking, or a download
/// manager fetching a file in parallel pieces, makes one access, not a
/// ledger entry per request (each of which would be signed, kept for
/// decades and re-checked by every later access to the case).
const RANGED_ACCESS_WINDOW: Duration = Duration::from_secs(600);

/// Ranged accesses kept before expired ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

/// Who read which artefact of which case: (user row ID, case, artefact).
type Reader = (i64, CaseId, ArtefactId);

/// The ranged accesses recorded in the last [`RANGED_ACCESS_WINDOW`].
/// Whole downloads are always recorded; so is the first range of a window.
#[derive(Debug, Default)]
pub struct RangedAccesses(Mutex<HashMap<Reader, Instant>>);

impl RangedAccesses {
    /// Whether a range `reader` asks for `now` is part of an access
    /// recorded within the window.
    fn covers(&self, reader: &Reader, now: Instant) -> bool {
        let recent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        recent.get(reader).is_some_and(|at| now.duration_since(*at) < RANGED_ACCESS_WINDOW)
    }

    /// Notes an access recorded for a range `reader` asked for `now`.
    fn remember(&self, reader: Reader, now: Instant) {
        let mut recent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() > PRUNE_ABOVE {
            recent.retain(|_, at| now.duration_since(*at) < RANGED_ACCESS_WINDOW);
        }
        recent.insert(reader, now);
    }
}

/// The `get` use case `exhibit get` runs, acting as the caller with the
/// server's key: the chain checked (with the trusted keys, every signer),
/// the key admitted, and the stored manifest one the ledger recorded.
async fn open_for_access(
    state: &ApiState,
    caller: &Caller,
    case: &CaseId,
    artefact: ArtefactId,
) -> Result<OpenArtefact, ApiError> {
    let trust =
        TrustPolicy { trusted: state.options.trusted.as_deref().cloned(), introduce_key: state.options.introduce_key };
    let actor = Actor {
        operator: caller.operator(),
        host: state.options.host.clone(),
        process: std::process::id(),
        public_key: state.signer.public_key_openssh(),
    };
    let request = ArtefactRequest { case: case.clone(), artefact, actor, signer: state.signer.clone() };
    exhibit_app::artefact::get::open_for_access(state.store.clone(), &trust, request).await.map_err(refusal(case))
}

/// An application error as the download answers it: a key that may not
/// sign the case is `signer_not_admitted`, a missing manifest `corrupt`;
/// the rest by kind (a ledger or manifest that fails its check is 409
/// `corrupt`).
fn refusal(case: &CaseId) -> impl Fn(AppError) -> ApiError + '_ {
    move |e| match e {
        AppError::KeyNotAdmitted(why) => {
            // The remedy is the server operator's; the client learns only
            // that the access cannot be recorded yet.
            warn!(case = %case, %why, "a download refused: the server's key may not sign this case");
            ApiError::new(
                StatusCode::CONFLICT,
                "signer_not_admitted",
                format!(
                    "the server cannot record this access in the chain of custody of case {case} yet, so it sends nothing; its operator has the details in the server's log"
                ),
            )
        }
        // The read model lists the artefact, so a manifest gone from the
        // store is damage, not an unknown artefact.
        AppError::StoreAt { source, .. } if source.kind() == exhibit_store::StoreErrorKind::NotFound => ApiError::new(
            StatusCode::CONFLICT,
            "corrupt",
            format!("a manifest of case {case} cannot be read: {source}"),
        ),
        other => other.into(),
    }
}

/// The response for `range` of `artefact`; a `recorded` download's body
/// records a cut when it ends short ([`CutWatch`]).
async fn respond(
    (state, artefact): (&ApiState, &Arc<OpenArtefact>),
    range: Wanted,
    recorded: bool,
) -> Result<Response, ApiError> {
    let (manifest, record) = (&artefact.manifest, &artefact.record);
    let watched = || (artefact.clone(), state.after_response.clone());
    let digest = base64::engine::general_purpose::STANDARD.encode(record.sha256.as_bytes());
    let mut response = match range {
        Wanted::Part { start, end } => {
            let at = artefact.content_at().await?;
            let watch = recorded.then(|| CutWatch::new(watched(), end - start + 1, format!("bytes {start}-{end}")));
            let mut r = Response::new(stream_range(at, start, end, watch));
            *r.status_mut() = StatusCode::PARTIAL_CONTENT;
            r.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes {start}-{end}/{}", record.size)));
            r.headers_mut().insert(header::CONTENT_LENGTH, value(&(end - start + 1).to_string()));
            r
        }
        _ => {
            let reader = artefact.content().await?;
            let watch = recorded.then(|| CutWatch::new(watched(), record.size, "the whole artefact".into()));
            let mut r = Response::new(stream_whole(reader, manifest.id.clone(), watch));
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
    headers.insert(header::CONTENT_DISPOSITION, value(&content_disposition(manifest)));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    Ok(response)
}

/// Whether a `Range` may be served: there is no `If-Range`, or it names
/// this content's ETag (RFC 9110, 13.1.5). A date never matches (there is
/// no `Last-Modified`), and a client whose copy differs gets it whole.
fn if_range_holds(headers: &HeaderMap, artefact: &OpenArtefact) -> bool {
    let etag = format!("\"{}\"", artefact.record.sha256.to_hex());
    headers.get(header::IF_RANGE).is_none_or(|v| v.to_str().is_ok_and(|v| v.trim() == etag))
}

/// `attachment` with the evidence's own file name (RFC 6266): an ASCII
/// `filename` with anything else made `_`, and the exact name as UTF-8 in
/// `filename*`, percent-encoded, so a hostile name (quotes, CR LF, `../`)
/// can neither break the header nor name a path. An artefact without a
/// name of its own (a derivative) is saved under its ID.
fn content_disposition(manifest: &exhibit_core::manifest::ArtefactManifest) -> String {
    let name = manifest
        .source
        .as_ref()
        .map(|s| s.name.display.rsplit('/').next().unwrap_or_default().to_owned())
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .unwrap_or_else(|| manifest.id.to_string());
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(&name, RFC5987_ATTR);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

/// What RFC 5987's `attr-char` leaves as is; everything else is encoded.
const RFC5987_ATTR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

fn value(text: &str) -> HeaderValue {
    // Every value here is made of digits, hex, base64 and ASCII words.
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// Streams a verifying reader; its hash failure at the end cuts the body.
fn stream_whole(mut reader: Box<dyn Read + Send>, id: ArtefactId, watch: Option<CutWatch>) -> Body {
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
    body_of(rx, watch)
}

/// Streams bytes `start..=end` of positional content.
fn stream_range(at: Arc<dyn ReadAt>, start: u64, end: u64, watch: Option<CutWatch>) -> Body {
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
    body_of(rx, watch)
}

/// The body of the chunks `rx` yields, counted by `watch`.
fn body_of(rx: mpsc::Receiver<std::io::Result<Bytes>>, watch: Option<CutWatch>) -> Body {
    Body::from_stream(futures_util::stream::unfold((rx, watch), |(mut rx, mut watch)| async move {
        let item = rx.recv().await?;
        match (&item, watch.as_mut()) {
            (Ok(bytes), Some(watch)) => watch.passed(bytes.len()),
            (Err(_), Some(watch)) => watch.failed(),
            (_, None) => {}
        }
        Some((item, (rx, watch)))
    }))
}
