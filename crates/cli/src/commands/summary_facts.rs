//! The ledger facts the ingest summary needs, kept small and read once:
//! the events read when the case was opened are folded in at the start,
//! and after the run only the entries appended since are read (a ledger
//! entry is parsed and re-canonicalised, so reading 10,000 of them twice
//! was a visible share of an ingest).

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use exhibit_core::event::{Action, CustodyEvent};
use exhibit_core::ids::ExhibitRef;
use exhibit_core::item::ItemRecord;
use exhibit_core::layout::{ledger_key, ledger_prefix, parse_ledger_name};
use exhibit_core::params::DescribedParams;
use exhibit_custody::{ENTRY_LIMIT, LedgerEntry};
use exhibit_pipeline::StageContext;

/// What the summary keeps of the ledger.
#[derive(Debug)]
pub struct LedgerFacts {
    exhibit: ExhibitRef,
    /// The last sequence number folded in.
    seen: u64,
    /// Content SHA-256 → the original or extracted artefact that holds it
    /// first (see [`HolderRank`]); the others are its duplicates.
    pub first_holder: HashMap<String, String>,
    /// The rank of each `first_holder`.
    holder_rank: HashMap<String, HolderRank>,
    /// Which ingest the events folded so far came from.
    runs: RunCounter,
    /// The exhibit's events that can need attention, count pages or hold a note, in
    /// ledger order, with the successes of jobs that failed before them.
    pub events: Vec<CustodyEvent>,
    /// Jobs of the exhibit with a `failed` event kept: a later success of
    /// one is kept too, whatever its action, so the failure reads resolved
    /// (an OCR job's batch names its job on its last output only).
    failed_jobs: HashSet<String>,
    /// The exhibit's latest description from an item manifest.
    pub item: Option<ItemRecord>,
    /// What the exhibit's scan bundles need from its events.
    pub bundles: exhibit_ocr::BundleFacts,
}

impl LedgerFacts {
    /// Facts of `exhibit` from entries read already, as (seq, event).
    pub fn new(exhibit: &ExhibitRef, entries: Vec<(u64, CustodyEvent)>) -> Self {
        let mut facts = Self {
            exhibit: exhibit.clone(),
            seen: 0,
            first_holder: HashMap::new(),
            holder_rank: HashMap::new(),
            runs: RunCounter::default(),
            events: Vec::new(),
            failed_jobs: HashSet::new(),
            item: None,
            bundles: exhibit_ocr::BundleFacts::new(exhibit),
        };
        facts.fold(entries);
        facts
    }

    /// The exhibit these facts are about.
    pub fn exhibit(&self) -> &ExhibitRef {
        &self.exhibit
    }

    /// Reads and folds in the entries appended after the last one seen.
    #[tracing::instrument(skip_all, fields(case = %ctx.case, after = self.seen))]
    pub async fn catch_up(&mut self, ctx: &StageContext) -> anyhow::Result<()> {
        let prefix = ledger_prefix(&ctx.case);
        let mut newer: Vec<u64> = Vec::new();
        for meta in ctx.store.list(&prefix).await? {
            let name = meta.key.as_str().strip_prefix(prefix.as_str()).unwrap_or_default();
            newer.extend(parse_ledger_name(name).filter(|seq| *seq > self.seen));
        }
        newer.sort_unstable();
        // Folded entry by entry: collecting every event of a 10,000-file
        // run first held about 20 MiB of clones at the end of the ingest.
        for seq in newer {
            let key = ledger_key(&ctx.case, seq);
            let bytes = exhibit_store::read_small(ctx.store.as_ref(), &key, ENTRY_LIMIT)
                .await
                .with_context(|| format!("cannot read ledger entry {seq} of case {}", ctx.case))?;
            // An entry that does not parse is `verify`'s to report.
            if let Ok(entry) = LedgerEntry::parse(&bytes) {
                self.fold(entry.events().iter().map(|event| (seq, event.clone())));
            }
        }
        Ok(())
    }

    fn fold(&mut self, entries: impl IntoIterator<Item = (u64, CustodyEvent)>) {
        for (seq, event) in entries {
            self.seen = self.seen.max(seq);
            if matches!(event.action, Action::Acquired | Action::Extracted) {
                self.note_holder(&event);
            }
            self.bundles.note(&event);
            if event.exhibit.as_ref() != Some(&self.exhibit) {
                continue;
            }
            if event.action == Action::Described {
                // A description that does not parse is `verify`'s to report.
                let item = event.described_params().as_ref().and_then(DescribedParams::item_record);
                self.item = item.or(self.item.take());
            }
            let job = event.typed_params().ok().and_then(|p| p.job_id().map(str::to_owned));
            let failed_job = job.as_ref().is_some_and(|j| self.failed_jobs.contains(j));
            if event.action == Action::Failed {
                self.failed_jobs.extend(job);
            }
            if may_need_attention(&event) || failed_job {
                self.events.push(event);
            }
        }
    }
}

impl LedgerFacts {
    /// Keeps the event's artefact as its content's first holder if it
    /// ranks before the one kept.
    fn note_holder(&mut self, event: &CustodyEvent) {
        let run = self.runs.run_of(event);
        let Some(a) = event.artefact.as_ref().filter(|a| a.size > 0) else { return };
        let Some(id) = &a.id else { return };
        let rank = HolderRank::of(run, event, id.to_string());
        let sha = a.sha256.to_string();
        if self.holder_rank.get(&sha).is_none_or(|kept| rank < *kept) {
            self.first_holder.insert(sha.clone(), id.to_string());
            self.holder_rank.insert(sha, rank);
        }
    }
}

/// Orders the holders of one content, so the original does not depend on
/// which job finished first: an earlier ingest first; within one ingest a
/// file named on the command line before one found inside an image, then
/// the lexicographically first source path, then the artefact ID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct HolderRank {
    run: u64,
    found_inside: bool,
    path: String,
    id: String,
}

impl HolderRank {
    fn of(run: u64, event: &CustodyEvent, id: String) -> Self {
        let params = &event.params;
        let source_path = params.get("facts").and_then(|f| f["source"]["path"]["display"].as_str());
        let path = source_path.or_else(|| params.get("source_key").and_then(|k| k.as_str())).unwrap_or_default();
        Self { run, found_inside: event.action == Action::Extracted, path: path.to_owned(), id }
    }
}

/// Numbers the ingests in ledger order: a run is a stretch of holder
/// events from one process (host, process ID, key) for one exhibit, so
/// each manifest row counts as its own run. Two concurrent ingests into
/// one case interleave, and which holds content first is then a race in
/// fact as well.
#[derive(Debug, Default)]
struct RunCounter {
    last: Option<(String, u32, String, Option<ExhibitRef>)>,
    run: u64,
}

impl RunCounter {
    fn run_of(&mut self, event: &CustodyEvent) -> u64 {
        let a = &event.actor;
        let key = (a.host.clone(), a.process, a.public_key.clone(), event.exhibit.clone());
        if self.last.as_ref() != Some(&key) {
            self.run += 1;
            self.last = Some(key);
        }
        self.run
    }
}

fn may_need_attention(e: &CustodyEvent) -> bool {
    match e.action {
        Action::Explored => e.explored_params().is_some_and(|p| p.truncated.is_some()),
        Action::Failed | Action::Verified | Action::Transcoded => true,
        Action::Identified => {
            e.identified_params().is_some_and(|p| p.extension_mismatch.is_some() || p.unidentified.is_some())
        }
        Action::Ocr => e.ocr_params().is_some_and(|p| {
            let rule = p.rule.as_deref();
            let counted_skip = p.skipped.is_some() && p.pages.is_some();
            rule == Some("ocr-text") || rule == Some(exhibit_ocr::BUNDLE_RULE) || p.not_ocred.is_some() || counted_skip
        }),
        _ => false,
    }
}
