//! Parsing a time-stamp response or token down to its `TSTInfo`, without
//! judging it yet ([`crate::TsaTrust::verify`] does that).

use std::time::Duration;

use cmpv2::status::PkiStatus;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::oid::ObjectIdentifier;
use der::oid::db::rfc5911::ID_SIGNED_DATA;
use der::oid::db::rfc5912::ID_SHA_256;
use der::{Decode, Encode, Tag, Tagged};
use x509_tsp::{TimeStampResp, TstInfo};

use crate::error::{Result, TimestampError};

/// `id-ct-TSTInfo` (RFC 3161), which const-oid's database lacks.
pub(crate) const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// A parsed timestamp token: the CMS envelope and the `TSTInfo` it signs.
#[derive(Debug, Clone)]
pub struct ParsedToken {
    /// The CMS `SignedData`.
    pub(crate) signed_data: SignedData,
    /// The signed `TSTInfo`, decoded.
    pub(crate) tst_info: TstInfo,
    /// The signed `TSTInfo`'s DER, as the signer hashed it.
    pub(crate) tst_der: Vec<u8>,
}

impl ParsedToken {
    /// Parses a `TimeStampResp` (what a TSA sends, and what exhibit stores
    /// as `.tsr`). A response that is not granted is a
    /// [`TimestampError::Refused`].
    pub fn from_response(bytes: &[u8]) -> Result<Self> {
        let resp = TimeStampResp::from_der(bytes).map_err(|e| TimestampError::malformed("TimeStampResp", e))?;
        if !matches!(resp.status.status, PkiStatus::Accepted | PkiStatus::GrantedWithMods) {
            let text = resp.status.status_string.as_ref().map(|parts| {
                parts.iter().map(|p| p.as_str().chars().take(200).collect::<String>()).collect::<Vec<_>>().join("; ")
            });
            let fail_info = resp.status.fail_info.map(fail_info_names).unwrap_or_default();
            let status = resp.status.status;
            return Err(TimestampError::Refused {
                status: status as u8,
                status_name: status_name(status),
                fail_info,
                text,
            });
        }
        let token = resp.time_stamp_token.ok_or_else(|| TimestampError::Malformed("granted but no token".into()))?;
        Self::from_content_info(token)
    }

    /// Parses a bare `TimeStampToken` (a CMS `ContentInfo`).
    pub fn from_token(bytes: &[u8]) -> Result<Self> {
        let info = ContentInfo::from_der(bytes).map_err(|e| TimestampError::malformed("TimeStampToken", e))?;
        Self::from_content_info(info)
    }

    fn from_content_info(info: ContentInfo) -> Result<Self> {
        if info.content_type != ID_SIGNED_DATA {
            return Err(TimestampError::Malformed(format!("content type {} is not signed-data", info.content_type)));
        }
        let sd_der = info.content.to_der().map_err(|e| TimestampError::malformed("SignedData", e))?;
        let signed_data = SignedData::from_der(&sd_der).map_err(|e| TimestampError::malformed("SignedData", e))?;
        let encap = &signed_data.encap_content_info;
        if encap.econtent_type != ID_CT_TST_INFO {
            return Err(TimestampError::Malformed(format!("signed content {} is not TSTInfo", encap.econtent_type)));
        }
        let econtent = encap.econtent.as_ref().ok_or_else(|| TimestampError::Malformed("no TSTInfo inside".into()))?;
        if econtent.tag() != Tag::OctetString {
            return Err(TimestampError::Malformed("TSTInfo is not wrapped in an OCTET STRING".into()));
        }
        let tst_der = econtent.value().to_vec();
        let tst_info = TstInfo::from_der(&tst_der).map_err(|e| TimestampError::malformed("TSTInfo", e))?;
        Ok(Self { signed_data, tst_info, tst_der })
    }

    /// The message imprint, which must be a SHA-256 digest.
    pub fn imprint_sha256(&self) -> Result<[u8; 32]> {
        let imprint = &self.tst_info.message_imprint;
        if imprint.hash_algorithm.oid != ID_SHA_256 {
            return Err(TimestampError::untrusted(format!(
                "message imprint uses hash algorithm {}, not SHA-256",
                imprint.hash_algorithm.oid
            )));
        }
        imprint
            .hashed_message
            .as_bytes()
            .try_into()
            .map_err(|_| TimestampError::untrusted("message imprint is not 32 bytes long"))
    }

    /// When the TSA says it signed, as time since the Unix epoch.
    pub fn gen_time(&self) -> Duration {
        self.tst_info.gen_time.to_unix_duration()
    }

    /// The nonce's bytes, if the token carries one.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.tst_info.nonce.as_ref().map(|n| n.as_bytes())
    }

    /// The TSA's policy OID.
    pub fn policy(&self) -> ObjectIdentifier {
        self.tst_info.policy
    }

    /// The token's serial number, as hex.
    pub fn serial_hex(&self) -> String {
        self.tst_info.serial_number.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The RFC 3161 name of a PKIStatus.
fn status_name(status: PkiStatus) -> &'static str {
    match status {
        PkiStatus::Accepted => "granted",
        PkiStatus::GrantedWithMods => "grantedWithMods",
        PkiStatus::Rejection => "rejection",
        PkiStatus::Waiting => "waiting",
        PkiStatus::RevocationWarning => "revocationWarning",
        PkiStatus::RevocationNotification => "revocationNotification",
        PkiStatus::KeyUpdateWarning => "keyUpdateWarning",
    }
}

/// The RFC 4210 names of the failInfo bits set. Read from the raw bits:
/// cmpv2 0.2 declares its flags with bit numbers as masks, so iterating its
/// set names the wrong failures.
fn fail_info_names(info: cmpv2::status::PkiFailureInfo) -> Vec<String> {
    const NAMES: [&str; 16] = [
        "badAlg",
        "badMessageCheck",
        "badRequest",
        "badTime",
        "badCertId",
        "badDataFormat",
        "wrongAuthority",
        "incorrectData",
        "missingTimeStamp",
        "badPOP",
        "certRevoked",
        "certConfirmed",
        "wrongIntegrity",
        "badRecipientNonce",
        "timeNotAvailable",
        "unacceptedPolicy",
    ];
    let bits = info.bits();
    NAMES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, name)| (*name).to_owned()).collect()
}
