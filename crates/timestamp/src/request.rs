//! Building a time-stamp query (`application/timestamp-query`, RFC 3161
//! section 2.4.1) over a SHA-256 digest, with a random nonce.

use der::asn1::{Int, OctetString};
use der::oid::ObjectIdentifier;
use der::oid::db::rfc5912::ID_SHA_256;
use der::{Any, Encode};
use rand_core::{OsRng, RngCore};
use x509_cert::spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TspVersion};

use crate::error::{Result, TimestampError};

/// A query ready to send, and what its answer must repeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampQuery {
    /// DER of the `TimeStampReq`.
    pub der: Vec<u8>,
    /// The digest the token must carry as its message imprint.
    pub digest: [u8; 32],
    /// The nonce's two's-complement bytes, which the token must repeat.
    pub nonce: Vec<u8>,
}

impl TimestampQuery {
    /// A query for `digest` (a SHA-256) asking for the TSA's certificate in
    /// the token, under `policy` when one is given.
    pub fn sha256(digest: [u8; 32], policy: Option<ObjectIdentifier>) -> Result<Self> {
        let mut nonce = [0u8; 8];
        OsRng.fill_bytes(&mut nonce);
        // Positive and minimal: the top bit clear, the first byte non-zero.
        nonce[0] = (nonce[0] & 0x7f) | 0x01;
        let request = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: sha256_imprint(&digest)?,
            req_policy: policy,
            nonce: Some(Int::new(&nonce).map_err(|e| TimestampError::malformed("nonce", e))?),
            cert_req: true,
            extensions: None,
        };
        let der = request.to_der().map_err(|e| TimestampError::malformed("query", e))?;
        Ok(Self { der, digest, nonce: nonce.to_vec() })
    }
}

/// The `MessageImprint` of a SHA-256 digest, with NULL parameters as
/// OpenSSL writes it.
pub(crate) fn sha256_imprint(digest: &[u8; 32]) -> Result<MessageImprint> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifier { oid: ID_SHA_256, parameters: Some(Any::null()) },
        hashed_message: OctetString::new(digest.to_vec()).map_err(|e| TimestampError::malformed("imprint", e))?,
    })
}

#[cfg(test)]
mod tests {
    use der::Decode;

    use super::*;

    #[test]
    fn query_round_trips_with_a_positive_nonce() {
        let q = TimestampQuery::sha256([7; 32], None).unwrap();
        let parsed = TimeStampReq::from_der(&q.der).unwrap();
        assert_eq!(parsed.message_imprint.hashed_message.as_bytes(), &[7; 32]);
        assert!(parsed.cert_req);
        assert_eq!(parsed.nonce.unwrap().as_bytes(), q.nonce.as_slice());
        assert!(q.nonce[0] & 0x80 == 0 && q.nonce[0] != 0);
    }
}
