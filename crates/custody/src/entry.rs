//! One ledger entry: a custody event with its place in the chain (`seq`,
//! `prev`) and its signature (`sig`), all in one flat JSON object.
//!
//! The signed *body* is the canonical JSON of everything but `sig`. The
//! stored *file* is the canonical JSON of the body's fields plus `sig`.

use exhibit_core::Sha256Digest;
use exhibit_core::canonical::{CanonicalError, to_canonical_vec};
use exhibit_core::event::CustodyEvent;
use serde_json::{Map, Value};
use thiserror::Error;

/// Why stored bytes are not a valid ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EntryError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    Json(String),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// A chaining field is missing or has the wrong type.
    #[error("field `{0}` is missing or invalid")]
    Field(&'static str),
    /// The event fields do not form a custody event.
    #[error("not a custody event: {0}")]
    Event(String),
    /// Parsing and re-encoding changes the body: unknown fields, or values
    /// in a form this version never writes.
    #[error("holds fields or value forms this version does not write")]
    NonCanonical,
    /// A value has no canonical form (e.g. a float).
    #[error("{0}")]
    Canonical(String),
    /// The file cannot be read as an entry (e.g. it is a FIFO).
    #[error("cannot be read: {0}")]
    Unreadable(String),
    /// Bigger than any entry exhibit writes.
    #[error("{size} bytes, more than the {limit}-byte limit for an entry")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

impl From<CanonicalError> for EntryError {
    fn from(e: CanonicalError) -> Self {
        Self::Canonical(e.to_string())
    }
}

/// One entry of a case's custody ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Position in the ledger, from 1.
    pub seq: u64,
    /// SHA-256 of the previous entry's body; `None` for entry 1.
    pub prev: Option<Sha256Digest>,
    /// What happened.
    pub event: CustodyEvent,
    /// Armored SSH signature over [`LedgerEntry::body_bytes`].
    pub sig: String,
}

impl LedgerEntry {
    /// The event's fields plus `seq` and `prev`, as one JSON object.
    fn body_map(&self) -> Result<Map<String, Value>, CanonicalError> {
        let mut map = match serde_json::to_value(&self.event)? {
            Value::Object(map) => map,
            other => Map::from_iter([("event".to_owned(), other)]),
        };
        map.insert("seq".to_owned(), Value::from(self.seq));
        map.insert("prev".to_owned(), self.prev.map_or(Value::Null, |p| Value::String(p.to_hex())));
        Ok(map)
    }

    /// The signed bytes: canonical JSON of the body.
    pub fn body_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        to_canonical_vec(&self.body_map()?)
    }

    /// SHA-256 of the body: what the next entry's `prev` holds.
    pub fn body_sha256(&self) -> Result<Sha256Digest, CanonicalError> {
        Ok(Sha256Digest::of(&self.body_bytes()?))
    }

    /// The stored bytes: canonical JSON of the body plus `sig`.
    pub fn file_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        let mut map = self.body_map()?;
        map.insert("sig".to_owned(), Value::String(self.sig.clone()));
        to_canonical_vec(&map)
    }

    /// Parses stored bytes. The result re-encodes to exactly the body that
    /// [`body_of_file`] derives, or parsing fails.
    pub fn parse(file: &[u8]) -> Result<Self, EntryError> {
        let mut map = file_object(file)?;
        let sig = match map.remove("sig") {
            Some(Value::String(s)) => s,
            _ => return Err(EntryError::Field("sig")),
        };
        let body = to_canonical_vec(&map)?;
        let seq = map.remove("seq").and_then(|v| v.as_u64()).filter(|s| *s >= 1).ok_or(EntryError::Field("seq"))?;
        let prev = match map.remove("prev") {
            Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.parse().map_err(|_| EntryError::Field("prev"))?),
            _ => return Err(EntryError::Field("prev")),
        };
        let event: CustodyEvent =
            serde_json::from_value(Value::Object(map)).map_err(|e| EntryError::Event(e.to_string()))?;
        let entry = Self { seq, prev, event, sig };
        if entry.body_bytes()? != body {
            return Err(EntryError::NonCanonical);
        }
        Ok(entry)
    }
}

/// The body a third party derives from stored bytes: parse, drop `sig`,
/// re-canonicalise. Works on any JSON object, valid entry or not.
pub fn body_of_file(file: &[u8]) -> Result<Vec<u8>, EntryError> {
    let mut map = file_object(file)?;
    map.remove("sig");
    Ok(to_canonical_vec(&map)?)
}

fn file_object(file: &[u8]) -> Result<Map<String, Value>, EntryError> {
    match serde_json::from_slice(file) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(EntryError::NotObject),
        Err(e) => Err(EntryError::Json(e.to_string())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use exhibit_core::event::{Action, Actor, Outcome};
    use exhibit_core::manifest::ToolInfo;
    use time::macros::datetime;

    pub(crate) fn sample_event() -> CustodyEvent {
        CustodyEvent {
            at: datetime!(2024-05-01 12:00:00 UTC),
            case: "C1".parse().unwrap(),
            exhibit: Some("JS/1".parse().unwrap()),
            action: Action::Accessed,
            artefact: None,
            inputs: vec![],
            tool: ToolInfo::exhibit("test"),
            params: Map::from_iter([("n".to_owned(), Value::from(3))]),
            actor: Actor {
                operator: "Fé".to_owned(),
                host: "h".to_owned(),
                process: 1,
                public_key: "ssh-ed25519 AAAA exhibit".to_owned(),
            },
            outcome: Outcome::Ok,
        }
    }

    #[test]
    fn file_round_trips_and_body_drops_sig() {
        let entry = LedgerEntry { seq: 2, prev: Some(Sha256Digest::of(b"x")), event: sample_event(), sig: "S".into() };
        let file = entry.file_bytes().unwrap();
        assert_eq!(LedgerEntry::parse(&file).unwrap(), entry);
        assert_eq!(body_of_file(&file).unwrap(), entry.body_bytes().unwrap());
        let body = String::from_utf8(entry.body_bytes().unwrap()).unwrap();
        assert!(body.starts_with(r#"{"action":"accessed","actor":"#), "{body}");
        assert!(body.contains(r#""seq":2"#) && !body.contains("sig"));
    }

    #[test]
    fn first_entry_has_null_prev_and_unknown_fields_are_refused() {
        let entry = LedgerEntry { seq: 1, prev: None, event: sample_event(), sig: "S".into() };
        let file = String::from_utf8(entry.file_bytes().unwrap()).unwrap();
        assert!(file.contains(r#""prev":null"#));
        let extra = file.replacen('{', r#"{"zzz":1,"#, 1);
        assert_eq!(LedgerEntry::parse(extra.as_bytes()), Err(EntryError::NonCanonical));
        assert!(matches!(LedgerEntry::parse(b"[1]"), Err(EntryError::NotObject)));
    }
}
