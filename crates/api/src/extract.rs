//! Extractors whose rejections are [`ApiError`]s: the caller from the
//! bearer token, JSON bodies and path parameters.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use exhibit_app::access::{AccessState, TokenRecord, TokenRefusal, authenticate};
use serde::de::DeserializeOwned;

use crate::ApiState;
use crate::error::ApiError;

/// The authenticated user of a request, from `Authorization: Bearer TOKEN`.
#[derive(Debug, Clone)]
pub struct Caller(pub TokenRecord);

impl Caller {
    /// How the caller is named in custody events: `user (organisation)`.
    pub fn operator(&self) -> String {
        format!("{} ({})", self.0.user.name, self.0.user.org.name)
    }
}

impl FromRequestParts<Arc<ApiState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<ApiState>) -> Result<Self, ApiError> {
        // The token limits' middleware authenticated it already.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        Ok(Self(caller_of(state.access.as_ref(), &parts.headers).await?))
    }
}

/// The user of `Authorization: Bearer TOKEN`, or the API's error for a
/// missing, unknown, expired or revoked token: the one place that says how
/// a token is refused, for the API's routes and tus's alike.
pub(crate) async fn caller_of(access: &dyn AccessState, headers: &HeaderMap) -> Result<TokenRecord, ApiError> {
    let unauthenticated = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message);
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthenticated("send Authorization: Bearer TOKEN"));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(bearer_token)
        .ok_or_else(|| unauthenticated("the Authorization header must be Bearer TOKEN"))?;
    let now = time::OffsetDateTime::now_utc();
    authenticate(access, token.trim(), now).await?.map_err(token_refusal)
}

/// The API's error for a token the access state refused.
pub(crate) fn token_refusal(refusal: TokenRefusal) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, refusal.code(), refusal.message())
}

/// The token of `Authorization: Bearer TOKEN`, if the header has that form.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(bearer_token(value)?.trim().to_owned())
}

/// The credentials of a `Bearer` Authorization value; the scheme's name is
/// case-insensitive (RFC 9110, 11.1), so `bearer` and `BEARER` are it too.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

/// A JSON body; a malformed, oversize or mistyped one is a clear error.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let limit = req.extensions().get::<BodyTimeout>().copied().unwrap_or_default();
        match tokio::time::timeout(limit.0, Json::<T>::from_request(req, state)).await {
            Ok(Ok(Json(value))) => Ok(Self(value)),
            Ok(Err(rejection)) => Err(json_error(rejection)),
            Err(_) => Err(limit.exceeded()),
        }
    }
}

/// A body read whole (a submission's manifest), timed as a JSON body is:
/// 408 when it does not arrive whole within the [`BodyTimeout`].
#[derive(Debug)]
pub struct TimedBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for TimedBytes {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let limit = req.extensions().get::<BodyTimeout>().copied().unwrap_or_default();
        match tokio::time::timeout(limit.0, axum::body::Bytes::from_request(req, state)).await {
            Ok(Ok(bytes)) => Ok(Self(bytes)),
            Ok(Err(rejection)) => Err(rejection.into_response()),
            Err(_) => Err(limit.exceeded().into_response()),
        }
    }
}

/// How long a JSON body (or a submission's manifest) may take to arrive
/// whole, from when its handler starts reading it: a client that sends less than its `Content-Length`
/// and stalls would otherwise hold the request (and a connection) for
/// ever. The router puts [`ApiOptions::body_timeout`](crate::ApiOptions)
/// in each request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(crate::DEFAULT_BODY_TIMEOUT)
    }
}

impl BodyTimeout {
    /// The 408 of a body that did not arrive in time.
    fn exceeded(self) -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request body did not arrive whole within {} s; send it again", self.0.as_secs_f64()),
        )
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let kind = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "malformed_json",
    };
    let status = if kind == "malformed_json" { StatusCode::BAD_REQUEST } else { status };
    let message = match kind {
        "too_large" => "the request body is over this endpoint's limit; send a smaller body".to_owned(),
        "unsupported_media_type" => "send the body as JSON, with Content-Type: application/json".to_owned(),
        // serde's words name Rust types ("expected struct NewCase"): say
        // what the API expects instead.
        _ => format!("the body is not the JSON this endpoint takes: {}", plain_serde(&rejection.body_text())),
    };
    ApiError::new(status, kind, message)
}

/// serde's error text without axum's prefix and without the Rust type
/// names it carries (`struct NewCase` becomes `an object`).
fn plain_serde(text: &str) -> String {
    let text = match text.split_once(": ") {
        Some((axum, serde)) if axum.starts_with("Failed to") => serde,
        _ => text,
    };
    let mut out = Vec::new();
    let mut words = text.split(' ').peekable();
    while let Some(word) = words.next() {
        if word == "struct" && words.peek().is_some_and(|name| name.starts_with(|c: char| c.is_ascii_uppercase())) {
            let name = words.next().unwrap_or_default();
            out.push(format!("an object{}", name.trim_start_matches(|c: char| c.is_ascii_alphanumeric())));
        } else {
            out.push(word.to_owned());
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn serde_words_lose_rust_type_names() {
        let axum = "Failed to deserialize the JSON body into the target type: invalid type: integer `12`, expected struct NewCase at line 1 column 2";
        assert_eq!(super::plain_serde(axum), "invalid type: integer `12`, expected an object at line 1 column 2");
        assert_eq!(super::plain_serde("missing field `case`"), "missing field `case`");
    }
}

/// Path parameters, percent-decoded; a segment that does not decode is a
/// clear error.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::invalid(rejection.body_text())),
        }
    }
}
