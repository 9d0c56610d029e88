//! Set records: media made of several originals (an E01 segment set, a cue
//! sheet with its `.bin` files) named as one thing. Planning sees every
//! member; once all are acquired, one `assembled` ledger event records the
//! set, listing its members by artefact ID and SHA-256 in set order. That
//! record, named by the SHA-256 of its canonical JSON, is what explore
//! opens: it reads each member through the store by hash and never looks
//! for siblings among the operator's paths.
//!
//! ```
//! use exhibit_core::set_record::{SetKind, SetMember, SetRecord, SetRole};
//! use exhibit_core::Sha256Digest;
//! let sha256 = Sha256Digest::of(b"segment 1");
//! let case = "C1".parse().unwrap();
//! let artefact = exhibit_core::ArtefactId::derive(&case, &"JS/1".parse().unwrap(), b"x.E01", &sha256);
//! let member = SetMember::new((SetRole::Segment, 1), ("ev/x.E01", b"x.E01"), artefact, sha256, 9);
//! let record = SetRecord::new(SetKind::Ewf, vec![member], Vec::new());
//! assert_eq!(record.head().unwrap().path, "ev/x.E01");
//! assert_eq!(record.sha256().unwrap(), record.sha256().unwrap());
//! ```

use serde::{Deserialize, Serialize};

use crate::canonical::{CanonicalError, to_canonical_vec};
use crate::digest::Sha256Digest;
use crate::ids::ArtefactId;

/// The set-record version this build writes and reads.
pub const SET_RECORD_VERSION: u32 = 1;

/// Which kind of set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetKind {
    /// An EWF (E01) segment set: `.E01`, `.E02`...
    Ewf,
    /// A cue sheet and the binary files its `FILE` lines name.
    CueSheet,
}

impl SetKind {
    /// Its name in messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ewf => "EWF segment set",
            Self::CueSheet => "cue sheet",
        }
    }
}

/// What a member is to its set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SetRole {
    /// An EWF segment; `order` is its segment number.
    Segment,
    /// The cue sheet itself (the set's head).
    Sheet,
    /// A file a cue sheet's `FILE` line names, in the sheet's order.
    TrackFile,
}

/// One member of a set, by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMember {
    /// What it is to the set.
    pub role: SetRole,
    /// Its place: a segment number, or 0 for a sheet and 1.. for its files.
    pub order: u32,
    /// Its source path as acquired (display text, for messages).
    pub path: String,
    /// Its file name's raw bytes, hex: how a cue sheet's `FILE` line names it.
    pub name_hex: String,
    /// The original it was acquired as.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
}

impl SetMember {
    /// A member acquired from `path` (display text) whose file name is
    /// `name` (raw bytes), as `artefact`.
    pub fn new(
        (role, order): (SetRole, u32),
        (path, name): (&str, &[u8]),
        artefact: ArtefactId,
        sha256: Sha256Digest,
        size: u64,
    ) -> Self {
        Self { role, order, path: path.to_owned(), name_hex: hex::encode(name), artefact, sha256, size }
    }

    /// The file name's raw bytes; `None` if the record's hex is damaged.
    pub fn name_bytes(&self) -> Option<Vec<u8>> {
        hex::decode(&self.name_hex).ok()
    }
}

/// A set: its members in set order (the head first), and the members
/// planning expected that were not acquired (by path), so explore
/// reads it as truncated evidence and says which are missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRecord {
    /// [`SET_RECORD_VERSION`].
    pub v: u32,
    /// Which kind of set.
    pub kind: SetKind,
    /// The members acquired, head first, in set order.
    pub members: Vec<SetMember>,
    /// Paths (display text) of members that were planned but not acquired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl SetRecord {
    /// A record of the current version.
    pub fn new(kind: SetKind, members: Vec<SetMember>, missing: Vec<String>) -> Self {
        Self { v: SET_RECORD_VERSION, kind, members, missing }
    }

    /// The member that heads the set (the `.E01`, the cue sheet).
    pub fn head(&self) -> Option<&SetMember> {
        self.members.first()
    }

    /// The record's identity: the SHA-256 of its canonical JSON.
    pub fn sha256(&self) -> Result<Sha256Digest, CanonicalError> {
        Ok(Sha256Digest::of(&to_canonical_vec(self)?))
    }

    /// The members after the head.
    pub fn others(&self) -> &[SetMember] {
        self.members.get(1..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &[u8], order: u32) -> SetMember {
        let sha256 = Sha256Digest::of(name);
        let case = "C1".parse().unwrap();
        let id = ArtefactId::derive(&case, &"JS/1".parse().unwrap(), name, &sha256);
        SetMember::new((SetRole::Segment, order), (&String::from_utf8_lossy(name), name), id, sha256, 7)
    }

    #[test]
    fn the_identity_depends_on_every_member_and_its_order() {
        let a = SetRecord::new(SetKind::Ewf, vec![member(b"x.E01", 1), member(b"x.E02", 2)], Vec::new());
        let b = SetRecord::new(SetKind::Ewf, vec![member(b"x.E02", 2), member(b"x.E01", 1)], Vec::new());
        let c = SetRecord::new(SetKind::Ewf, vec![member(b"x.E01", 1)], vec!["x.E02".into()]);
        let ids = [a.sha256().unwrap(), b.sha256().unwrap(), c.sha256().unwrap()];
        assert!(ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2]);
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<SetRecord>(&text).unwrap(), a, "reads back equal");
    }

    #[test]
    fn a_name_that_is_not_utf8_keeps_its_bytes() {
        let m = member(b"disc\xff.bin", 1);
        assert_eq!(m.name_bytes().unwrap(), b"disc\xff.bin");
        assert_eq!(m.path, "disc\u{fffd}.bin");
    }
}
