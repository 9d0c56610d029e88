//! Keeps a case's storage ID out of the error texts of its routes. Answers
//! name cases by the names their owners gave them, and the handlers build
//! them so; but an error of the application layer (a ledger that fails its
//! check, a manifest that does not read) is worded with the storage ID the
//! layer knows. The case extractors tell this middleware the request's
//! case, and it puts the name in place of the storage ID in a JSON error
//! body. Storage IDs are case IDs (letters, digits, `/ . _ -` and spaces),
//! which JSON does not escape, so the text is found as is.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use exhibit_core::ids::CaseId;

use crate::error::ApiError;

/// The most of an error body rewritten (errors are a sentence or two).
const BODY_LIMIT: usize = 64 * 1024;

/// A case's storage ID and the name clients know it by.
#[derive(Debug, Clone)]
pub struct CaseNames {
    /// The storage ID.
    pub id: CaseId,
    /// The name.
    pub name: CaseId,
}

/// Where a request's case extractor leaves the case's names.
#[derive(Debug, Clone, Default)]
pub struct NamesSlot(Arc<Mutex<Option<CaseNames>>>);

impl NamesSlot {
    /// Remembers `names` for this request's answer.
    pub fn remember(&self, names: CaseNames) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(names);
        }
    }

    fn take(&self) -> Option<CaseNames> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for NamesSlot {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(slot_of(&parts.extensions))
    }
}

/// The request's slot (a detached one when the middleware is not in front).
pub fn slot_of(extensions: &Extensions) -> NamesSlot {
    extensions.get::<NamesSlot>().cloned().unwrap_or_default()
}

/// The middleware: `axum::middleware::from_fn(storage_ids_hidden)`.
pub async fn storage_ids_hidden(mut request: Request, next: Next) -> Response {
    let slot = NamesSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let status = response.status();
    let Some(names) = slot.take() else { return response };
    if names.id.as_str() == names.name.as_str() || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::internal("an error answer was too long to send", &status).into_response();
    };
    let text = hidden(&String::from_utf8_lossy(&bytes), &names);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

/// `text` with every form of the storage ID (as typed, as a key
/// component) put as the name.
pub(crate) fn hidden(text: &str, names: &CaseNames) -> String {
    let mut text = text.to_owned();
    for (id, name) in [
        (names.id.key_component(), names.name.key_component()),
        (names.id.as_str().to_owned(), names.name.as_str().to_owned()),
    ] {
        text = replace_ignoring_case(&text, &id, &name);
    }
    text
}

/// `text` with `from` (ASCII, any letter case) replaced by `to`.
fn replace_ignoring_case(text: &str, from: &str, to: &str) -> String {
    let (lower, from_lower) = (text.to_ascii_lowercase(), from.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices(&from_lower) {
        if at < rest {
            continue;
        }
        out.push_str(&text[rest..at]);
        out.push_str(to);
        rest = at + from.len();
    }
    out.push_str(&text[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_storage_id_becomes_the_name() {
        let names = CaseNames { id: "2024/1/POL-00ff".parse().unwrap(), name: "2024/1/POL".parse().unwrap() };
        let text = r#"{"error":"case 2024/1/pol-00FF: ledger 2024%2F1%2FPOL-00ff/1 fails"}"#;
        assert_eq!(hidden(text, &names), r#"{"error":"case 2024/1/POL: ledger 2024%2F1%2FPOL/1 fails"}"#);
        assert_eq!(hidden("nothing here", &names), "nothing here");
    }
}
