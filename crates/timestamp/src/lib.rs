//! RFC 3161 trusted timestamps: ask a Time-Stamping Authority (TSA) to sign
//! a SHA-256 digest, and check the token it returns.
//!
//! This crate owns the query format, the HTTP exchange (bounded in time and
//! size), the parsing of responses and tokens (RustCrypto's `x509-tsp` and
//! `cms`), and their verification: the CMS signature and the certificate
//! chain to a configured CA, with the timeStamping key usage, checked by
//! `rustls-webpki`. It knows nothing of ledgers; `exhibit-custody` anchors
//! ledger heads with it.
//!
//! ```no_run
//! # fn demo(digest: [u8; 32]) -> Result<(), exhibit_timestamp::TimestampError> {
//! use std::time::Duration;
//! use exhibit_timestamp::{ParsedToken, TsaClient, TsaTrust};
//! let trust = TsaTrust::load("tsa-ca.pem".as_ref(), None)?;
//! let client = TsaClient::new("http://tsa.example/tsr", Duration::from_secs(10), None)?;
//! let issued = client.timestamp(digest, Some(&trust))?;
//! let checked = trust.verify(&ParsedToken::from_response(&issued.response)?)?;
//! assert_eq!(checked.imprint, digest);
//! # Ok(()) }
//! ```

mod client;
mod error;
mod ess;
mod request;
mod signature;
mod token;
mod trust;

#[cfg(feature = "loopback")]
pub mod loopback;

pub use client::{DEFAULT_MAX_RESPONSE, IssuedToken, TsaClient};
pub use error::{Result, TimestampError, TimestampErrorKind};
pub use request::TimestampQuery;
pub use token::ParsedToken;
pub use trust::{TsaTrust, VerifiedToken};
