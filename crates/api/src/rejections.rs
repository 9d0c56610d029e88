//! One shape for every refusal: axum's own rejections (a body over a
//! limit, a wrong content type, a path segment that does not decode, a
//! method a route does not take) answer plain text or nothing, where the
//! API promises `{"error": ..., "kind": ...}`. This middleware rewrites any
//! error response that is not JSON into the API's error, with a kind chosen
//! by its status, so no extractor or layer added later can leak another
//! shape.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The most of a rejection's text kept as the error's message.
const MESSAGE_LIMIT: usize = 4096;

/// The middleware: `axum::middleware::from_fn(api_errors_only)`.
pub async fn api_errors_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MESSAGE_LIMIT).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let (kind, fallback) = kind_of(status);
    let message = if text.is_empty() { fallback.to_owned() } else { text };
    let mut rewritten = ApiError::new(status, kind, message).into_response();
    // Every header but the body's own (Retry-After, Allow, Tus-Resumable,
    // Content-Range on a 416...) still describes the answer.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

fn is_json(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// The stable kind for a status, and words for a rejection that said nothing.
pub(crate) fn kind_of(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is over this endpoint's limit"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "this endpoint does not take that Content-Type")
        }
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed here"),
        StatusCode::NOT_FOUND => ("not_found", "no such endpoint"),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "send Authorization: Bearer TOKEN"),
        StatusCode::FORBIDDEN => ("forbidden", "not allowed"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long; send it again"),
        StatusCode::LENGTH_REQUIRED => ("length_required", "send Content-Length"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests; wait and try again"),
        s if s.is_server_error() => ("internal", "the server failed; the server log has the cause"),
        _ => ("invalid", "the request is not valid here"),
    }
}
