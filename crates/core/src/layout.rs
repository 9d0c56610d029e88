//! Where things live in the object store. One prefix per case:
//!
//! ```text
//! cases/<case>/objects/sha256/<hex>         content, create-only
//! cases/<case>/artefacts/<artefact-id>.json manifest
//! cases/<case>/ledger/<seq, 20 digits>.json custody entries
//! cases/<case>/anchors/<seq, 20 digits>.tsr RFC 3161 timestamp of entry seq
//! ```
//!
//! `<case>` is the case ID percent-encoded ([`CaseId::key_component`]), so
//! `2024/00123/POL` is the one segment `2024%2F00123%2FPOL`.

use std::fmt;

use crate::digest::Sha256Digest;
use crate::ids::{ArtefactId, CaseId};

/// A validated object-store key: `/`-separated segments of
/// `A-Z a-z 0-9 . _ - %`, none of them `.` or `..`, none empty.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// Validates a key. Returns `None` for anything that could escape a
    /// prefix or a directory.
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let key = key.into();
        let ok = !key.is_empty()
            && key.len() <= 512
            && key.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'%'))
            });
        ok.then_some(Self(key))
    }

    /// The key text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 this key names, if it is a content-addressed object key.
    pub fn content_sha256(&self) -> Option<Sha256Digest> {
        let (dir, hex) = self.0.rsplit_once('/')?;
        dir.ends_with("/objects/sha256").then(|| hex.parse().ok()).flatten()
    }

    fn join(prefix: &str, rest: &str) -> Self {
        // Built only from validated parts, so always valid.
        Self(format!("{prefix}{rest}"))
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The prefix of everything that belongs to `case`, ending in `/`.
pub fn case_prefix(case: &CaseId) -> String {
    format!("cases/{case}/", case = case.key_component())
}

/// The prefix of every content object of `case`.
pub fn objects_prefix(case: &CaseId) -> String {
    format!("cases/{case}/objects/sha256/", case = case.key_component())
}

/// The prefix of every manifest of `case`.
pub fn manifests_prefix(case: &CaseId) -> String {
    format!("cases/{case}/artefacts/", case = case.key_component())
}

/// The prefix of every ledger entry of `case`.
pub fn ledger_prefix(case: &CaseId) -> String {
    format!("cases/{case}/ledger/", case = case.key_component())
}

/// The prefix of every timestamp anchor of `case`.
pub fn anchors_prefix(case: &CaseId) -> String {
    format!("cases/{case}/anchors/", case = case.key_component())
}

/// The key of the RFC 3161 timestamp response over ledger entry `seq`.
pub fn anchor_key(case: &CaseId, seq: u64) -> ObjectKey {
    ObjectKey::join(&anchors_prefix(case), &format!("{seq:020}.tsr"))
}

/// The sequence number in an anchor key's file name, if it is one.
pub fn parse_anchor_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".tsr")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
}

/// The key of the content object with this SHA-256.
pub fn object_key(case: &CaseId, sha256: &Sha256Digest) -> ObjectKey {
    ObjectKey::join(&objects_prefix(case), &sha256.to_hex())
}

/// The key of an artefact's manifest.
pub fn manifest_key(case: &CaseId, id: &ArtefactId) -> ObjectKey {
    ObjectKey::join(&manifests_prefix(case), &format!("{id}.json"))
}

/// The key of ledger entry `seq` (1-based).
pub fn ledger_key(case: &CaseId, seq: u64) -> ObjectKey {
    ObjectKey::join(&ledger_prefix(case), &format!("{seq:020}.json"))
}

/// The sequence number in a ledger key's file name, if it is one.
pub fn parse_ledger_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok())?
}

/// The artefact ID in a manifest key's file name, if it is one.
pub fn parse_manifest_name(name: &str) -> Option<ArtefactId> {
    name.strip_suffix(".json")?.parse().ok()
}

/// The case ID of a top-level `cases/<case>/` key, if it is one (the
/// case's own key component, see [`CaseId::key_component`]).
pub fn parse_case_from_key(key: &str) -> Option<CaseId> {
    CaseId::from_key_component(key.strip_prefix("cases/")?.split('/').next()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_refuse_traversal() {
        for bad in ["", "a//b", "../a", "a/../b", "a/./b", "/a", "a/", "a b", "a\\b"] {
            assert!(ObjectKey::new(bad).is_none(), "{bad}");
        }
        assert!(ObjectKey::new("cases/C1/objects/sha256/ab").is_some());
    }

    #[test]
    fn ledger_names_round_trip() {
        let case: CaseId = "C1".parse().unwrap();
        let key = ledger_key(&case, 42);
        assert_eq!(key.as_str(), "cases/C1/ledger/00000000000000000042.json");
        assert_eq!(parse_ledger_name("00000000000000000042.json"), Some(42));
        assert_eq!(parse_ledger_name("42.json"), None);
        let anchor = anchor_key(&case, 42);
        assert_eq!(anchor.as_str(), "cases/C1/anchors/00000000000000000042.tsr");
        assert_eq!(parse_anchor_name("00000000000000000042.tsr"), Some(42));
        assert_eq!(parse_anchor_name("00000000000000000042.json"), None);
    }

    #[test]
    fn a_case_with_slashes_and_spaces_is_one_key_segment() {
        let case: CaseId = "2024/00123/POL SB".parse().unwrap();
        let key = ledger_key(&case, 1);
        assert_eq!(key.as_str(), "cases/2024%2F00123%2FPOL%20SB/ledger/00000000000000000001.json");
        assert!(ObjectKey::new(key.as_str()).is_some());
        assert_eq!(parse_case_from_key(key.as_str()).map(|c| c.as_str().to_owned()), Some(case.as_str().to_owned()));
        assert_eq!(parse_case_from_key("cases/../x"), None);
        assert_eq!(parse_case_from_key("cases/a%2Fb%2F..%2F/x").map(|c| c.to_string()), None);
    }

    #[test]
    fn object_keys_name_their_content() {
        let case: CaseId = "C1".parse().unwrap();
        let d = Sha256Digest::of(b"x");
        assert_eq!(object_key(&case, &d).content_sha256(), Some(d));
        assert_eq!(ledger_key(&case, 1).content_sha256(), None);
    }
}
