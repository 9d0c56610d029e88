//! Per-token limits, as a middleware that wraps any router: a request rate
//! per token (a token bucket: `burst` at once, refilled at
//! `requests_per_minute`), answered 429 with `Retry-After` past it; and
//! uploads running at once per token (POST, PATCH and PUT under
//! `/v1/uploads`, and a file's PUT), 429 past it.
//!
//! The middleware authenticates the bearer token itself and keys by the
//! token's ID, so nobody can spend another's allowance by sending its ID
//! with a made-up secret; it hands the [`Caller`] on to the handlers, so the
//! token is looked up once. Requests without a valid token pass through
//! uncounted and the handler answers them 401.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use exhibit_app::access::{AccessState, authenticate};

use crate::error::ApiError;
use crate::extract::{Caller, bearer};

/// Where uploads are: requests under it that carry a body count as uploads.
pub const UPLOADS_PREFIX: &str = "/v1/uploads";

/// Buckets kept before full ones (as good as new) are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// The limits for each token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLimitConfig {
    /// Requests a token may make per minute, on average.
    pub requests_per_minute: u32,
    /// Requests a token may make at once after being idle.
    pub burst: u32,
    /// Uploads a token may have running at once.
    pub concurrent_uploads: u32,
}

impl Default for TokenLimitConfig {
    fn default() -> Self {
        Self { requests_per_minute: 600, burst: 100, concurrent_uploads: 4 }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The limits' state, shared by every request.
#[derive(Debug)]
pub struct TokenLimits {
    config: TokenLimitConfig,
    access: Arc<dyn AccessState>,
    buckets: Mutex<HashMap<String, Bucket>>,
    uploads: Mutex<HashMap<String, u32>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TokenLimits {
    /// Limits over the tokens of `access`.
    pub fn new(config: TokenLimitConfig, access: Arc<dyn AccessState>) -> Arc<Self> {
        Arc::new(Self { config, access, buckets: Mutex::default(), uploads: Mutex::default() })
    }

    fn per_second(&self) -> f64 {
        f64::from(self.config.requests_per_minute) / 60.0
    }

    /// Takes one request from the token's bucket, or says how long until
    /// one is there.
    fn take(&self, id: &str, now: Instant) -> Result<(), Duration> {
        let (rate, burst) = (self.per_second(), f64::from(self.config.burst));
        let mut buckets = locked(&self.buckets);
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(id.to_owned()).or_insert(Bucket { tokens: burst, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
    }

    /// A slot for one more upload of the token, or `None` at the limit.
    fn upload_slot(self: &Arc<Self>, id: &str) -> Option<UploadSlot> {
        let mut uploads = locked(&self.uploads);
        let running = uploads.entry(id.to_owned()).or_insert(0);
        if *running >= self.config.concurrent_uploads {
            return None;
        }
        *running += 1;
        Some(UploadSlot { limits: self.clone(), id: id.to_owned() })
    }
}

/// One running upload; dropping it (the request answered, or the client
/// gone) frees the slot.
struct UploadSlot {
    limits: Arc<TokenLimits>,
    id: String,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut uploads = locked(&self.limits.uploads);
        if let Some(running) = uploads.get_mut(&self.id) {
            *running = running.saturating_sub(1);
            if *running == 0 {
                uploads.remove(&self.id);
            }
        }
    }
}

/// Whether the request sends evidence: POST, PATCH or PUT under
/// [`UPLOADS_PREFIX`], or the PUT of one file
/// (`/v1/cases/{case}/exhibits/{exhibit}/files/{filename}`).
fn is_upload(request: &Request) -> bool {
    let path = request.uri().path();
    let method = request.method();
    let under = path == UPLOADS_PREFIX || path.starts_with(&format!("{UPLOADS_PREFIX}/"));
    let file_put = *method == Method::PUT
        && matches!(path.split('/').collect::<Vec<_>>().as_slice(), ["", "v1", "cases", _, "exhibits", _, "files", _]);
    (under && matches!(*method, Method::POST | Method::PATCH | Method::PUT)) || file_put
}

fn too_many(kind: &'static str, message: String, wait: Duration) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(StatusCode::TOO_MANY_REQUESTS, kind, message).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

/// The middleware: `axum::middleware::from_fn_with_state(limits, token_limits)`.
pub async fn token_limits(State(limits): State<Arc<TokenLimits>>, mut request: Request, next: Next) -> Response {
    let Some(presented) = bearer(request.headers()) else { return next.run(request).await };
    let now = time::OffsetDateTime::now_utc();
    let record = match authenticate(limits.access.as_ref(), &presented, now).await {
        Ok(Ok(record)) => record,
        Ok(Err(_)) => return next.run(request).await,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let id = record.id.clone();
    if let Err(wait) = limits.take(&id, Instant::now()) {
        tracing::info!(token = %id, "request rate limit reached");
        let rpm = limits.config.requests_per_minute;
        let message = format!("this token made more than {rpm} requests a minute; wait and try again");
        return too_many("rate_limited", message, wait);
    }
    let _slot = if is_upload(&request) {
        match limits.upload_slot(&id) {
            Some(slot) => Some(slot),
            None => {
                tracing::info!(token = %id, "concurrent upload limit reached");
                let n = limits.config.concurrent_uploads;
                let message = format!("this token has {n} uploads running, the most allowed; wait for one to finish");
                return too_many("too_many_uploads", message, Duration::from_secs(5));
            }
        }
    } else {
        None
    };
    request.extensions_mut().insert(Caller(record));
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bucket_allows_its_burst_then_refills_at_the_rate() {
        let access = exhibit_app::access::SqliteAccessState::in_memory().await.unwrap();
        let config = TokenLimitConfig { requests_per_minute: 60, burst: 3, concurrent_uploads: 1 };
        let limits = TokenLimits::new(config, Arc::new(access));
        let start = Instant::now();
        for _ in 0..3 {
            limits.take("a", start).unwrap();
        }
        let wait = limits.take("a", start).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
        limits.take("b", start).expect("another token has its own bucket");
        limits.take("a", start + Duration::from_secs(1)).expect("one more after a second");
        assert!(limits.take("a", start + Duration::from_secs(1)).is_err());

        let slot = limits.upload_slot("a").unwrap();
        assert!(limits.upload_slot("a").is_none());
        drop(slot);
        assert!(limits.upload_slot("a").is_some(), "freed when dropped");
    }
}
