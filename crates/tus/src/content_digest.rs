//! RFC 9530 `Content-Digest` for a plain PUT: the header is a Structured
//! Fields dictionary (RFC 9651) parsed with `sfv`, e.g.
//! `Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:`.
//!
//! ```
//! use exhibit_tus::content_digest::{expected_sha256, header_value};
//! let digest = exhibit_core::Sha256Digest::of(b"hello");
//! let header = header_value(&digest);
//! assert_eq!(expected_sha256(&header).unwrap(), digest);
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use exhibit_core::{ErrorKind, Sha256Digest};
use sfv::{BareItem, Dictionary, ListEntry, Parser};
use thiserror::Error;

/// The RFC 9530 algorithm key for SHA-256.
pub const SHA_256: &str = "sha-256";

/// A `Content-Digest` that cannot be used, or that does not match.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ContentDigestError {
    /// Not a Structured Fields dictionary, or `sha-256` is not 32 bytes.
    #[error("malformed Content-Digest: {0}")]
    Malformed(String),
    /// No `sha-256` member; the algorithms that were sent are listed.
    #[error("Content-Digest has no sha-256 (sent: {0}); this server verifies sha-256")]
    NoSha256(String),
    /// The body's SHA-256 is not the one promised.
    #[error("Content-Digest mismatch: sent sha-256 {sent}, body is {actual}")]
    Mismatch {
        /// The digest the client sent.
        sent: Sha256Digest,
        /// The body's digest.
        actual: Sha256Digest,
    },
}

impl ContentDigestError {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Malformed(_) | Self::NoSha256(_) => ErrorKind::Invalid,
            Self::Mismatch { .. } => ErrorKind::Corrupt,
        }
    }
}

/// The SHA-256 a `Content-Digest` header value promises. Other algorithms
/// beside it are ignored; a header without `sha-256` is refused.
pub fn expected_sha256(header: &str) -> Result<Sha256Digest, ContentDigestError> {
    let dict: Dictionary = Parser::new(header).parse().map_err(|e| ContentDigestError::Malformed(e.to_string()))?;
    let mut seen = Vec::new();
    for (key, entry) in &dict {
        if key.as_str() != SHA_256 {
            seen.push(key.as_str().to_owned());
            continue;
        }
        let bytes = match entry {
            ListEntry::Item(item) => match &item.bare_item {
                BareItem::ByteSequence(bytes) => bytes,
                _ => return Err(ContentDigestError::Malformed("sha-256 is not a byte sequence (:base64:)".into())),
            },
            ListEntry::InnerList(_) => return Err(ContentDigestError::Malformed("sha-256 is a list".into())),
        };
        let digest: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| ContentDigestError::Malformed(format!("sha-256 is {} bytes, not 32", bytes.len())))?;
        return Ok(Sha256Digest::from_bytes(digest));
    }
    Err(ContentDigestError::NoSha256(if seen.is_empty() { "nothing".into() } else { seen.join(", ") }))
}

/// Checks a body's SHA-256 against the header the client sent.
pub fn verify(header: &str, actual: &Sha256Digest) -> Result<(), ContentDigestError> {
    let sent = expected_sha256(header)?;
    if &sent == actual { Ok(()) } else { Err(ContentDigestError::Mismatch { sent, actual: *actual }) }
}

/// The header value for a digest, for a response's `Content-Digest` or
/// `Repr-Digest`.
pub fn header_value(digest: &Sha256Digest) -> String {
    format!("{SHA_256}=:{}:", STANDARD.encode(digest.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_9530_example_parses() {
        // RFC 9530 appendix B.1: the SHA-256 of {"hello": "world"}.
        let d = expected_sha256("sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:").unwrap();
        assert_eq!(d, Sha256Digest::of(b"{\"hello\": \"world\"}"));
    }

    #[test]
    fn other_algorithms_beside_sha256_are_ignored() {
        let digest = Sha256Digest::of(b"x");
        let header = format!("sha-512=:{}:, {}", STANDARD.encode([0u8; 64]), header_value(&digest));
        assert_eq!(expected_sha256(&header).unwrap(), digest);
    }

    #[test]
    fn mismatch_is_reported_with_both_digests() {
        let header = header_value(&Sha256Digest::of(b"sent"));
        let err = verify(&header, &Sha256Digest::of(b"other")).unwrap_err();
        assert!(matches!(err, ContentDigestError::Mismatch { .. }));
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(verify(&header, &Sha256Digest::of(b"sent")).is_ok());
    }

    #[test]
    fn hostile_headers_are_refused() {
        for bad in [
            "",
            "sha-256",
            "sha-256=abc",
            "sha-256=:not base64!:",
            "sha-256=:AAAA:",
            "sha-256=(:AAAA:)",
            "sha-256=\"X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\"",
            "SHA-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
            "md5=:AAAAAAAAAAAAAAAAAAAAAA==:",
        ] {
            assert!(expected_sha256(bad).is_err(), "{bad:?}");
        }
        assert!(
            matches!(expected_sha256("md5=:AAAAAAAAAAAAAAAAAAAAAA==:"), Err(ContentDigestError::NoSha256(s)) if s == "md5")
        );
    }
}
