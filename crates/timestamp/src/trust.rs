//! Judging a token: the CMS signature over its `TSTInfo`, made by a
//! certificate that chains to a configured CA and carries the
//! timeStamping extended key usage. `rustls-webpki` builds and checks the
//! chain and verifies the signatures; this file only maps CMS onto it.

use std::path::Path;

use cms::cert::CertificateChoices;
use cms::signed_data::{SignerIdentifier, SignerInfo};
use der::oid::ObjectIdentifier;
use der::oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER;
use der::oid::db::rfc5911::{ID_CONTENT_TYPE, ID_MESSAGE_DIGEST};
use der::oid::db::rfc5912::{ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha2::Digest;
use webpki::{EndEntityCert, KeyUsage};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::error::{Result, TimestampError};
use crate::ess::{check_signing_certificate, check_tsa_eku};
use crate::signature::algorithms_for;
use crate::token::{ID_CT_TST_INFO, ParsedToken};

/// DER contents of `id-kp-timeStamping` (1.3.6.1.5.5.7.3.8).
const EKU_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// Largest PEM file of certificates read.
const PEM_LIMIT: u64 = 1 << 20;

/// The certificates a token is judged against.
#[derive(Debug, Clone)]
pub struct TsaTrust {
    /// Where the CA certificates came from, for messages.
    source: String,
    anchors: Vec<CertificateDer<'static>>,
    /// Extra certificates offered for path building, never trusted as roots.
    untrusted: Vec<Certificate>,
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The SHA-256 digest the TSA signed.
    pub imprint: [u8; 32],
    /// When, in seconds since the Unix epoch.
    pub gen_time_secs: u64,
    /// The signing certificate's subject, for messages.
    pub signer: String,
}

impl TsaTrust {
    /// Loads the CA certificates (PEM) a TSA's certificate must chain to,
    /// and optionally a PEM file of untrusted intermediates.
    pub fn load(ca_file: &Path, intermediates: Option<&Path>) -> Result<Self> {
        let anchors = read_pem_certs(ca_file)?
            .iter()
            .map(|c| c.to_der().map(CertificateDer::from))
            .collect::<der::Result<Vec<_>>>()
            .map_err(|e| TimestampError::Config(format!("cannot encode a CA certificate: {e}")))?;
        let untrusted = match intermediates {
            Some(path) => read_pem_certs(path)?,
            None => Vec::new(),
        };
        Ok(Self { source: ca_file.display().to_string(), anchors, untrusted })
    }

    /// Where the CA certificates came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Checks `token` fully: signed attributes, the signing certificate's
    /// critical timeStamping-only key usage and its ESS signingCertificate
    /// attribute, signature, chain to a CA at the token's own time, and a
    /// SHA-256 imprint.
    pub fn verify(&self, token: &ParsedToken) -> Result<VerifiedToken> {
        let signer_info = single_signer(token)?;
        let signer = self.find_signer(token, &signer_info.sid)?;
        check_tsa_eku(signer)?;
        check_signing_certificate(signer_info, signer)?;
        let attrs_der = check_signed_attrs(signer_info, &token.tst_der)?;
        let signer_der = CertificateDer::from(signer.to_der().map_err(|e| TimestampError::malformed("signer", e))?);
        let end_entity = EndEntityCert::try_from(&signer_der)
            .map_err(|e| TimestampError::untrusted(format!("signing certificate unusable: {e}")))?;
        let algorithms = algorithms_for(&signer_info.signature_algorithm.oid, &signer_info.digest_alg.oid)?;
        let signature = signer_info.signature.as_bytes();
        if !algorithms.iter().any(|alg| end_entity.verify_signature(*alg, &attrs_der, signature).is_ok()) {
            return Err(TimestampError::untrusted("the CMS signature does not verify with the signing certificate"));
        }
        self.check_chain(token, &end_entity)?;
        Ok(VerifiedToken {
            imprint: token.imprint_sha256()?,
            gen_time_secs: token.gen_time().as_secs(),
            signer: signer.tbs_certificate.subject.to_string(),
        })
    }

    fn check_chain(&self, token: &ParsedToken, end_entity: &EndEntityCert<'_>) -> Result<()> {
        let anchors: Vec<TrustAnchor<'_>> = self
            .anchors
            .iter()
            .map(|c| webpki::anchor_from_trusted_cert(c).map(|a| a.to_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| TimestampError::Config(format!("a CA certificate in {} is unusable: {e}", self.source)))?;
        let offered: Vec<CertificateDer<'static>> = token_certs(token)
            .chain(self.untrusted.iter())
            .filter_map(|c| c.to_der().ok().map(CertificateDer::from))
            .collect();
        let time = UnixTime::since_unix_epoch(token.gen_time());
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &anchors,
                &offered,
                time,
                KeyUsage::required(EKU_TIME_STAMPING),
                None,
                None,
            )
            .map(|_| ())
            .map_err(|e| {
                TimestampError::untrusted(format!(
                    "the signing certificate does not chain to a CA in {} with the timeStamping key usage at the token's time ({e:?})",
                    self.source
                ))
            })
    }

    /// The certificate the signer identifier names, among those in the
    /// token and the configured intermediates.
    fn find_signer<'t>(&'t self, token: &'t ParsedToken, sid: &SignerIdentifier) -> Result<&'t Certificate> {
        let mut candidates = token_certs(token).chain(self.untrusted.iter());
        let found = match sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => candidates
                .find(|c| c.tbs_certificate.issuer == id.issuer && c.tbs_certificate.serial_number == id.serial_number),
            SignerIdentifier::SubjectKeyIdentifier(ski) => candidates.find(|c| subject_key_id(c).as_ref() == Some(ski)),
        };
        found.ok_or_else(|| TimestampError::untrusted("the token does not carry the certificate that signed it"))
    }
}

fn single_signer(token: &ParsedToken) -> Result<&SignerInfo> {
    let infos = token.signed_data.signer_infos.0.as_slice();
    match infos {
        [one] => Ok(one),
        _ => Err(TimestampError::untrusted(format!("the token has {} signers, not one", infos.len()))),
    }
}

fn token_certs(token: &ParsedToken) -> impl Iterator<Item = &Certificate> {
    token.signed_data.certificates.iter().flat_map(|set| set.0.iter()).filter_map(|choice| match choice {
        CertificateChoices::Certificate(c) => Some(c),
        CertificateChoices::Other(_) => None,
    })
}

fn subject_key_id(cert: &Certificate) -> Option<SubjectKeyIdentifier> {
    let ext = cert.tbs_certificate.extensions.as_ref()?.iter().find(|e| e.extn_id == ID_CE_SUBJECT_KEY_IDENTIFIER)?;
    SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes()).ok()
}

/// Checks the content-type and message-digest attributes against the
/// `TSTInfo`, and returns the DER the signature covers (the attributes as
/// a SET OF).
fn check_signed_attrs(info: &SignerInfo, tst_der: &[u8]) -> Result<Vec<u8>> {
    let attrs = info.signed_attrs.as_ref().ok_or_else(|| TimestampError::untrusted("no signed attributes"))?;
    let single = |oid: ObjectIdentifier, name: &str| {
        let attr = attrs
            .iter()
            .find(|a| a.oid == oid)
            .ok_or_else(|| TimestampError::untrusted(format!("no {name} attribute")))?;
        match attr.values.as_slice() {
            [one] => Ok(one),
            _ => Err(TimestampError::untrusted(format!("{name} attribute has more than one value"))),
        }
    };
    let content_type: ObjectIdentifier = single(ID_CONTENT_TYPE, "content-type")?
        .decode_as()
        .map_err(|e| TimestampError::malformed("content-type", e))?;
    if content_type != ID_CT_TST_INFO {
        return Err(TimestampError::untrusted(format!("signed content type {content_type} is not TSTInfo")));
    }
    let digest: der::asn1::OctetString = single(ID_MESSAGE_DIGEST, "message-digest")?
        .decode_as()
        .map_err(|e| TimestampError::malformed("message-digest", e))?;
    if digest.as_bytes() != hash(&info.digest_alg.oid, tst_der)?.as_slice() {
        return Err(TimestampError::untrusted("the signed message digest does not match the TSTInfo"));
    }
    attrs.to_der().map_err(|e| TimestampError::malformed("signed attributes", e))
}

fn hash(alg: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>> {
    match *alg {
        ID_SHA_256 => Ok(sha2::Sha256::digest(data).to_vec()),
        ID_SHA_384 => Ok(sha2::Sha384::digest(data).to_vec()),
        ID_SHA_512 => Ok(sha2::Sha512::digest(data).to_vec()),
        other => Err(TimestampError::untrusted(format!("unsupported digest algorithm {other}"))),
    }
}

fn read_pem_certs(path: &Path) -> Result<Vec<Certificate>> {
    use std::io::Read;
    let file = exhibit_core::regular_file::open_regular(path)
        .map_err(|e| TimestampError::Config(format!("cannot read certificate file {}: {e}", path.display())))?;
    let mut pem = Vec::new();
    file.take(PEM_LIMIT + 1)
        .read_to_end(&mut pem)
        .map_err(|e| TimestampError::Config(format!("cannot read certificate file {}: {e}", path.display())))?;
    if pem.len() as u64 > PEM_LIMIT {
        return Err(TimestampError::Config(format!("certificate file {} is over 1 MiB", path.display())));
    }
    let certs = Certificate::load_pem_chain(&pem).map_err(|e| {
        TimestampError::Config(format!("certificate file {} is not PEM certificates: {e}", path.display()))
    })?;
    if certs.is_empty() {
        return Err(TimestampError::Config(format!("certificate file {} holds no certificate", path.display())));
    }
    Ok(certs)
}
