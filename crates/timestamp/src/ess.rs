//! What `openssl ts -verify` demands of a token beyond its signature and
//! chain: the TSA certificate's extended key usage is critical and holds
//! id-kp-timeStamping alone (RFC 3161 §2.3), and the signed attributes
//! name that very certificate in an ESS signingCertificate (RFC 2634) or
//! signingCertificateV2 (RFC 5035) attribute, so the signer cannot be
//! swapped for another certificate over the same key.

use cms::signed_data::SignerInfo;
use der::asn1::{Any, OctetString};
use der::oid::ObjectIdentifier;
use der::oid::db::rfc5280::{ID_CE_EXT_KEY_USAGE, ID_KP_TIME_STAMPING};
use der::oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::{Decode, Encode, Sequence};
use sha2::Digest;
use x509_cert::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::error::{Result, TimestampError};

/// `id-aa-signingCertificate` (RFC 2634).
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// `id-aa-signingCertificateV2` (RFC 5035).
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");

/// `SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies ... OPTIONAL }`
#[derive(Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    policies: Option<Any>,
}

/// `ESSCertID ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial OPTIONAL }`
#[derive(Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    issuer_serial: Option<Any>,
}

/// `SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }`
#[derive(Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    policies: Option<Any>,
}

/// `ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash, issuerSerial OPTIONAL }`
#[derive(Sequence)]
struct EssCertIdV2 {
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    issuer_serial: Option<Any>,
}

/// The signing certificate's extendedKeyUsage: present once, critical,
/// and exactly id-kp-timeStamping.
pub(crate) fn check_tsa_eku(cert: &Certificate) -> Result<()> {
    let mut ekus = cert.tbs_certificate.extensions.iter().flatten().filter(|e| e.extn_id == ID_CE_EXT_KEY_USAGE);
    let ext = match (ekus.next(), ekus.next()) {
        (Some(one), None) => one,
        (None, _) => return Err(TimestampError::untrusted("the signing certificate has no extendedKeyUsage")),
        (Some(_), Some(_)) => {
            return Err(TimestampError::untrusted("the signing certificate has more than one extendedKeyUsage"));
        }
    };
    if !ext.critical {
        return Err(TimestampError::untrusted(
            "the signing certificate's extendedKeyUsage is not critical (RFC 3161 §2.3 requires it)",
        ));
    }
    let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
        .map_err(|e| TimestampError::malformed("signing certificate extendedKeyUsage", e))?;
    match eku.0.as_slice() {
        [ID_KP_TIME_STAMPING] => Ok(()),
        others => Err(TimestampError::untrusted(format!(
            "the signing certificate's extendedKeyUsage must hold only id-kp-timeStamping, not {}",
            others.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The ESS signingCertificate(V2) signed attribute, whose first ESSCertID
/// must hash to the signing certificate's DER.
pub(crate) fn check_signing_certificate(info: &SignerInfo, cert: &Certificate) -> Result<()> {
    let attrs = info.signed_attrs.as_ref().ok_or_else(|| TimestampError::untrusted("no signed attributes"))?;
    let cert_der = cert.to_der().map_err(|e| TimestampError::malformed("signing certificate", e))?;
    let value = |oid: ObjectIdentifier| -> Result<Option<&Any>> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (None, _) => Ok(None),
            (Some(a), None) => match a.values.as_slice() {
                [one] => Ok(Some(one)),
                _ => Err(TimestampError::untrusted("ESS signingCertificate attribute has more than one value")),
            },
            (Some(_), Some(_)) => Err(TimestampError::untrusted("more than one ESS signingCertificate attribute")),
        }
    };
    let (expected, given) =
        if let Some(v2) = value(ID_AA_SIGNING_CERTIFICATE_V2)? {
            let v2: SigningCertificateV2 =
                v2.decode_as().map_err(|e| TimestampError::malformed("ESS signingCertificateV2", e))?;
            let first = v2.certs.into_iter().next().ok_or_else(|| {
                TimestampError::untrusted("the ESS signingCertificateV2 attribute names no certificate")
            })?;
            let alg = first.hash_algorithm.map(|a| a.oid).unwrap_or(ID_SHA_256);
            let expected = match alg {
                ID_SHA_256 => sha2::Sha256::digest(&cert_der).to_vec(),
                ID_SHA_384 => sha2::Sha384::digest(&cert_der).to_vec(),
                ID_SHA_512 => sha2::Sha512::digest(&cert_der).to_vec(),
                other => {
                    return Err(TimestampError::untrusted(format!(
                        "ESS signingCertificateV2 uses unsupported hash algorithm {other}"
                    )));
                }
            };
            (expected, first.cert_hash)
        } else if let Some(v1) = value(ID_AA_SIGNING_CERTIFICATE)? {
            let v1: SigningCertificate =
                v1.decode_as().map_err(|e| TimestampError::malformed("ESS signingCertificate", e))?;
            let first = v1.certs.into_iter().next().ok_or_else(|| {
                TimestampError::untrusted("the ESS signingCertificate attribute names no certificate")
            })?;
            (sha1::Sha1::digest(&cert_der).to_vec(), first.cert_hash)
        } else {
            return Err(TimestampError::untrusted(
                "no ESS signingCertificate or signingCertificateV2 signed attribute names the signing certificate",
            ));
        };
    if given.as_bytes() != expected.as_slice() {
        return Err(TimestampError::untrusted(
            "the ESS signingCertificate hash does not match the certificate that signed the token",
        ));
    }
    Ok(())
}
