//! Turns SDK failures into [`StoreError`]s with the right kind, by HTTP
//! status, so that callers never parse messages.

use std::io;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use exhibit_core::layout::ObjectKey;

use crate::StoreError;

/// The HTTP status of a failed call, when the server answered.
pub(crate) fn status<E>(err: &SdkError<E>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// A failed call while doing `action` to `target`: a missing bucket,
/// refused credentials, a missing object (404), a server that could not be
/// reached, or any other I/O failure (the server's 5xx or refusal).
pub(crate) fn sdk<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static>(
    action: &'static str,
    target: &str,
    err: SdkError<E>,
) -> StoreError {
    if err.code() == Some("NoSuchBucket") {
        return StoreError::NoBucket { target: target.to_owned() };
    }
    match status(&err) {
        Some(404) => return StoreError::NotFound { key: target.to_owned() },
        Some(401 | 403) => {
            let detail = format!(
                "HTTP {} {}: {}",
                status(&err).unwrap_or(403),
                err.code().unwrap_or(""),
                err.message().unwrap_or("")
            );
            return StoreError::Denied { action, target: target.to_owned(), detail };
        }
        Some(_) => {}
        None if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => {
            return StoreError::Unreachable {
                action,
                target: target.to_owned(),
                detail: DisplayErrorContext(&err).to_string(),
            };
        }
        None => {}
    }
    // The server's code and message when it answered; the whole chain
    // (connection refused, timeout) when it did not.
    let detail = match (status(&err), err.code(), err.message()) {
        (Some(status), Some(code), message) => format!("HTTP {status} {code}: {}", message.unwrap_or("")),
        _ => DisplayErrorContext(&err).to_string(),
    };
    StoreError::io_at(action, target.to_owned(), io::Error::other(detail))
}

/// As [`sdk`], naming a missing object by its key within the store (not
/// its full key under the prefix).
pub(crate) fn sdk_at<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static>(
    action: &'static str,
    key: &ObjectKey,
    full: &str,
    err: SdkError<E>,
) -> StoreError {
    match sdk(action, full, err) {
        StoreError::NotFound { .. } => StoreError::not_found(key),
        other => other,
    }
}

/// A create-only write lost: the key exists (412), or another writer's
/// conditional write to it is in flight (409).
pub(crate) fn is_taken<E>(err: &SdkError<E>) -> bool {
    matches!(status(err), Some(412 | 409))
}
