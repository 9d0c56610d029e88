//! Asking a TSA for a token: one HTTP POST of `application/timestamp-query`,
//! bounded in time and in response size. Blocking; call it from a blocking
//! thread.

use std::time::Duration;

use der::oid::ObjectIdentifier;
use tracing::{debug, instrument};

use crate::error::{Result, TimestampError};
use crate::request::TimestampQuery;
use crate::token::ParsedToken;
use crate::trust::TsaTrust;

/// Largest response read from a TSA. A token with a certificate chain is a
/// few KiB.
pub const DEFAULT_MAX_RESPONSE: u64 = 256 * 1024;

/// A TSA endpoint and how to talk to it.
#[derive(Debug, Clone)]
pub struct TsaClient {
    url: String,
    timeout: Duration,
    max_response: u64,
    policy: Option<ObjectIdentifier>,
}

/// A token the TSA issued for a digest, checked against the query.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The response's DER, as the TSA sent it (`openssl ts -verify -in`
    /// reads it).
    pub response: Vec<u8>,
    /// The parsed token.
    pub token: ParsedToken,
}

impl TsaClient {
    /// A client for `url` (`http://` only: the token is signed, so TLS adds
    /// no integrity), with a whole-exchange `timeout`.
    pub fn new(url: &str, timeout: Duration, policy: Option<&str>) -> Result<Self> {
        if !url.starts_with("http://") {
            return Err(TimestampError::Config(format!(
                "TSA URL {url:?} is not http://...; this build speaks plain HTTP only (the token is signed, so TLS adds no integrity)"
            )));
        }
        let policy = policy
            .map(|p| p.parse::<ObjectIdentifier>())
            .transpose()
            .map_err(|e| TimestampError::Config(format!("TSA policy {policy:?} is not an OID: {e}")))?;
        Ok(Self { url: url.to_owned(), timeout, max_response: DEFAULT_MAX_RESPONSE, policy })
    }

    /// Sets the largest response accepted.
    pub fn with_max_response(mut self, bytes: u64) -> Self {
        self.max_response = bytes;
        self
    }

    /// The TSA's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Asks for a token over `digest` and checks the answer: granted, the
    /// same imprint and nonce, and (with `trust`) a valid signature chained
    /// to the CA.
    #[instrument(skip_all, fields(url = %self.url))]
    pub fn timestamp(&self, digest: [u8; 32], trust: Option<&TsaTrust>) -> Result<IssuedToken> {
        let query = TimestampQuery::sha256(digest, self.policy)?;
        let response = self.post(&query.der)?;
        let token = ParsedToken::from_response(&response)?;
        if token.imprint_sha256()? != query.digest {
            return Err(TimestampError::untrusted("the TSA signed another digest than the one asked for"));
        }
        if token.nonce() != Some(query.nonce.as_slice()) {
            return Err(TimestampError::untrusted("the token does not repeat the request's nonce"));
        }
        if let Some(trust) = trust {
            trust.verify(&token)?;
        }
        debug!(serial = %token.serial_hex(), "TSA issued a token");
        Ok(IssuedToken { response, token })
    }

    fn post(&self, body: &[u8]) -> Result<Vec<u8>> {
        let unreachable = |detail: String| TimestampError::Unreachable { url: self.url.clone(), detail };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut response = agent
            .post(&self.url)
            .header("Content-Type", "application/timestamp-query")
            .send(body)
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(unreachable(format!("HTTP status {status}")));
        }
        response.body_mut().with_config().limit(self.max_response).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(limit) => {
                TimestampError::Malformed(format!("the response is over the {limit}-byte limit"))
            }
            other => unreachable(other.to_string()),
        })
    }
}
