//! Which `rustls-webpki` verification algorithms a CMS signer's algorithm
//! identifiers may mean.

use der::oid::ObjectIdentifier;
use der::oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_SHA_256, ID_SHA_384, ID_SHA_512, RSA_ENCRYPTION,
    SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION, SHA_512_WITH_RSA_ENCRYPTION,
};
use der::oid::db::rfc8410::ID_ED_25519;
use rustls_pki_types::SignatureVerificationAlgorithm;
use webpki::ring as alg;

use crate::error::{Result, TimestampError};

type Algorithms = &'static [&'static dyn SignatureVerificationAlgorithm];

/// Candidates for a signature algorithm (and, for plain `rsaEncryption`,
/// the signer's digest algorithm). webpki checks that the certificate's
/// key fits the one it is asked to use, so trying each is safe.
pub(crate) fn algorithms_for(signature: &ObjectIdentifier, digest: &ObjectIdentifier) -> Result<Algorithms> {
    static RSA256: Algorithms = &[alg::RSA_PKCS1_2048_8192_SHA256];
    static RSA384: Algorithms = &[alg::RSA_PKCS1_2048_8192_SHA384];
    static RSA512: Algorithms = &[alg::RSA_PKCS1_2048_8192_SHA512];
    static EC256: Algorithms = &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256];
    static EC384: Algorithms = &[alg::ECDSA_P256_SHA384, alg::ECDSA_P384_SHA384];
    static ED: Algorithms = &[alg::ED25519];
    match (*signature, *digest) {
        (SHA_256_WITH_RSA_ENCRYPTION, _) | (RSA_ENCRYPTION, ID_SHA_256) => Ok(RSA256),
        (SHA_384_WITH_RSA_ENCRYPTION, _) | (RSA_ENCRYPTION, ID_SHA_384) => Ok(RSA384),
        (SHA_512_WITH_RSA_ENCRYPTION, _) | (RSA_ENCRYPTION, ID_SHA_512) => Ok(RSA512),
        (ECDSA_WITH_SHA_256, _) => Ok(EC256),
        (ECDSA_WITH_SHA_384, _) => Ok(EC384),
        (ID_ED_25519, _) => Ok(ED),
        (s, d) => Err(TimestampError::untrusted(format!("unsupported signature algorithm {s} with digest {d}"))),
    }
}
