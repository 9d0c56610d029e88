//! Turns SDK failures into [`StoreError`]s with the right kind, by HTTP
//! status, so that callers never parse messages.

use std::io;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::StoreError;

/// The HTTP status of a failed call, when the server answered.
pub(crate) fn status<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// A failed call while doing `action` to `target`: 404 is not found,
/// anything else is I/O (the network, the server, or its refusal).
pub(crate) fn sdk<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static>(
    action: &'static str,
    target: &str,
    err: SdkError<E>,
) -> StoreError {
    if status(&err) == Some(404) {
        return StoreError::NotFound { key: target.to_owned() };
    }
    // The server's code and message when it answered; the whole chain
    // (connection refused, timeout) when it did not.
    let detail = match (status(&err), err.code(), err.message()) {
        (Some(status), Some(code), message) => format!("HTTP {status} {code}: {}", message.unwrap_or("")),
        _ => DisplayErrorContext(&err).to_string(),
    };
    StoreError::io_at(action, target.to_owned(), io::Error::other(detail))
}

/// A create-only write lost: the key exists (412), or another writer's
/// conditional write to it is in flight (409).
pub(crate) fn is_taken<E>(err: &SdkError<E>) -> bool {
    matches!(status(err), Some(412 | 409))
}
