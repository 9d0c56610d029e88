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

/// What one entry records: one event (every entry before batches, and a
/// lone event still), or a batch of events signed together.
// A single event inline keeps the common reader path free of a box; an
// entry is built once per append or read, so the size difference is moot.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryBody {
    /// One event; its fields are the entry's top-level fields.
    Single(CustodyEvent),
    /// Several events of one case and one signer, in order, with the
    /// SHA-256 of each event's canonical JSON. The list names which event
    /// of a tampered batch was altered, removed or moved.
    Batch {
        /// The events, in the order they happened.
        events: Vec<CustodyEvent>,
        /// SHA-256 of each event's canonical JSON, as signed.
        event_sha256: Vec<Sha256Digest>,
    },
}

/// Top-level field of a batch entry holding its events.
pub const BATCH_FIELD: &str = "batch";
/// Top-level field of a batch entry holding each event's SHA-256.
pub const EVENT_SHA256_FIELD: &str = "event_sha256";

/// One entry of a case's custody ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Position in the ledger, from 1.
    pub seq: u64,
    /// SHA-256 of the previous entry's body; `None` for entry 1.
    pub prev: Option<Sha256Digest>,
    /// What it records.
    pub body: EntryBody,
    /// Armored SSH signature over [`LedgerEntry::body_bytes`].
    pub sig: String,
}

/// SHA-256 of one event's canonical JSON: what a batch entry lists.
pub fn event_sha256(event: &CustodyEvent) -> Result<Sha256Digest, CanonicalError> {
    Ok(Sha256Digest::of(&to_canonical_vec(event)?))
}

impl EntryBody {
    /// A batch of `events` (one or more) with their hashes.
    pub fn batch(events: Vec<CustodyEvent>) -> Result<Self, CanonicalError> {
        let event_sha256 = events.iter().map(event_sha256).collect::<Result<_, _>>()?;
        Ok(Self::Batch { events, event_sha256 })
    }
}

impl LedgerEntry {
    /// The events this entry records, in order.
    pub fn events(&self) -> &[CustodyEvent] {
        match &self.body {
            EntryBody::Single(event) => std::slice::from_ref(event),
            EntryBody::Batch { events, .. } => events,
        }
    }

    /// The events, to change (tests that tamper with entries; a changed
    /// batch keeps the hashes it listed, as a tamperer would leave them).
    pub fn events_mut(&mut self) -> &mut [CustodyEvent] {
        match &mut self.body {
            EntryBody::Single(event) => std::slice::from_mut(event),
            EntryBody::Batch { events, .. } => events,
        }
    }

    /// The first event: its actor's key is the one the entry is signed
    /// with, and its case the entry's case. `None` only for an empty batch,
    /// which never parses.
    pub fn first(&self) -> Option<&CustodyEvent> {
        self.events().first()
    }

    /// The key the entry claims to be signed with (the first event's).
    pub fn signer_key(&self) -> &str {
        self.first().map_or("", |e| e.actor.public_key.as_str())
    }

    /// The time of the entry: its latest event's.
    pub fn at(&self) -> Option<time::OffsetDateTime> {
        self.events().iter().map(|e| e.at).max()
    }

    /// The entry's fields without `sig`, as one JSON object.
    fn body_map(&self) -> Result<Map<String, Value>, CanonicalError> {
        let mut map = match &self.body {
            EntryBody::Single(event) => match serde_json::to_value(event)? {
                Value::Object(map) => map,
                other => Map::from_iter([("event".to_owned(), other)]),
            },
            EntryBody::Batch { events, event_sha256 } => {
                let case = events.first().map_or(Value::Null, |e| Value::String(e.case.to_string()));
                let hashes = event_sha256.iter().map(|h| Value::String(h.to_hex())).collect();
                Map::from_iter([
                    (BATCH_FIELD.to_owned(), serde_json::to_value(events)?),
                    ("case".to_owned(), case),
                    (EVENT_SHA256_FIELD.to_owned(), Value::Array(hashes)),
                ])
            }
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
    /// [`body_of_file`] derives, or parsing fails. A batch whose event
    /// hashes do not match its events still parses, so that verify can
    /// name the event ([`LedgerEntry::batch_faults`]).
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
        let body_kind = if map.contains_key(BATCH_FIELD) { parse_batch(map)? } else { parse_single(map)? };
        let entry = Self { seq, prev, body: body_kind, sig };
        if entry.body_bytes()? != body {
            return Err(EntryError::NonCanonical);
        }
        Ok(entry)
    }

    /// For a batch entry: each event whose place or content no longer
    /// matches the hashes the entry lists. Empty for a single event.
    pub fn batch_faults(&self) -> Vec<BatchFault> {
        match &self.body {
            EntryBody::Single(_) => Vec::new(),
            EntryBody::Batch { events, event_sha256 } => {
                let found: Vec<Option<Sha256Digest>> = events.iter().map(event_sha256_of).collect();
                crate::batch_faults::compare(event_sha256, &found)
            }
        }
    }
}

fn event_sha256_of(event: &CustodyEvent) -> Option<Sha256Digest> {
    event_sha256(event).ok()
}

pub use crate::batch_faults::BatchFault;

fn parse_single(map: Map<String, Value>) -> Result<EntryBody, EntryError> {
    let event = serde_json::from_value(Value::Object(map)).map_err(|e| EntryError::Event(e.to_string()))?;
    Ok(EntryBody::Single(event))
}

fn parse_batch(mut map: Map<String, Value>) -> Result<EntryBody, EntryError> {
    let events: Vec<CustodyEvent> = match map.remove(BATCH_FIELD) {
        Some(value @ Value::Array(_)) => serde_json::from_value(value).map_err(|e| EntryError::Event(e.to_string()))?,
        _ => return Err(EntryError::Field(BATCH_FIELD)),
    };
    let Some(Value::Array(hashes)) = map.remove(EVENT_SHA256_FIELD) else {
        return Err(EntryError::Field(EVENT_SHA256_FIELD));
    };
    let event_sha256 = hashes
        .iter()
        .map(|h| h.as_str().and_then(|s| s.parse().ok()))
        .collect::<Option<Vec<Sha256Digest>>>()
        .ok_or(EntryError::Field(EVENT_SHA256_FIELD))?;
    let case = match map.remove("case") {
        Some(Value::String(case)) => case,
        _ => return Err(EntryError::Field("case")),
    };
    if events.is_empty() {
        return Err(EntryError::Field(BATCH_FIELD));
    }
    if let Some(other) = events.iter().find(|e| e.case.to_string() != case) {
        return Err(EntryError::Event(format!("an event of case {} in a batch of case {case}", other.case)));
    }
    if let Some(field) = map.keys().next() {
        return Err(EntryError::Event(format!("a batch entry holds an unknown field `{field}`")));
    }
    Ok(EntryBody::Batch { events, event_sha256 })
}

/// Every event of `entries` with the sequence number of the entry that
/// holds it, in ledger order (events of one batch share it).
pub fn events_of(entries: &[LedgerEntry]) -> impl Iterator<Item = (u64, &CustodyEvent)> + Clone {
    entries.iter().flat_map(|e| e.events().iter().map(move |event| (e.seq, event)))
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
        let entry = LedgerEntry {
            seq: 2,
            prev: Some(Sha256Digest::of(b"x")),
            body: EntryBody::Single(sample_event()),
            sig: "S".into(),
        };
        let file = entry.file_bytes().unwrap();
        assert_eq!(LedgerEntry::parse(&file).unwrap(), entry);
        assert_eq!(body_of_file(&file).unwrap(), entry.body_bytes().unwrap());
        let body = String::from_utf8(entry.body_bytes().unwrap()).unwrap();
        assert!(body.starts_with(r#"{"action":"accessed","actor":"#), "{body}");
        assert!(body.contains(r#""seq":2"#) && !body.contains("sig"));
    }

    #[test]
    fn first_entry_has_null_prev_and_unknown_fields_are_refused() {
        let entry = LedgerEntry { seq: 1, prev: None, body: EntryBody::Single(sample_event()), sig: "S".into() };
        let file = String::from_utf8(entry.file_bytes().unwrap()).unwrap();
        assert!(file.contains(r#""prev":null"#));
        let extra = file.replacen('{', r#"{"zzz":1,"#, 1);
        assert_eq!(LedgerEntry::parse(extra.as_bytes()), Err(EntryError::NonCanonical));
        assert!(matches!(LedgerEntry::parse(b"[1]"), Err(EntryError::NotObject)));
    }
}
