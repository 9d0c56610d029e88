//! The tus 1.0 operations at `/v1/uploads`, for the OpenAPI document. The
//! routes themselves are `exhibit_tus::router`; these bodiless functions
//! only carry their annotations. Every error is the JSON [`ErrorBody`]
//! (bad `Upload-Metadata` adds `key`: `case`, `exhibit` or `filename`).

#![allow(dead_code, clippy::unused_async)]

use crate::error::ErrorBody;

/// Creates an upload (tus creation). `Upload-Metadata` must carry `case`,
/// `exhibit` and `filename` (base64); the case must be your organisation's
/// and your role a submitter's or admin's, else 404.
#[utoipa::path(post, path = "/v1/uploads", security(("bearer" = [])),
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = String, Header, description = "The file's length in bytes"),
        ("Upload-Metadata" = String, Header, description = "case BASE64,exhibit BASE64,filename BASE64"),
    ),
    responses(
        (status = 201, description = "Created; Location names the upload"),
        (status = 400, description = "Bad Upload-Length or Upload-Metadata", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such case, or not yours to upload to", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 413, description = "Upload-Length over Tus-Max-Size", body = ErrorBody),
        (status = 429, description = "Too many unfinished uploads", body = ErrorBody),
        (status = 503, description = "This server takes no uploads", body = ErrorBody),
    ))]
async fn create() {}

/// What the server offers: version, extensions, largest upload.
#[utoipa::path(options, path = "/v1/uploads", security(()),
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"),
        (status = 503, description = "This server takes no uploads", body = ErrorBody)))]
async fn describe() {}

/// The upload's offset (where to resume).
#[utoipa::path(head, path = "/v1/uploads/{id}", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The upload's ID (32 hex digits)"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
    ),
    responses(
        (status = 200, description = "Upload-Offset and Upload-Length"),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such upload, or not your organisation's"),
        (status = 410, description = "Expired"),
        (status = 412, description = "Not tus 1.0.0"),
        (status = 423, description = "Busy with another request"),
        (status = 503, description = "This server takes no uploads"),
    ))]
async fn head() {}

/// Appends bytes at `Upload-Offset`; the last chunk ingests the file.
#[utoipa::path(patch, path = "/v1/uploads/{id}", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The upload's ID (32 hex digits)"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = String, Header, description = "Where these bytes go"),
        ("Upload-Checksum" = Option<String>, Header, description = "sha256 BASE64 of this chunk"),
    ),
    request_body(content = inline(crate::dto::Binary), content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Kept; Upload-Offset is the new offset"),
        (status = 400, description = "Bad headers", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such upload, or not your organisation's", body = ErrorBody),
        (status = 409, description = "Upload-Offset is not the upload's offset", body = ErrorBody),
        (status = 410, description = "Expired", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 413, description = "Past the upload's length or the chunk limit", body = ErrorBody),
        (status = 415, description = "Not application/offset+octet-stream", body = ErrorBody),
        (status = 423, description = "Busy with another request", body = ErrorBody),
        (status = 460, description = "Upload-Checksum mismatch: the chunk was discarded and recorded", body = ErrorBody),
        (status = 500, description = "The ingest failed: the upload stays staged and is retried", body = ErrorBody),
        (status = 503, description = "This server takes no uploads", body = ErrorBody),
    ))]
async fn patch() {}

/// Terminates an upload, removing its bytes.
#[utoipa::path(delete, path = "/v1/uploads/{id}", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The upload's ID (32 hex digits)"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such upload, or not your organisation's", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 423, description = "Busy with another request", body = ErrorBody),
        (status = 503, description = "This server takes no uploads", body = ErrorBody),
    ))]
async fn terminate() {}

/// What the server offers, asked of one upload.
#[utoipa::path(options, path = "/v1/uploads/{id}", security(()),
    params(("id" = String, Path, description = "The upload's ID")),
    responses((status = 204, description = "Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm"),
        (status = 503, description = "This server takes no uploads", body = ErrorBody)))]
async fn describe_one() {}
