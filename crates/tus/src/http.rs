//! The axum routes: POST and OPTIONS on the collection, HEAD, PATCH,
//! DELETE and OPTIONS on an upload. Headers are parsed here; the rules live
//! in [`TusService`].

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{options, post};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::TusError;
use crate::headers::{self, CHECKSUM_ALGORITHM, TUS_EXTENSIONS, TUS_VERSION};
use crate::metadata;
use crate::service::{PatchRequest, TusService};
use crate::staging::UploadRecord;

/// The upload routes, to be nested at the config's `public_path`. Generic
/// over the outer router's state, so it nests into the server's
/// `Router<AppState>` as it is.
pub fn router<S: Clone + Send + Sync + 'static>(service: Arc<TusService>) -> Router<S> {
    Router::new()
        .route("/", post(create).options(describe))
        .route("/{id}", options(describe).head(head).patch(patch).delete(terminate))
        .with_state(service)
}

type Reply = Result<Response, TusError>;

fn reply(status: StatusCode, headers: &[(&'static str, String)]) -> Response {
    let mut response = status.into_response();
    let map = response.headers_mut();
    map.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// OPTIONS: what this server offers (no authentication, as tus clients
/// ask before they send credentials).
async fn describe(State(service): State<Arc<TusService>>) -> Response {
    reply(
        StatusCode::NO_CONTENT,
        &[
            ("tus-version", TUS_VERSION.to_owned()),
            ("tus-extension", TUS_EXTENSIONS.to_owned()),
            ("tus-max-size", service.config().max_upload_length.to_string()),
            ("tus-checksum-algorithm", CHECKSUM_ALGORITHM.to_owned()),
        ],
    )
}

async fn create(State(service): State<Arc<TusService>>, extensions: Extensions, request: HeaderMap) -> Reply {
    headers::check_version(&request)?;
    headers::refuse_unoffered(&request)?;
    let principal = service.authenticate(&request, &extensions).await?;
    let length = headers::required_decimal(&request, "upload-length")?;
    let metadata = headers::single(&request, "upload-metadata")?
        .ok_or_else(|| TusError::bad_metadata("missing; send case, exhibit and filename"))
        .and_then(metadata::parse)?;
    let record = service.create(&principal, length, metadata).await?;
    let location = format!("{}/{}", service.config().public_path, record.id);
    Ok(reply(
        StatusCode::CREATED,
        &[("location", location), ("upload-offset", record.offset.to_string()), expires(&record)],
    ))
}

async fn head(
    State(service): State<Arc<TusService>>,
    Path(id): Path<String>,
    extensions: Extensions,
    request: HeaderMap,
) -> Reply {
    headers::check_version(&request)?;
    let principal = service.authenticate(&request, &extensions).await?;
    let record = service.head(&principal, &id).await?;
    Ok(reply(
        StatusCode::OK,
        &[
            ("upload-offset", record.offset.to_string()),
            ("upload-length", record.length.to_string()),
            ("upload-metadata", metadata::to_header(&record.metadata)),
            ("cache-control", "no-store".to_owned()),
            expires(&record),
        ],
    ))
}

async fn patch(
    State(service): State<Arc<TusService>>,
    Path(id): Path<String>,
    extensions: Extensions,
    request: HeaderMap,
    body: Body,
) -> Reply {
    headers::check_version(&request)?;
    headers::check_patch_content_type(&request)?;
    let principal = service.authenticate(&request, &extensions).await?;
    let patch = PatchRequest {
        offset: headers::required_decimal(&request, "upload-offset")?,
        content_length: headers::decimal(&request, "content-length")?,
        checksum: headers::upload_checksum(&request)?,
    };
    // Run to the end in a task of its own: a client that disconnects must
    // not cancel the work halfway between writing bytes and recording them.
    let worker = Arc::clone(&service);
    let record = tokio::spawn(async move { worker.patch(&principal, &id, patch, body).await })
        .await
        .map_err(|e| TusError::io("a PATCH task", std::io::Error::other(e)))??;
    Ok(reply(StatusCode::NO_CONTENT, &[("upload-offset", record.offset.to_string()), expires(&record)]))
}

async fn terminate(
    State(service): State<Arc<TusService>>,
    Path(id): Path<String>,
    extensions: Extensions,
    request: HeaderMap,
) -> Reply {
    headers::check_version(&request)?;
    let principal = service.authenticate(&request, &extensions).await?;
    service.terminate(&principal, &id).await?;
    Ok(reply(StatusCode::NO_CONTENT, &[]))
}

fn expires(record: &UploadRecord) -> (&'static str, String) {
    ("upload-expires", http_date(record.expires_at))
}

/// An RFC 9110 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(at: OffsetDateTime) -> String {
    let format =
        format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_default()
}

impl IntoResponse for TusError {
    /// `{"error": ..., "kind": ...}` as the API's other errors, with `key`
    /// naming the `Upload-Metadata` key at fault when there is one.
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if matches!(self, TusError::Stopping) {
            tracing::info!("upload body ended: the server is stopping");
            self.to_string()
        } else if status.is_server_error() {
            tracing::error!(error = %self, "upload request failed");
            "internal error; the server's log has the details".to_owned()
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "upload request refused");
            self.to_string()
        };
        let mut body = serde_json::json!({"error": message, "kind": self.kind_word()});
        if let TusError::BadMetadata { key: Some(key), .. } = &self {
            body["key"] = serde_json::Value::from(*key);
        }
        let mut extra = vec![("content-type", "application/json".to_owned())];
        if let TusError::UnsupportedVersion { .. } = self {
            extra.push(("tus-version", TUS_VERSION.to_owned()));
        }
        if status == StatusCode::UNAUTHORIZED {
            extra.push(("www-authenticate", "Bearer".to_owned()));
        }
        if matches!(self, TusError::Stopping | TusError::Locked { .. }) {
            extra.push(("retry-after", "5".to_owned()));
        }
        let mut response = reply(status, &extra);
        *response.body_mut() = Body::from(body.to_string());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_imf_fixdate() {
        let at = time::macros::datetime!(1994-11-06 08:49:37 UTC);
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
