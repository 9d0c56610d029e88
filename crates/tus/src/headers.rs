//! The tus protocol's request headers, each parsed strictly: one value,
//! plain decimal digits, known algorithms only.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::TusError;

/// The protocol version this server speaks.
pub const TUS_VERSION: &str = "1.0.0";
/// Extensions advertised on OPTIONS.
pub const TUS_EXTENSIONS: &str = "creation,checksum,termination,expiration";
/// The one checksum algorithm taken.
pub const CHECKSUM_ALGORITHM: &str = "sha256";
/// The PATCH body's media type.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// The single value of a header, if present; a repeated header is refused.
pub fn single<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, TusError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(TusError::bad_header(name, "sent more than once"));
    }
    first.to_str().map(Some).map_err(|_| TusError::bad_header(name, "not visible ASCII"))
}

/// Refuses a request without `Tus-Resumable: 1.0.0` (412).
pub fn check_version(headers: &HeaderMap) -> Result<(), TusError> {
    match headers.get("tus-resumable").map(|v| v.to_str()) {
        Some(Ok(TUS_VERSION)) => Ok(()),
        Some(Ok(other)) => Err(TusError::UnsupportedVersion { got: Some(other.to_owned()) }),
        Some(Err(_)) => Err(TusError::UnsupportedVersion { got: Some("(not ASCII)".into()) }),
        None => Err(TusError::UnsupportedVersion { got: None }),
    }
}

/// A non-negative decimal header (`Upload-Length`, `Upload-Offset`):
/// digits only, no sign, no spaces, at most 2^63-1.
pub fn decimal(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, TusError> {
    let Some(text) = single(headers, name)? else { return Ok(None) };
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TusError::bad_header(name, format!("{text:?} is not a non-negative decimal integer")));
    }
    let value: u64 = text.parse().map_err(|_| TusError::bad_header(name, "too large"))?;
    if value > i64::MAX as u64 {
        return Err(TusError::bad_header(name, "too large"));
    }
    Ok(Some(value))
}

/// Like [`decimal`], but the header must be there.
pub fn required_decimal(headers: &HeaderMap, name: &'static str) -> Result<u64, TusError> {
    decimal(headers, name)?.ok_or_else(|| TusError::bad_header(name, "missing"))
}

/// The SHA-256 a PATCH's `Upload-Checksum` promises for its body, if any.
pub fn upload_checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, TusError> {
    const NAME: &str = "upload-checksum";
    let Some(text) = single(headers, NAME)? else { return Ok(None) };
    let (algorithm, encoded) =
        text.split_once(' ').ok_or_else(|| TusError::bad_header(NAME, "expected '<algorithm> <base64>'"))?;
    if !algorithm.eq_ignore_ascii_case(CHECKSUM_ALGORITHM) {
        return Err(TusError::UnsupportedChecksum { algorithm: algorithm.to_owned() });
    }
    let bytes = STANDARD.decode(encoded).map_err(|e| TusError::bad_header(NAME, format!("not base64: {e}")))?;
    let digest: [u8; 32] = bytes.try_into().map_err(|_| TusError::bad_header(NAME, "a sha256 checksum is 32 bytes"))?;
    Ok(Some(digest))
}

/// Refuses a PATCH whose body is not `application/offset+octet-stream` (415).
pub fn check_patch_content_type(headers: &HeaderMap) -> Result<(), TusError> {
    let content_type = single(headers, "content-type").map_err(|_| TusError::UnsupportedMediaType)?;
    match content_type {
        Some(ct) if ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case(OFFSET_OCTET_STREAM)) => Ok(()),
        _ => Err(TusError::UnsupportedMediaType),
    }
}

/// Refuses the extensions this server does not offer.
pub fn refuse_unoffered(headers: &HeaderMap) -> Result<(), TusError> {
    if headers.contains_key("upload-defer-length") {
        return Err(TusError::bad_header(
            "upload-defer-length",
            "deferred lengths are not offered; send Upload-Length",
        ));
    }
    if headers.contains_key("upload-concat") {
        return Err(TusError::bad_header("upload-concat", "concatenation is not offered"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn lengths_must_be_plain_non_negative_decimals() {
        assert_eq!(decimal(&with(&[("upload-length", "0")]), "upload-length").unwrap(), Some(0));
        assert_eq!(
            decimal(&with(&[("upload-length", "9223372036854775807")]), "upload-length").unwrap(),
            Some(i64::MAX as u64)
        );
        for bad in ["-1", "+5", " 5", "5 ", "0x10", "1e9", "", "9223372036854775808", "99999999999999999999999", "1,2"]
        {
            assert!(decimal(&with(&[("upload-length", bad)]), "upload-length").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn repeated_headers_are_refused() {
        let h = with(&[("upload-offset", "0"), ("upload-offset", "10")]);
        assert!(matches!(decimal(&h, "upload-offset"), Err(TusError::BadHeader { .. })));
    }

    #[test]
    fn version_must_be_1_0_0() {
        assert!(check_version(&with(&[("tus-resumable", "1.0.0")])).is_ok());
        for h in [with(&[]), with(&[("tus-resumable", "0.2.2")])] {
            assert!(matches!(check_version(&h), Err(TusError::UnsupportedVersion { .. })));
        }
    }

    #[test]
    fn checksum_takes_sha256_only() {
        let good = format!("sha256 {}", STANDARD.encode([7u8; 32]));
        assert_eq!(upload_checksum(&with(&[("upload-checksum", &good)])).unwrap(), Some([7u8; 32]));
        let sha1 = format!("sha1 {}", STANDARD.encode([7u8; 20]));
        assert!(matches!(
            upload_checksum(&with(&[("upload-checksum", &sha1)])),
            Err(TusError::UnsupportedChecksum { .. })
        ));
        for bad in ["sha256", "sha256 !!!", "sha256 AAAA", "crc32 AAAA"] {
            assert!(upload_checksum(&with(&[("upload-checksum", bad)])).is_err(), "{bad}");
        }
    }

    #[test]
    fn patch_content_type_is_checked() {
        assert!(check_patch_content_type(&with(&[("content-type", "application/offset+octet-stream")])).is_ok());
        assert!(check_patch_content_type(&with(&[("content-type", "application/octet-stream")])).is_err());
        assert!(check_patch_content_type(&with(&[])).is_err());
    }
}
