//! Case IDs, exhibit references and artefact IDs. Each is validated where it
//! enters, so that later code can put it into a key or a path safely.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::digest::Sha256Digest;
use crate::error::IdError;

const CASE_RULE: &str = "1 to 64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";
const EXHIBIT_RULE: &str = "1 to 8 parts separated by '/', each 1 to 32 characters from A-Z a-z 0-9 . _ - starting with a letter or digit (e.g. JS/1 or JS/1/A)";
const ARTEFACT_RULE: &str = "32 lowercase hexadecimal digits";

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn is_word(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.starts_with(|c: char| c.is_ascii_alphanumeric()) && s.chars().all(is_word_char)
}

/// A case reference such as a URN (`42AB1234520`) or a court number
/// (`T20247001`). Opaque, but safe as a single path or key component.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId(String);

impl CaseId {
    /// The validated text, which is also its key component.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CaseId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if is_word(s, 64) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { what: "case ID", value: s.escape_debug().to_string(), rule: CASE_RULE })
        }
    }
}

/// An exhibit reference such as `JS/1` or `JS/1/A`, unique within a case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExhibitRef(String);

/// Every byte but letters, digits, `.`, `_` and `-` is percent-encoded.
const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'-');

impl ExhibitRef {
    /// The reference as the officer wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The reference as one key or path component: `JS/1` becomes `JS%2F1`.
    pub fn key_component(&self) -> String {
        utf8_percent_encode(&self.0, KEY_SAFE).to_string()
    }
}

impl FromStr for ExhibitRef {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.len() <= 8 && parts.iter().all(|p| is_word(p, 32)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { what: "exhibit reference", value: s.escape_debug().to_string(), rule: EXHIBIT_RULE })
        }
    }
}

/// The identity of one artefact within a case: 128 bits as 32 hex digits.
///
/// It is derived from what the artefact is (case, exhibit, where it came from
/// and its content hash), so re-running the same ingest names the same
/// artefact and never records it twice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArtefactId(String);

impl ArtefactId {
    /// Derives the ID of the artefact whose content is `content` and which was
    /// found at `locator` (an original path, or a path inside a parent).
    pub fn derive(case: &CaseId, exhibit: &ExhibitRef, locator: &[u8], content: &Sha256Digest) -> Self {
        let mut h = Sha256::new();
        for part in [b"exhibit-artefact-v1".as_slice(), case.0.as_bytes(), exhibit.0.as_bytes(), locator] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        h.update(content.as_bytes());
        Self(hex::encode(&h.finalize()[..16]))
    }

    /// The 32 hex digits, which are also its key component.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ArtefactId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { what: "artefact ID", value: s.escape_debug().to_string(), rule: ARTEFACT_RULE })
        }
    }
}

macro_rules! string_id_impls {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
string_id_impls!(CaseId, ExhibitRef, ArtefactId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_accept_urns_and_court_numbers() {
        for ok in ["42AB1234520", "T20247001", "case-1.a_b"] {
            assert!(ok.parse::<CaseId>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn case_ids_reject_traversal_and_separators() {
        for bad in ["", "../x", "..", ".hidden", "a/b", "a\\b", "a b", "é", &"x".repeat(65)] {
            let err = bad.parse::<CaseId>().unwrap_err();
            assert!(err.to_string().contains("A-Z a-z 0-9"), "{err}");
        }
    }

    #[test]
    fn exhibit_refs_accept_uk_style_and_encode_slashes() {
        let r: ExhibitRef = "JS/1/A".parse().unwrap();
        assert_eq!(r.key_component(), "JS%2F1%2FA");
        assert!("JS".parse::<ExhibitRef>().is_ok());
    }

    #[test]
    fn exhibit_refs_reject_empty_parts_and_traversal() {
        for bad in ["", "/JS", "JS/", "JS//1", "JS/../1", "JS/.", "J S/1", "a/b/c/d/e/f/g/h/i"] {
            assert!(bad.parse::<ExhibitRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn artefact_ids_are_deterministic_and_distinct() {
        let case: CaseId = "C1".parse().unwrap();
        let ex: ExhibitRef = "JS/1".parse().unwrap();
        let d = Sha256Digest::of(b"hello");
        let a = ArtefactId::derive(&case, &ex, b"/a", &d);
        assert_eq!(a, ArtefactId::derive(&case, &ex, b"/a", &d));
        assert_ne!(a, ArtefactId::derive(&case, &ex, b"/b", &d));
        assert_eq!(a.as_str().parse::<ArtefactId>().unwrap(), a);
        assert!("ABC".parse::<ArtefactId>().is_err());
    }
}
