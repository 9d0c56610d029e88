//! URL-encoded form bodies, read whole up to a limit, each field at most
//! once, and the CSRF check every form goes through.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, header};

use crate::error::DashboardError;
use crate::session::Session;

/// The default of [`crate::DashboardConfig::form_timeout`]: how long a
/// form's body may take to arrive whole once its handler reads it. A client
/// that sends less than its `Content-Length` and stalls would otherwise
/// hold the request for ever (the API's JSON bodies have the same limit).
pub const FORM_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The hidden field every form carries.
pub const CSRF_FIELD: &str = "csrf_token";

/// A form's fields by name.
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, String>,
}

impl Form {
    /// Reads a body of `application/x-www-form-urlencoded`, at most
    /// `limit` bytes, arriving whole within `time`. A repeated field is
    /// refused: which copy counts would otherwise be a guess.
    pub async fn read(
        headers: &HeaderMap,
        body: Body,
        limit: usize,
        time: std::time::Duration,
    ) -> Result<Self, DashboardError> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(DashboardError::BadForm("send it as application/x-www-form-urlencoded".into()));
        }
        Self::read_within(body, limit, time).await
    }

    /// Reads and parses a body of at most `limit` bytes that must arrive
    /// whole within `time`.
    pub async fn read_within(body: Body, limit: usize, time: std::time::Duration) -> Result<Self, DashboardError> {
        let bytes = tokio::time::timeout(time, axum::body::to_bytes(body, limit))
            .await
            .map_err(|_| DashboardError::FormTimedOut(time))?
            .map_err(|_| DashboardError::BadForm(format!("it is over {limit} bytes or ended early")))?;
        Self::parse(&bytes)
    }

    /// Parses URL-encoded bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, DashboardError> {
        let mut fields = HashMap::new();
        for (name, value) in form_urlencoded::parse(bytes) {
            if fields.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(DashboardError::BadForm(format!("the field {:?} is sent more than once", name)));
            }
        }
        Ok(Self { fields })
    }

    /// A field's value, trimmed of surrounding white space; `""` if absent.
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or_default()
    }

    /// A field's value exactly as sent (for passwords); `""` if absent.
    pub fn raw(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or_default()
    }

    /// Refuses the form unless it carries `session`'s CSRF token.
    pub fn check_csrf(&self, session: &Session) -> Result<(), DashboardError> {
        match self.fields.get(CSRF_FIELD) {
            Some(sent) if session.csrf_matches(sent) => Ok(()),
            _ => Err(DashboardError::Csrf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_and_repeats_are_refused() {
        let form = Form::parse(b"username=+Jane%20Smith+&password=%20p%26w%20&x=").unwrap();
        assert_eq!(form.text("username"), "Jane Smith");
        assert_eq!(form.raw("password"), " p&w ");
        assert_eq!(form.text("missing"), "");
        let err = Form::parse(b"csrf_token=a&csrf_token=b").unwrap_err();
        assert!(err.to_string().contains("csrf_token"), "{err}");
    }
}

#[cfg(test)]
mod timing_tests {
    use std::time::Duration;

    use axum::body::{Body, Bytes};
    use futures_util::stream;

    use super::Form;
    use crate::error::DashboardError;

    /// A body that sends part of a form and then nothing.
    fn stalled() -> Body {
        let first = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"user=al"))]);
        Body::from_stream(futures_util::StreamExt::chain(first, stream::pending()))
    }

    #[tokio::test]
    async fn a_form_that_stalls_mid_way_is_refused_as_timed_out() {
        let read = Form::read_within(stalled(), 1024, Duration::from_millis(200)).await;
        assert!(matches!(read, Err(DashboardError::FormTimedOut(_))), "{read:?}");
        assert_eq!(read.unwrap_err().status(), axum::http::StatusCode::REQUEST_TIMEOUT);
    }

    #[tokio::test]
    async fn a_whole_form_is_read() {
        let form = Form::read_within(Body::from("user=alice"), 1024, Duration::from_secs(5)).await.unwrap();
        assert_eq!(form.text("user"), "alice");
    }
}
