//! A tus 1.0 client (core, creation, checksum) over `ureq`: creates an
//! upload, sends the file in chunks, each with its SHA-256
//! (`Upload-Checksum`), and resumes from the offset the server holds
//! (`HEAD`) after a cut request, or in a later run. Memory stays at one
//! chunk.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use thiserror::Error;
use tracing::{info_span, warn};

/// Bytes per PATCH by default.
pub const CHUNK: u64 = 8 << 20;
/// Tries of one chunk whose request failed on the way (a cut connection,
/// a server restarting, a busy upload, a chunk damaged in transit) before
/// the run stops.
const CHUNK_TRIES: u32 = 6;

/// What went wrong, by kind, so the command can say what to do.
#[derive(Debug, Error)]
pub enum SubmitError {
    /// The server refused the request (a bad token, an unknown case, a bad
    /// name, a failed ingest).
    #[error("the server refused {what}: HTTP {status}: {body}")]
    Refused {
        /// What was asked.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The server's error, escaped for the terminal.
        body: String,
    },
    /// The server could not be reached, or cut the connection, too often.
    #[error("cannot reach {url}: {detail}; check --server and the network")]
    Unreachable {
        /// Where.
        url: String,
        /// What the client saw.
        detail: String,
    },
    /// The server answered something tus does not allow.
    #[error("the server's answer to {what} breaks the tus protocol: {detail}")]
    Protocol {
        /// What was asked.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// A local file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl SubmitError {
    /// Whether running the same command again later may succeed, so the
    /// run stops rather than going on to the next row.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            // Busy, or the server's own trouble: not the row's fault.
            Self::Refused { status, .. } => matches!(status, 423 | 429 | 502 | 503 | 504),
            Self::Protocol { .. } | Self::Read { .. } => false,
        }
    }

    fn retry_chunk(&self) -> bool {
        // 460: the chunk did not arrive as sent; 423: a cut request still
        // holds the upload.
        self.is_transient() || matches!(self, Self::Refused { status: 460, .. })
    }
}

/// One server, with its token.
pub struct TusClient {
    agent: ureq::Agent,
    endpoint: String,
    token: String,
    chunk: u64,
}

/// Progress of one upload: bytes the server holds.
pub trait UploadProgress {
    /// The server holds `offset` bytes.
    fn at(&self, offset: u64);
}

impl TusClient {
    /// A client for the tus endpoint `endpoint` (e.g.
    /// `https://host/v1/uploads`), sending `chunk` bytes per PATCH.
    pub fn new(agent: ureq::Agent, endpoint: String, token: String, chunk: u64) -> Self {
        Self { agent, endpoint, token, chunk: chunk.max(1) }
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Creates an upload of `length` bytes with `metadata`; its URL.
    pub fn create(&self, length: u64, metadata: &[(&str, &str)]) -> Result<String, SubmitError> {
        let encoded: Vec<String> = metadata.iter().map(|(k, v)| format!("{k} {}", STANDARD.encode(v))).collect();
        let response = self
            .agent
            .post(&self.endpoint)
            .header("Tus-Resumable", "1.0.0")
            .header("Authorization", &self.bearer())
            .header("Upload-Length", &length.to_string())
            .header("Upload-Metadata", &encoded.join(","))
            .send_empty()
            .map_err(|e| unreachable_at(&self.endpoint, &e))?;
        if response.status().as_u16() != 201 {
            return Err(refused("the upload's creation", response));
        }
        let location = header(&response, "location")
            .ok_or_else(|| SubmitError::Protocol { what: "POST".into(), detail: "201 without a Location".into() })?;
        Ok(absolute(&self.endpoint, &location))
    }

    /// The offset the server holds for `url`; `None` when it no longer
    /// knows the upload (expired or removed).
    pub fn offset(&self, url: &str) -> Result<Option<u64>, SubmitError> {
        let response = self
            .agent
            .head(url)
            .header("Tus-Resumable", "1.0.0")
            .header("Authorization", &self.bearer())
            .call()
            .map_err(|e| unreachable_at(url, &e))?;
        match response.status().as_u16() {
            200 | 204 => header(&response, "upload-offset")
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| SubmitError::Protocol { what: "HEAD".into(), detail: "no Upload-Offset".into() }),
            404 | 410 => Ok(None),
            _ => Err(refused("a question for the upload's offset", response)),
        }
    }

    /// Sends `path` to `url` from `offset` to its end. An upload the
    /// server holds whole gets an empty PATCH, so a hand-over that failed
    /// before is tried again.
    pub fn send(
        &self,
        url: &str,
        path: &Path,
        mut offset: u64,
        progress: &dyn UploadProgress,
    ) -> Result<(), SubmitError> {
        let _span = info_span!("tus_send", url, offset).entered();
        let read_err = |source| SubmitError::Read { path: path.display().to_string(), source };
        let mut file = File::open(path).map_err(read_err)?;
        let length = file.metadata().map_err(read_err)?.len();
        if offset > length {
            let detail = format!("the server holds {offset} bytes of a {length}-byte file; it changed: send it anew");
            return Err(SubmitError::Protocol { what: "HEAD".into(), detail });
        }
        file.seek(SeekFrom::Start(offset)).map_err(read_err)?;
        progress.at(offset);
        let size = usize::try_from(self.chunk.min(length - offset)).unwrap_or(usize::MAX);
        let mut chunk = vec![0u8; size];
        if offset == length {
            self.patch_with_retries(url, offset, &[])?;
        }
        while offset < length {
            let want = usize::try_from((length - offset).min(self.chunk)).unwrap_or(size).min(size);
            let n = read_full(&mut file, &mut chunk[..want]).map_err(read_err)?;
            if n < want {
                return Err(read_err(std::io::Error::other("the file got shorter while it was sent")));
            }
            offset = self.patch_with_retries(url, offset, &chunk[..n])?;
            progress.at(offset);
        }
        Ok(())
    }

    /// PATCHes one chunk at `offset`, trying again after a failure on the
    /// way from the offset the server then holds; the new offset.
    fn patch_with_retries(&self, url: &str, offset: u64, chunk: &[u8]) -> Result<u64, SubmitError> {
        let checksum = format!("sha256 {}", STANDARD.encode(Sha256::digest(chunk)));
        let mut pause = Duration::from_millis(250);
        let mut attempt = 1;
        loop {
            let error = match self.patch(url, offset, chunk, &checksum) {
                Ok(next) => return Ok(next),
                Err(e) if e.retry_chunk() && attempt < CHUNK_TRIES => e,
                Err(e) => return Err(e),
            };
            warn!(error = %error, attempt, "a chunk did not arrive; trying again");
            // Backing off from a server that is down or busy.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(8));
            attempt += 1;
            // A cut chunk is discarded whole (its checksum cannot match),
            // so the server holds `offset` or, if the answer was lost,
            // all of it.
            if let Ok(Some(held)) = self.offset(url)
                && held == offset + chunk.len() as u64
                && !chunk.is_empty()
            {
                return Ok(held);
            }
        }
    }

    fn patch(&self, url: &str, offset: u64, chunk: &[u8], checksum: &str) -> Result<u64, SubmitError> {
        let response = self
            .agent
            .patch(url)
            .header("Tus-Resumable", "1.0.0")
            .header("Authorization", &self.bearer())
            .header("Content-Type", "application/offset+octet-stream")
            .header("Upload-Offset", &offset.to_string())
            .header("Upload-Checksum", checksum)
            .send(chunk)
            .map_err(|e| unreachable_at(url, &e))?;
        if response.status().as_u16() != 204 {
            return Err(refused("a chunk", response));
        }
        let next: u64 = header(&response, "upload-offset").and_then(|v| v.parse().ok()).ok_or_else(|| {
            SubmitError::Protocol { what: "PATCH".into(), detail: "204 without Upload-Offset".into() }
        })?;
        if next != offset + chunk.len() as u64 {
            let detail = format!("sent {} bytes at {offset}, the server says {next}", chunk.len());
            return Err(SubmitError::Protocol { what: "PATCH".into(), detail });
        }
        Ok(next)
    }
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The server's refusal, with its JSON `error` when it sent one.
pub(crate) fn refused(what: &str, mut response: ureq::http::Response<ureq::Body>) -> SubmitError {
    let status = response.status().as_u16();
    let text = response.body_mut().with_config().limit(16 << 10).read_to_string().unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or(text);
    SubmitError::Refused { what: what.into(), status, body: crate::terminal::escape_message(&message).into_owned() }
}

pub(crate) fn unreachable_at(url: &str, e: &ureq::Error) -> SubmitError {
    let mut detail = e.to_string();
    if detail.contains("certificate") {
        detail.push_str(" (a server whose certificate a private CA signed needs --ca-cert with that CA's certificate)");
    }
    SubmitError::Unreachable { url: url.into(), detail }
}

/// `location` resolved against `endpoint` (servers may answer a path).
fn absolute(endpoint: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin_end = endpoint.find("://").map_or(0, |i| i + 3);
    let origin = endpoint[origin_end..].find('/').map_or(endpoint, |i| &endpoint[..origin_end + i]);
    format!("{origin}{location}")
}

/// Fills `buf` from `file` unless it ends first; how many bytes.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::absolute;

    #[test]
    fn a_relative_location_is_resolved_against_the_endpoints_origin() {
        assert_eq!(absolute("https://h:8443/v1/uploads", "/v1/uploads/abc"), "https://h:8443/v1/uploads/abc");
        assert_eq!(absolute("http://h/v1/uploads", "http://other/x"), "http://other/x");
        assert_eq!(absolute("http://h", "/v1/uploads/abc"), "http://h/v1/uploads/abc");
    }
}
