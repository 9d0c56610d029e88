//! GOV.UK Frontend's built files and the dashboard's two small scripts,
//! embedded in the binary and served under `/assets/`.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// GOV.UK Frontend's dist files (see `assets/VERSION`).
#[derive(RustEmbed)]
#[folder = "assets/govuk"]
struct Govuk;

/// The dashboard's own scripts.
#[derive(RustEmbed)]
#[folder = "assets/exhibit"]
struct Own;

/// The GOV.UK Frontend version the assets come from.
pub const GOVUK_FRONTEND_VERSION: &str = "5.14.0";

const CSS: &str = "govuk-frontend.min.css";

/// The stylesheet with its `url(/assets/...)` references moved under the
/// base path, so fonts load when the router is nested.
pub fn stylesheet(base_path: &str) -> Vec<u8> {
    let css = Govuk::get(CSS).map(|file| file.data).unwrap_or_default();
    String::from_utf8_lossy(&css).replace("url(/assets/", &format!("url({base_path}/assets/")).into_bytes()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/manifest+json",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// A file by its path under `/assets/`, or 404. `css` is the stylesheet
/// as [`stylesheet`] made it for this router.
pub fn serve(path: &str, css: &[u8], request: &HeaderMap) -> Response {
    let (data, etag): (Cow<'_, [u8]>, String) = if path == CSS {
        (Cow::Borrowed(css), hex::encode(&sha2_of(css)[..16]))
    } else if let Some(file) = path.strip_prefix("exhibit/").and_then(Own::get).or_else(|| Govuk::get(path)) {
        let etag = hex::encode(&file.metadata.sha256_hash()[..16]);
        (file.data, etag)
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{etag}\"");
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    let fresh = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag);
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (headers, Body::from(data.into_owned())).into_response()
}

fn sha2_of(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendored_version_is_the_recorded_one() {
        let recorded = include_str!("../assets/VERSION");
        assert!(recorded.starts_with(&format!("govuk-frontend {GOVUK_FRONTEND_VERSION}\n")), "{recorded}");
        assert!(Govuk::get("govuk-frontend.min.js").is_some());
        assert!(Govuk::get("fonts/bold-b542beb274-v2.woff2").is_some());
    }

    #[test]
    fn the_stylesheet_follows_the_base_path() {
        let vendored = String::from_utf8(Govuk::get(CSS).unwrap().data.into_owned()).unwrap();
        assert!(vendored.contains("url(/assets/fonts/"));
        let nested = String::from_utf8(stylesheet("/dashboard")).unwrap();
        assert!(nested.contains("url(/dashboard/assets/fonts/"));
        assert!(!nested.contains("url(/assets/"));
    }
}
