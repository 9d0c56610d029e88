//! What the ledger already records for a case, so stages can skip work that
//! is done. Built from the ledger when a run starts, then kept current from
//! the ledger itself: every guarded append first reads the entries other
//! workers and processes added (see `StageContext::record_batch`).

use std::collections::{HashMap, HashSet};

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::{ArtefactId, ExhibitRef};
use exhibit_core::params::{AssembledParams, EventParams, IdentifiedParams};
use exhibit_core::set_record::SetRecord;
use exhibit_queue::JobId;

/// Parameter naming the job an event completed.
pub const PARAM_JOB_ID: &str = "job_id";
/// Parameter naming the source a stage read (path, size and mtime).
pub const PARAM_SOURCE_KEY: &str = "source_key";

/// An original already acquired from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    /// The artefact it became.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size.
    pub size: u64,
    /// What the acquiring stage recorded about the source (`facts`), kept as
    /// compact JSON text: a parsed tree per file would make memory grow far
    /// faster than the ledger.
    pub facts: std::sync::Arc<str>,
}

/// Completed work in one case, from successful ledger events.
#[derive(Debug, Default)]
pub struct CaseIndex {
    jobs_done: HashSet<JobId>,
    recorded: HashSet<Sha256Digest>,
    artefact_actions: HashSet<(ArtefactId, Action)>,
    sources: HashMap<(ExhibitRef, String), SourceRecord>,
    acquired: HashMap<ArtefactId, SourceRecord>,
    originals: HashMap<ExhibitRef, Vec<(Vec<u8>, SourceRecord)>>,
    media_types: HashMap<ArtefactId, String>,
    /// When each artefact was first recorded: the fixed date its
    /// derivatives carry, so a rerun derives the same bytes.
    first_recorded: HashMap<ArtefactId, time::OffsetDateTime>,
    /// The OCR switch of each exhibit an item manifest described.
    ocr_settings: HashMap<ExhibitRef, Option<bool>>,
    /// Where each exhibit's description came from: `item manifest
    /// items.csv line 2` (the file's name when the ledger records it).
    described_by: HashMap<ExhibitRef, String>,
    /// Jobs that failed (and none has completed since).
    jobs_failed: HashSet<JobId>,
    /// The settings of each job's latest evidence fault (`None`: recorded
    /// without them).
    faults: HashMap<JobId, Option<String>>,
    /// Sets recorded by `assembled` events, by the SHA-256 of their record.
    sets: HashMap<Sha256Digest, SetRecord>,
}

/// An OCR skip or "not OCRed" recorded before the selection settings were
/// recorded with it: it names the OCR job itself, under settings no longer
/// known, so it does not count as done and a run decides again (once: it
/// records the decision with its settings).
fn legacy_ocr_skip(params: &EventParams) -> bool {
    matches!(params, EventParams::Ocr(p) if (p.skipped.is_some() || p.not_ocred.is_some()) && p.selection.is_none())
}

impl SourceRecord {
    /// The recorded facts, parsed as `T`.
    pub fn facts<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.facts).ok()
    }
}

impl CaseIndex {
    /// Builds the index from every event in the ledger.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a CustodyEvent>) -> Self {
        let mut index = Self::default();
        for event in events {
            index.note(event);
        }
        index
    }

    /// Records one more event. Failed events are ignored: that work is not
    /// done and may be tried again.
    pub fn note(&mut self, event: &CustodyEvent) {
        if let Some(key) = crate::record_key::record_key(event) {
            self.recorded.insert(key);
        }
        // Params a newer release wrote, or that do not fit their schema,
        // place nothing this build can use.
        let Ok(params) = event.typed_params() else { return };
        if event.outcome != Outcome::Ok {
            if let Some(job) = params.job_id() {
                self.jobs_failed.insert(JobId(job.to_owned()));
                if let EventParams::Failed(failed) = &params
                    && failed.fault.is_some()
                {
                    self.faults.insert(JobId(job.to_owned()), failed.settings.clone());
                }
            }
            return;
        }
        if let Some(job) = params.job_id().filter(|_| !legacy_ocr_skip(&params)) {
            self.jobs_done.insert(JobId(job.to_owned()));
        }
        if let EventParams::Assembled(AssembledParams { set: Some(set), .. }) = &params {
            // Keyed by what the record hashes to, not by what the event says.
            if let Ok(sha256) = set.sha256() {
                self.sets.insert(sha256, set.clone());
            }
        }
        if let (EventParams::Described(described), Some(exhibit)) = (&params, &event.exhibit) {
            // The latest description counts: a corrected manifest row
            // records a new one.
            self.ocr_settings.insert(exhibit.clone(), described.item_record().and_then(|i| i.ocr));
            let manifest = described.manifest.as_ref();
            let part = |key: &str| manifest.and_then(|m| m[key].as_str()).filter(|s| !s.is_empty());
            let origin = match (part("file"), part("row")) {
                (Some(file), Some(row)) => format!("item manifest {file} {row}"),
                (None, Some(row)) => format!("item manifest {row}"),
                _ => "item manifest".to_owned(),
            };
            self.described_by.insert(exhibit.clone(), origin);
        }
        let Some(artefact) = &event.artefact else { return };
        let Some(id) = &artefact.id else { return };
        self.artefact_actions.insert((id.clone(), event.action));
        self.first_recorded.entry(id.clone()).or_insert(event.at);
        if let EventParams::Identified(IdentifiedParams { media_type: Some(mime), .. }) = &params {
            self.media_types.insert(id.clone(), mime.clone());
        }
        let (Some(source), Some(exhibit)) = (params.source_key(), &event.exhibit) else { return };
        let facts_value = match &params {
            EventParams::Acquired(p) => p.facts.as_ref(),
            EventParams::Extracted(p) => p.facts.as_ref(),
            _ => None,
        };
        let facts = facts_value.map(|f| f.to_string()).unwrap_or_default().into();
        let record = SourceRecord { artefact: id.clone(), sha256: artefact.sha256, size: artefact.size, facts };
        if let EventParams::Acquired(acquired) = &params {
            self.acquired.entry(id.clone()).or_insert_with(|| record.clone());
            if let Some(path) = acquired.source_path_bytes() {
                self.originals.entry(exhibit.clone()).or_default().push((path, record.clone()));
            }
        }
        self.sources.insert((exhibit.clone(), source.to_owned()), record);
    }

    /// Whether an event recording the same fact as `event` is noted (see
    /// [`record_key`](crate::record_key::record_key)).
    pub fn records(&self, event: &CustodyEvent) -> bool {
        crate::record_key::record_key(event).is_some_and(|key| self.recorded.contains(&key))
    }

    /// When `artefact` was first recorded, if it is.
    pub fn first_recorded(&self, artefact: &ArtefactId) -> Option<time::OffsetDateTime> {
        self.first_recorded.get(artefact).copied()
    }

    /// Whether a job with this ID has completed.
    pub fn job_done(&self, job: &JobId) -> bool {
        self.jobs_done.contains(job)
    }

    /// Whether a job with this ID failed (a `failed` event names it).
    pub fn job_failed(&self, job: &JobId) -> bool {
        self.jobs_failed.contains(job)
    }

    /// Whether the job failed with an evidence fault under `settings` and
    /// has not completed since: a rerun under them fails the same way.
    pub fn fault_stands(&self, job: &JobId, settings: &str) -> bool {
        !self.jobs_done.contains(job) && self.faults.get(job).is_some_and(|s| s.as_deref() == Some(settings))
    }

    /// The set whose record has this SHA-256, if an `assembled` event in
    /// the ledger seen so far holds it.
    pub fn set(&self, sha256: &Sha256Digest) -> Option<&SetRecord> {
        self.sets.get(sha256)
    }

    /// Whether `action` is recorded as done for `artefact`.
    pub fn has_action(&self, artefact: &ArtefactId, action: Action) -> bool {
        self.artefact_actions.contains(&(artefact.clone(), action))
    }

    /// Every original acquired into `exhibit`, with its source path bytes,
    /// so a reader can find the other files of a set (E01 segments, the
    /// `.bin` files a cue sheet names).
    pub fn originals(&self, exhibit: &ExhibitRef) -> &[(Vec<u8>, SourceRecord)] {
        self.originals.get(exhibit).map_or(&[], Vec::as_slice)
    }

    /// The media type an `identified` event recorded for `artefact`.
    pub fn media_type(&self, artefact: &ArtefactId) -> Option<&str> {
        self.media_types.get(artefact).map(String::as_str)
    }

    /// Whether scans of `exhibit` are to be OCRed, as the latest item
    /// manifest row that described it says; `None` when none said (the
    /// OCR policy's default applies).
    pub fn ocr_setting(&self, exhibit: &ExhibitRef) -> Option<bool> {
        self.ocr_settings.get(exhibit).copied().flatten()
    }

    /// Where the latest description of `exhibit` (and so its OCR switch)
    /// came from, e.g. `item manifest items.csv line 2`.
    pub fn described_by(&self, exhibit: &ExhibitRef) -> Option<&str> {
        self.described_by.get(exhibit).map(String::as_str)
    }

    /// How `artefact` was acquired, if the ledger seen so far records it.
    pub fn acquired(&self, artefact: &ArtefactId) -> Option<&SourceRecord> {
        self.acquired.get(artefact)
    }

    /// The artefact already acquired from this source, if any.
    pub fn source(&self, exhibit: &ExhibitRef, source_key: &str) -> Option<&SourceRecord> {
        self.sources.get(&(exhibit.clone(), source_key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exhibit_core::event::Actor;
    use exhibit_core::manifest::ToolInfo;

    fn described(exhibit: &str, item: serde_json::Value) -> CustodyEvent {
        CustodyEvent {
            at: time::OffsetDateTime::UNIX_EPOCH,
            case: "C1".parse().unwrap(),
            exhibit: Some(exhibit.parse().unwrap()),
            action: Action::Described,
            artefact: None,
            inputs: Vec::new(),
            tool: ToolInfo::exhibit("manifest"),
            params: serde_json::Map::from_iter([("item".to_owned(), item)]),
            actor: Actor { operator: "o".into(), host: "h".into(), process: 1, public_key: "k".into() },
            outcome: Outcome::Ok,
        }
    }

    #[test]
    fn the_latest_description_sets_an_exhibits_ocr_switch() {
        let events = [
            described("JS/1", serde_json::json!({"ocr": false})),
            described("SB 1", serde_json::json!({"ocr": true})),
            described("SB 1", serde_json::json!({"description": "no switch"})),
        ];
        let index = CaseIndex::from_events(&events);
        assert_eq!(index.ocr_setting(&"js/01".parse().unwrap()), Some(false));
        assert_eq!(index.ocr_setting(&"SB 1".parse().unwrap()), None, "the latest row gave none");
        assert_eq!(index.ocr_setting(&"X/1".parse().unwrap()), None);
    }

    fn ocr_skip(job: &str, selection: Option<&str>) -> CustodyEvent {
        let mut event = described("JS/1", serde_json::Value::Null);
        event.action = Action::Ocr;
        let mut params = serde_json::Map::new();
        params.insert("job_id".into(), job.into());
        params.insert("skipped".into(), "OCR is off ([ocr] enabled = false)".into());
        if let Some(selection) = selection {
            params.insert("selection".into(), selection.into());
        }
        event.params = params;
        event
    }

    #[test]
    fn an_ocr_skip_without_its_selection_settings_does_not_finish_the_job() {
        let index = CaseIndex::from_events(&[ocr_skip("old", None), ocr_skip("new", Some("enabled=false"))]);
        assert!(!index.job_done(&JobId("old".into())), "decided again under today's settings");
        assert!(index.job_done(&JobId("new".into())));
    }
}
