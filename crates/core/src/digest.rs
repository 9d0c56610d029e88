//! Fixed-size digests with hex text forms, and the set of digests an artefact
//! carries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::error::IdError;

/// A digest of `N` bytes, shown and stored as lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexDigest<const N: usize>([u8; N]);

/// A SHA-256 digest: the identity of every stored object.
pub type Sha256Digest = HexDigest<32>;
/// An MD5 digest, kept for older tools.
pub type Md5Digest = HexDigest<16>;
/// A SHA-1 digest, kept for older tools.
pub type Sha1Digest = HexDigest<20>;

impl<const N: usize> HexDigest<N> {
    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; N]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; N] {
        &self.0
    }

    /// The digest as lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl Sha256Digest {
    /// The SHA-256 of a byte slice.
    pub fn of(data: &[u8]) -> Self {
        Self(sha2::Sha256::digest(data).into())
    }
}

impl<const N: usize> fmt::Display for HexDigest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> fmt::Debug for HexDigest<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexDigest({})", self.to_hex())
    }
}

impl<const N: usize> FromStr for HexDigest<N> {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let mut out = [0u8; N];
        let lower = s.bytes().all(|b| !b.is_ascii_uppercase());
        match hex::decode_to_slice(s, &mut out) {
            Ok(()) if lower => Ok(Self(out)),
            _ => Err(IdError {
                what: "digest",
                value: s.escape_debug().to_string(),
                rule: "lowercase hex of the digest's length",
            }),
        }
    }
}

impl<const N: usize> Serialize for HexDigest<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de, const N: usize> Deserialize<'de> for HexDigest<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Which digests to compute besides SHA-256, which is always computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashSelection {
    /// Also compute MD5.
    pub md5: bool,
    /// Also compute SHA-1.
    pub sha1: bool,
}

impl Default for HashSelection {
    fn default() -> Self {
        Self { md5: true, sha1: true }
    }
}

impl HashSelection {
    /// SHA-256 only.
    pub const SHA256_ONLY: Self = Self { md5: false, sha1: false };
}

/// The digests of one byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// Always present.
    pub sha256: Sha256Digest,
    /// Present when MD5 was selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<Md5Digest>,
    /// Present when SHA-1 was selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<Sha1Digest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_uppercase_and_wrong_length() {
        let d = Sha256Digest::of(b"abc");
        assert_eq!(d.to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(d.to_hex().parse::<Sha256Digest>().unwrap(), d);
        assert!(d.to_hex().to_uppercase().parse::<Sha256Digest>().is_err());
        assert!("abcd".parse::<Sha256Digest>().is_err());
    }
}
