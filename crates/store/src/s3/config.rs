//! Where an S3 store lives and how it retains what it writes: parsed from
//! `s3://BUCKET[/PREFIX][?retention=MODE&retention_days=N]`, with the
//! endpoint, region and credentials from the SDK's standard configuration
//! (`AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, `AWS_REGION`, the
//! credential chain: env, profile, `*_FILE`). No credential is ever read
//! from the URI or from a committed file.

use aws_sdk_s3::types::ObjectLockMode;

use crate::StoreError;

/// Object Lock retention put on every object exhibit writes (not on its
/// staging objects, which it deletes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: ObjectLockMode,
    /// Days from the write.
    pub days: u32,
}

/// A parsed `s3://` store URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// Starts every key; empty, or ends in `/`.
    pub prefix: String,
    /// Object Lock retention, when configured.
    pub retention: Option<Retention>,
}

impl S3Location {
    /// Parses `s3://BUCKET[/PREFIX][?retention=governance|compliance&retention_days=N]`.
    pub fn parse(uri: &str) -> Result<Self, StoreError> {
        let rule = "s3://BUCKET[/PREFIX][?retention=governance|compliance&retention_days=N]";
        let rest = uri.strip_prefix("s3://").ok_or_else(|| StoreError::invalid("store URI", uri, rule))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(StoreError::invalid("S3 bucket", bucket, "3 to 63 of a-z 0-9 . -"));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() && exhibit_core::layout::ObjectKey::new(prefix).is_none() {
            return Err(StoreError::invalid("S3 prefix", prefix, "segments of A-Z a-z 0-9 . _ - %"));
        }
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        Ok(Self { bucket: bucket.to_owned(), prefix, retention: parse_retention(query)? })
    }
}

fn parse_retention(query: &str) -> Result<Option<Retention>, StoreError> {
    let (mut mode, mut days) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("retention", "governance")) => mode = Some(ObjectLockMode::Governance),
            Some(("retention", "compliance")) => mode = Some(ObjectLockMode::Compliance),
            Some(("retention_days", n)) => {
                days =
                    Some(n.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| {
                        StoreError::invalid("retention_days", n, "a whole number of days, at least 1")
                    })?);
            }
            _ => {
                return Err(StoreError::invalid(
                    "S3 store option",
                    pair,
                    "retention=governance|compliance, retention_days=N",
                ));
            }
        }
    }
    match (mode, days) {
        (None, None) => Ok(None),
        (Some(mode), Some(days)) => Ok(Some(Retention { mode, days })),
        _ => Err(StoreError::invalid("S3 retention", query, "give both retention= and retention_days=")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_prefix_and_retention() {
        let loc = S3Location::parse("s3://evidence/force-a/?retention=compliance&retention_days=3650").unwrap();
        assert_eq!(loc.bucket, "evidence");
        assert_eq!(loc.prefix, "force-a/");
        assert_eq!(loc.retention, Some(Retention { mode: ObjectLockMode::Compliance, days: 3650 }));
        assert_eq!(S3Location::parse("s3://evidence").unwrap().prefix, "");
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for bad in [
            "s3://",
            "s3://A_B",
            "s3://bucket/../x",
            "s3://bucket?retention=compliance",
            "s3://bucket?retention_days=0&retention=governance",
            "s3://bucket?access_key=AKIA",
        ] {
            assert!(S3Location::parse(bad).is_err(), "{bad}");
        }
    }
}
