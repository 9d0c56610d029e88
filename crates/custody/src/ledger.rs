//! Appending to a case's ledger, and reading it back.
//!
//! Appends from one [`Ledger`] are serialised by a mutex around the cached
//! head. Separate instances and processes coordinate only through
//! create-only puts: each writes `head + 1`; the loser of a race reads the
//! winner's entry, links to it, re-signs and tries the next number. So the
//! ledger never forks and never has a gap.

use std::io::Cursor;
use std::sync::Arc;

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::{ObjectKey, ledger_key, ledger_prefix, parse_ledger_name};
use exhibit_core::params::{EventParams, KeyAddedParams};
use exhibit_store::{ObjectMeta, ObjectStore, StoreError, StoreErrorKind, read_small};
use time::OffsetDateTime;
use tokio::sync::Mutex;
use tracing::{debug, info, instrument};

use crate::entry::{EntryBody, EntryError, LedgerEntry, body_of_file};
use crate::error::{CustodyError, Result};
use crate::signer::{Signer, normalise_public_key, verify_signature};

/// Largest ledger entry file read, in bytes.
pub const ENTRY_LIMIT: u64 = 1 << 20;

/// Largest canonical size of the events one batch entry holds, in bytes:
/// half of [`ENTRY_LIMIT`], so the hashes and signature always fit.
pub const BATCH_BYTES: usize = 512 << 10;

/// Most events one batch entry holds.
pub const BATCH_EVENTS: usize = 1024;

/// How many lost races one append tolerates before giving up.
const MAX_TRIES: u32 = 10_000;

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendedEntry {
    /// Its sequence number.
    pub seq: u64,
    /// SHA-256 of its body (what the next entry's `prev` will hold).
    pub body_sha256: Sha256Digest,
}

/// One ledger file as read from the store.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// The sequence number in the file's name.
    pub seq: u64,
    /// The file's key.
    pub key: ObjectKey,
    /// Its bytes (empty when it was too large to read).
    pub bytes: Vec<u8>,
    /// The parsed entry, or why it is not one.
    pub parsed: Result<LedgerEntry, EntryError>,
}

/// The last entry this instance knows of.
#[derive(Debug)]
pub(crate) struct Head {
    pub(crate) seq: u64,
    hash: Option<Sha256Digest>,
    pub(crate) key_recorded: bool,
}

/// An open ledger of one case, signing with one key.
#[derive(Debug)]
pub struct Ledger {
    pub(crate) store: Arc<dyn ObjectStore>,
    case: CaseId,
    signer: Arc<Signer>,
    key: String,
    pub(crate) head: Mutex<Head>,
}

impl Ledger {
    /// Opens the ledger of `case`: finds the head entry, and whether the
    /// signer's public key is already recorded in a `key-added` entry.
    #[instrument(skip(store, signer), fields(case = %case))]
    pub async fn open(store: Arc<dyn ObjectStore>, case: CaseId, signer: Arc<Signer>) -> Result<Ledger> {
        let entries = read_entries(store.as_ref(), &case).await?;
        Self::open_read(store, case, signer, &entries)
    }

    /// Opens the ledger of `case` from its files as already read (a
    /// [`LedgerSnapshot`]'s entries), so a command that also checks the
    /// chain reads the ledger once. The head is the last of `entries`.
    pub fn open_read(
        store: Arc<dyn ObjectStore>,
        case: CaseId,
        signer: Arc<Signer>,
        entries: &[StoredEntry],
    ) -> Result<Ledger> {
        let key = signer.public_key_openssh();
        let mut head = Head { seq: 0, hash: None, key_recorded: false };
        for stored in entries {
            if let Ok(entry) = &stored.parsed {
                head.key_recorded |= records_key(entry, &key);
            }
        }
        if let Some(last) = entries.last() {
            head.seq = last.seq;
            head.hash = Some(link_hash(&case, last.seq, &last.bytes, last.parsed.as_ref().err())?);
        }
        info!(head = head.seq, key_recorded = head.key_recorded, "opened ledger");
        Ok(Ledger { store, case, signer, key, head: Mutex::new(head) })
    }

    /// The case this ledger belongs to.
    pub fn case(&self) -> &CaseId {
        &self.case
    }

    /// The signer entries are signed with.
    pub fn signer(&self) -> &Arc<Signer> {
        &self.signer
    }

    /// The sequence number of the last entry this instance knows of.
    pub async fn head_seq(&self) -> u64 {
        self.head.lock().await.seq
    }

    /// Whether appending would add this signer's key to a case that already
    /// has entries: no `key-added` entry records it yet.
    pub async fn would_add_key(&self) -> bool {
        let head = self.head.lock().await;
        head.seq > 0 && !head.key_recorded
    }

    /// Key rotation: records `new_key` (an OpenSSH public key line) in a
    /// `key-added` entry signed by this ledger's key, so a verifier that
    /// trusts this key trusts the new one from here on. `template` supplies
    /// the actor and tool, as for [`Ledger::append`].
    #[instrument(skip_all, fields(case = %self.case))]
    pub async fn introduce_key(&self, new_key: &str, template: &CustodyEvent) -> Result<AppendedEntry> {
        self.check(template)?;
        let Some(new_key) = normalise_public_key(new_key) else {
            return Err(CustodyError::InvalidPublicKey(new_key.chars().take(200).collect()));
        };
        let mut head = self.head.lock().await;
        self.record_key(&mut head, template).await?;
        let mut event = self.key_added_event(template);
        event.set_params(EventParams::KeyAdded(KeyAddedParams { public_key: Some(new_key.clone()) }));
        let added = self.write(&mut head, &event, false).await?;
        info!(seq = added.seq, key = %new_key, "introduced a key signed by this ledger's key");
        Ok(added)
    }

    /// Appends `event`, signed. `event.actor.public_key` must be the
    /// signer's key. The first append with a key new to this ledger first
    /// records the key in a `key-added` entry.
    #[instrument(skip_all, fields(case = %self.case, action = ?event.action))]
    pub async fn append(&self, event: CustodyEvent) -> Result<AppendedEntry> {
        self.check(&event)?;
        let mut head = self.head.lock().await;
        self.record_key(&mut head, &event).await?;
        self.write(&mut head, &event, false).await
    }

    /// Appends `events` in order as batch entries, each signed once and
    /// written with one durable put (see [`BATCH_BYTES`]). Returns where
    /// each landed; events of one entry share its place.
    #[instrument(skip_all, fields(case = %self.case, events = events.len()))]
    pub async fn append_batch(&self, events: &[CustodyEvent]) -> Result<Vec<AppendedEntry>> {
        for event in events {
            self.check(event)?;
        }
        let Some(first) = events.first() else { return Ok(Vec::new()) };
        let mut head = self.head.lock().await;
        self.record_key(&mut head, first).await?;
        let mut out = Vec::with_capacity(events.len());
        for attempt in 0..MAX_TRIES {
            let rest = &events[out.len()..];
            if rest.is_empty() {
                return Ok(out);
            }
            let published = self.write_batch(&mut head, rest).await?;
            debug!(published = published.len(), of = rest.len(), attempt, "appended a batch");
            let lost_race = published.len() < rest.len();
            out.extend(published);
            if lost_race {
                self.catch_up(&mut head).await?;
            }
        }
        Err(CustodyError::Conflict { case: self.case.to_string(), tries: MAX_TRIES })
    }

    /// Writes `events` after `head` as batch entries, each signed once
    /// and put durably, up to the first sequence number another writer
    /// took. Returns where each published event landed (events of one
    /// entry share it), in order.
    pub(crate) async fn write_batch(&self, head: &mut Head, events: &[CustodyEvent]) -> Result<Vec<AppendedEntry>> {
        let mut out = Vec::with_capacity(events.len());
        for chunk in batch_chunks(events)? {
            let body =
                if chunk.len() == 1 { EntryBody::Single(chunk[0].clone()) } else { EntryBody::batch(chunk.to_vec())? };
            let Some(appended) = self.try_write_entry(head, body).await? else { break };
            out.extend(std::iter::repeat_n(appended, chunk.len()));
        }
        Ok(out)
    }
    /// Refuses an event for another case or signed with another key.
    pub(crate) fn check(&self, event: &CustodyEvent) -> Result<()> {
        if event.case != self.case {
            return Err(CustodyError::WrongCase {
                event_case: event.case.to_string(),
                ledger_case: self.case.to_string(),
            });
        }
        if normalise_public_key(&event.actor.public_key).as_deref() != Some(self.key.as_str()) {
            return Err(CustodyError::WrongKey {
                event_key: event.actor.public_key.clone(),
                signer_key: self.key.clone(),
            });
        }
        Ok(())
    }

    /// The first append with a key new to this ledger first records the
    /// key in a `key-added` entry.
    pub(crate) async fn record_key(&self, head: &mut Head, event: &CustodyEvent) -> Result<()> {
        if !head.key_recorded {
            let added = self.write(head, &self.key_added_event(event), true).await?;
            info!(seq = added.seq, key = %self.key, "recorded signing key in the ledger");
            head.key_recorded = true;
        }
        Ok(())
    }

    /// The `key-added` event recorded before `event`: no later than it
    /// (so times do not run backwards along the chain), by the key's holder
    /// where one is named (a server), else by `event`'s operator.
    pub(crate) fn key_added_event(&self, event: &CustodyEvent) -> CustodyEvent {
        let mut actor = event.actor.clone();
        if let Some(holder) = self.signer.holder() {
            holder.clone_into(&mut actor.operator);
        }
        CustodyEvent {
            at: OffsetDateTime::now_utc().min(event.at),
            case: self.case.clone(),
            exhibit: None,
            action: Action::KeyAdded,
            artefact: None,
            inputs: Vec::new(),
            tool: event.tool.clone(),
            params: EventParams::KeyAdded(KeyAddedParams { public_key: Some(self.key.clone()) }).to_map(),
            actor,
            outcome: Outcome::Ok,
        }
    }

    /// Writes `event` at the first free sequence number after `head`.
    /// With `key_added`, stops early if another writer records this key.
    async fn write(&self, head: &mut Head, event: &CustodyEvent, key_added: bool) -> Result<AppendedEntry> {
        for attempt in 0..MAX_TRIES {
            if let Some(appended) = self.try_write_one(head, event).await? {
                debug!(seq = appended.seq, attempt, "appended");
                return Ok(appended);
            }
            debug!(seq = head.seq + 1, attempt, "lost the race for this entry; catching up");
            if let Some(found) = self.catch_up(head).await? {
                if key_added {
                    return Ok(found);
                }
            }
        }
        Err(CustodyError::Conflict { case: self.case.to_string(), tries: MAX_TRIES })
    }

    /// Writes `event` at `head + 1` with one durable put, or returns `None`
    /// when another writer took that number first.
    pub(crate) async fn try_write_one(&self, head: &mut Head, event: &CustodyEvent) -> Result<Option<AppendedEntry>> {
        self.try_write_entry(head, EntryBody::Single(event.clone())).await
    }

    /// Signs `body` as entry `head + 1` and puts it durably, or returns
    /// `None` when another writer took that number first.
    async fn try_write_entry(&self, head: &mut Head, body: EntryBody) -> Result<Option<AppendedEntry>> {
        let seq = head.seq + 1;
        let mut entry = LedgerEntry { seq, prev: head.hash, body, sig: String::new() };
        let body = entry.body_bytes()?;
        entry.sig = self.signer.sign(&body)?;
        let file = entry.file_bytes()?;
        let key = ledger_key(&self.case, seq);
        match self.store.put_new(&key, Box::new(Cursor::new(file)), HashSelection::SHA256_ONLY).await {
            Ok(_) => {
                let body_sha256 = Sha256Digest::of(&body);
                head.seq = seq;
                head.hash = Some(body_sha256);
                Ok(Some(AppendedEntry { seq, body_sha256 }))
            }
            Err(e) if e.kind() == StoreErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Advances `head` over every entry other writers have added. Returns
    /// the entry that records this signer's key, if one was passed.
    async fn catch_up(&self, head: &mut Head) -> Result<Option<AppendedEntry>> {
        self.catch_up_seeing(head, &mut |_| {}).await
    }

    /// As [`Ledger::catch_up`], handing each entry read to `seen`.
    pub(crate) async fn catch_up_seeing(
        &self,
        head: &mut Head,
        seen: &mut (dyn FnMut(&CustodyEvent) + Send),
    ) -> Result<Option<AppendedEntry>> {
        let mut found = None;
        loop {
            let seq = head.seq + 1;
            let bytes = match read_small(self.store.as_ref(), &ledger_key(&self.case, seq), ENTRY_LIMIT).await {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(found),
                Err(e) => return Err(e.into()),
            };
            let parsed = LedgerEntry::parse(&bytes);
            let hash = link_hash(&self.case, seq, &bytes, parsed.as_ref().err())?;
            head.seq = seq;
            head.hash = Some(hash);
            let Ok(entry) = parsed else { continue };
            for event in entry.events() {
                seen(event);
            }
            if records_key(&entry, &self.key) {
                head.key_recorded = true;
                found = Some(AppendedEntry { seq, body_sha256: hash });
            }
        }
    }
}

/// Splits `events` into runs that each fit one batch entry: at most
/// [`BATCH_EVENTS`] events and [`BATCH_BYTES`] of canonical JSON (a lone
/// event bigger than that still gets an entry of its own).
fn batch_chunks(events: &[CustodyEvent]) -> Result<Vec<&[CustodyEvent]>> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, event) in events.iter().enumerate() {
        let size = exhibit_core::canonical::to_canonical_vec(event)?.len() + 80;
        if i > start && (bytes + size > BATCH_BYTES || i - start >= BATCH_EVENTS) {
            chunks.push(&events[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        chunks.push(&events[start..]);
    }
    Ok(chunks)
}

/// The hash a new entry links to: that of the body derived from `bytes`.
/// An entry that is not even a JSON object cannot be linked to.
fn link_hash(case: &CaseId, seq: u64, bytes: &[u8], parse_error: Option<&EntryError>) -> Result<Sha256Digest> {
    match body_of_file(bytes) {
        Ok(body) => Ok(Sha256Digest::of(&body)),
        Err(e) => {
            Err(CustodyError::DamagedEntry { case: case.to_string(), seq, source: parse_error.cloned().unwrap_or(e) })
        }
    }
}

/// Whether `entry` is a validly signed `key-added` entry for `key`, signed
/// by that key or (rotation) by another key. Whether the signer is trusted
/// is verify's question, not the appender's.
fn records_key(entry: &LedgerEntry, key: &str) -> bool {
    let adds = |event: &CustodyEvent| {
        let added = added_key(event).as_deref().and_then(normalise_public_key);
        event.action == Action::KeyAdded && added.as_deref() == Some(key)
    };
    entry.events().iter().any(adds)
        && entry.body_bytes().is_ok_and(|body| verify_signature(entry.signer_key(), &body, &entry.sig))
}

/// The key a `key-added` event introduces, read through its typed params.
pub(crate) fn added_key(event: &CustodyEvent) -> Option<String> {
    match event.typed_params() {
        Ok(EventParams::KeyAdded(p)) => p.public_key,
        _ => None,
    }
}

/// Every ledger file of `case` in sequence order, each with its raw bytes
/// and its parse result. One damaged file does not fail the read.
#[instrument(skip(store), fields(case = %case))]
pub async fn read_entries(store: &dyn ObjectStore, case: &CaseId) -> Result<Vec<StoredEntry>> {
    let (files, _unexpected) = list_ledger(store, case).await?;
    read_listed(store, files).await
}

/// Every file under a case's ledger prefix, read once: the entries (as
/// [`read_entries`]) and any key that is not a ledger file name. Opening
/// the ledger ([`Ledger::open_read`]), checking the chain
/// ([`crate::check_read_ledger`]) and verifying ([`crate::verify_read_case`])
/// all work from one snapshot, so a command reads the ledger once.
#[derive(Debug, Clone)]
pub struct LedgerSnapshot {
    /// The ledger files, in sequence order.
    pub entries: Vec<StoredEntry>,
    /// Keys under the ledger prefix that are not ledger file names.
    pub unexpected: Vec<ObjectKey>,
}

impl LedgerSnapshot {
    /// Lists and reads every ledger file of `case`.
    #[instrument(skip(store), fields(case = %case))]
    pub async fn read(store: &dyn ObjectStore, case: &CaseId) -> Result<Self> {
        let (files, unexpected) = list_ledger(store, case).await?;
        Ok(Self { entries: read_listed(store, files).await?, unexpected })
    }

    /// The parsed entries' events with their sequence numbers, in ledger
    /// order, skipping files that do not parse (verify reports those).
    pub fn events(&self) -> impl Iterator<Item = (u64, &CustodyEvent)> {
        self.entries
            .iter()
            .filter_map(|e| e.parsed.as_ref().ok())
            .flat_map(|entry| entry.events().iter().map(move |event| (entry.seq, event)))
    }
}

/// Reads and parses listed ledger files.
pub(crate) async fn read_listed(store: &dyn ObjectStore, files: Vec<(u64, ObjectMeta)>) -> Result<Vec<StoredEntry>> {
    let mut out = Vec::with_capacity(files.len());
    for (seq, meta) in files {
        let (bytes, parsed) = if meta.size > ENTRY_LIMIT {
            (Vec::new(), Err(EntryError::TooLarge { size: meta.size, limit: ENTRY_LIMIT }))
        } else {
            match read_small(store, &meta.key, ENTRY_LIMIT).await {
                Ok(bytes) => {
                    let parsed = LedgerEntry::parse(&bytes);
                    (bytes, parsed)
                }
                // Not a regular file (a FIFO), or over the limit since listed.
                Err(e) if matches!(e.kind(), StoreErrorKind::Corrupt | StoreErrorKind::TooLarge) => {
                    (Vec::new(), Err(EntryError::Unreadable(e.to_string())))
                }
                Err(e) => return Err(e.into()),
            }
        };
        out.push(StoredEntry { seq, key: meta.key, bytes, parsed });
    }
    Ok(out)
}

/// The ledger files of `case` by sequence number, and any other keys found
/// under the ledger prefix.
pub(crate) async fn list_ledger(
    store: &dyn ObjectStore,
    case: &CaseId,
) -> Result<(Vec<(u64, ObjectMeta)>, Vec<ObjectKey>), StoreError> {
    let prefix = ledger_prefix(case);
    let mut files = Vec::new();
    let mut unexpected = Vec::new();
    for meta in store.list(&prefix).await? {
        let name = meta.key.as_str().strip_prefix(prefix.as_str()).unwrap_or_default();
        match parse_ledger_name(name).filter(|seq| *seq >= 1) {
            Some(seq) => files.push((seq, meta)),
            None => unexpected.push(meta.key),
        }
    }
    files.sort_by_key(|(seq, _)| *seq);
    Ok((files, unexpected))
}
