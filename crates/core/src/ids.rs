//! Case IDs, exhibit references and artefact IDs. Each is validated where it
//! enters, so that later code can put it into a key or a path safely.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::digest::Sha256Digest;
use crate::error::IdError;
use crate::id_text::{self, Shape};

const CASE_RULE: &str = "1 to 64 characters: parts separated by '/', each made of A-Z a-z 0-9 . _ - and single spaces, starting with a letter or digit (e.g. 42AB1234520 or 2024/00123/POL)";
const EXHIBIT_RULE: &str = "1 to 8 parts separated by '/', each 1 to 32 characters of A-Z a-z 0-9 . _ - and single spaces, starting with a letter or digit (e.g. JS/1, JS/1/A or SB 1)";
const ARTEFACT_RULE: &str = "32 lowercase hexadecimal digits";
/// Why an ID with white space around it is refused rather than trimmed.
const SPACE_AROUND_RULE: &str = "white space before or after it is refused, not trimmed: IDs and references are stored exactly as typed, so give it without (check the cell or the quotes)";

/// The rule to quote for a refused `typed`: white space around it, else `rule`.
fn broken_rule(typed: &str, rule: &'static str) -> &'static str {
    if typed.trim() != typed { SPACE_AROUND_RULE } else { rule }
}

const CASE_SHAPE: Shape = Shape { max_len: 64, max_parts: 8, max_part_len: 64 };
const EXHIBIT_SHAPE: Shape = Shape { max_len: 8 * 33, max_parts: 8, max_part_len: 32 };

/// Equality, hashing and order by a normalised form, so a reference typed
/// in another case (`js/1` for `JS/1`) names the same thing, while the
/// text is kept exactly as typed.
macro_rules! compared_by_normal_form {
    ($t:ty) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.normalised() == other.normalised()
            }
        }
        impl Eq for $t {}
        impl Hash for $t {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.normalised().hash(state)
            }
        }
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $t {
            fn cmp(&self, other: &Self) -> Ordering {
                self.normalised().cmp(&other.normalised())
            }
        }
    };
}

/// A case reference such as a URN (`42AB1234520`), a court number
/// (`T20247001`) or a crime reference (`2024/00123/POL`). Kept as typed;
/// compared without regard to letter case (leading zeros count: `00123`
/// is a serial's fixed width, not a typing variant).
#[derive(Debug, Clone)]
pub struct CaseId(String);

impl CaseId {
    /// The text as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two case IDs are compared by: ASCII upper case.
    pub fn normalised(&self) -> String {
        id_text::normalise(&self.0, false)
    }

    /// The case as one key or path component: `2024/00123/POL` is
    /// `2024%2F00123%2FPOL`; an ID of letters, digits, `.`, `_` and `-`
    /// (every ID an older release accepted) is unchanged.
    pub fn key_component(&self) -> String {
        id_text::key_component(&self.0)
    }

    /// Why a new case may not take this ID, if it may not: its key
    /// component is a Windows device name or ends with `.` (see
    /// `id_text::non_portable`). Existing cases keep their IDs, so old
    /// ledgers still open and verify.
    pub fn non_portable(&self) -> Option<&'static str> {
        id_text::non_portable(&self.key_component())
    }

    /// The case whose key component this is, if it is one's own encoding.
    pub fn from_key_component(component: &str) -> Option<Self> {
        id_text::from_key_component(component)?.parse().ok()
    }
}
compared_by_normal_form!(CaseId);

impl FromStr for CaseId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if id_text::is_valid(s, &CASE_SHAPE) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError { what: "case ID", value: s.escape_debug().to_string(), rule: broken_rule(s, CASE_RULE) })
        }
    }
}

/// An exhibit reference such as `JS/1`, `JS/1/A` or `SB 1`, unique within
/// a case. Kept as typed; compared without regard to letter case or to
/// leading zeros of a number (`js/01` is `JS/1`).
#[derive(Debug, Clone)]
pub struct ExhibitRef(String);

impl ExhibitRef {
    /// The reference as the officer wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two references are compared by: ASCII upper case, numbers
    /// without leading zeros.
    pub fn normalised(&self) -> String {
        id_text::normalise(&self.0, true)
    }

    /// The reference as one key or path component: `JS/1` becomes `JS%2F1`.
    pub fn key_component(&self) -> String {
        id_text::key_component(&self.0)
    }
}
compared_by_normal_form!(ExhibitRef);

impl FromStr for ExhibitRef {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if id_text::is_valid(s, &EXHIBIT_SHAPE) {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError {
                what: "exhibit reference",
                value: s.escape_debug().to_string(),
                rule: broken_rule(s, EXHIBIT_RULE),
            })
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
        for bad in
            ["", "../x", "..", ".hidden", "a//b", "/a", "a/", "a\\b", " a", "a ", "a  b", "a\tb", "é", &"x".repeat(65)]
        {
            let err = bad.parse::<CaseId>().unwrap_err().to_string();
            let around = bad.trim() != bad;
            assert!(err.contains(if around { "white space before or after" } else { "A-Z a-z 0-9" }), "{err}");
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
        for bad in
            ["", "/JS", "JS/", "JS//1", "JS/../1", "JS/.", "J  S/1", " JS/1", "JS/1 ", "JS/ 1", "a/b/c/d/e/f/g/h/i"]
        {
            assert!(bad.parse::<ExhibitRef>().is_err(), "{bad}");
        }
    }

    /// Refs are stored exactly as typed, so white space around one is
    /// refused, never trimmed, and the message says so (a manifest cell
    /// `" J/13"` and `--exhibit "JS/1 "` alike).
    #[test]
    fn white_space_around_an_id_is_refused_by_name() {
        for typed in [" J/13", "JS/1 ", "\tJS/1", "JS/1\u{a0}"] {
            let err = typed.parse::<ExhibitRef>().unwrap_err().to_string();
            assert!(err.contains("white space before or after it"), "{typed:?}: {err}");
        }
        let err = "2024/00123/POL ".parse::<CaseId>().unwrap_err().to_string();
        assert!(err.contains("white space before or after it"), "{err}");
        let err = "JS//1".parse::<ExhibitRef>().unwrap_err().to_string();
        assert!(!err.contains("white space"), "{err}");
    }

    #[test]
    fn forces_formats_are_kept_as_typed_and_compared_normalised() {
        let crime: CaseId = "2024/00123/pol".parse().unwrap();
        assert_eq!(crime.as_str(), "2024/00123/pol");
        assert_eq!(crime, "2024/00123/POL".parse().unwrap());
        assert_ne!(crime, "2024/123/POL".parse().unwrap(), "a case serial's zeros count");
        assert_eq!(crime.key_component(), "2024%2F00123%2Fpol");
        assert_eq!(CaseId::from_key_component("2024%2F00123%2Fpol").unwrap().as_str(), "2024/00123/pol");
        let sb: ExhibitRef = "SB 1".parse().unwrap();
        assert_eq!((sb.as_str(), sb.key_component().as_str()), ("SB 1", "SB%201"));
        let [a, b, c]: [ExhibitRef; 3] = ["JS/1", "js/1", "JS/01"].map(|s| s.parse().unwrap());
        assert!(a == b && b == c);
        let hashed: std::collections::HashSet<ExhibitRef> = [a, b, c].into_iter().collect();
        assert_eq!(hashed.len(), 1);
        assert_ne!("JS/1".parse::<ExhibitRef>().unwrap(), "JS/1/A".parse().unwrap());
        assert_ne!("SB 1".parse::<ExhibitRef>().unwrap(), "SB1".parse().unwrap());
    }

    #[test]
    fn older_ids_keep_their_keys() {
        for old in ["42AB1234520", "T20247001", "case-1.a_b"] {
            let case: CaseId = old.parse().unwrap();
            assert_eq!(case.key_component(), old);
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
