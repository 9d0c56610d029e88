//! The ledger facts the ingest summary needs, kept small and read once:
//! the events read when the case was opened are folded in at the start,
//! and after the run only the entries appended since are read (a ledger
//! entry is parsed and re-canonicalised, so reading 10,000 of them twice
//! was a visible share of an ingest).

use std::collections::HashMap;

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
    /// Content SHA-256 → the first original or extracted artefact holding it.
    pub first_holder: HashMap<String, String>,
    /// The exhibit's events that can need attention, count pages or hold a note, in
    /// ledger order.
    pub events: Vec<CustodyEvent>,
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
            events: Vec::new(),
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
        let mut entries = Vec::with_capacity(newer.len());
        for seq in newer {
            let key = ledger_key(&ctx.case, seq);
            let bytes = exhibit_store::read_small(ctx.store.as_ref(), &key, ENTRY_LIMIT)
                .await
                .with_context(|| format!("cannot read ledger entry {seq} of case {}", ctx.case))?;
            // An entry that does not parse is `verify`'s to report.
            if let Ok(entry) = LedgerEntry::parse(&bytes) {
                entries.extend(entry.events().iter().map(|event| (seq, event.clone())));
            }
        }
        self.fold(entries);
        Ok(())
    }

    fn fold(&mut self, entries: Vec<(u64, CustodyEvent)>) {
        for (seq, event) in entries {
            self.seen = self.seen.max(seq);
            if matches!(event.action, Action::Acquired | Action::Extracted) {
                if let Some(a) = event.artefact.as_ref().filter(|a| a.size > 0) {
                    if let Some(id) = &a.id {
                        self.first_holder.entry(a.sha256.to_string()).or_insert_with(|| id.to_string());
                    }
                }
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
            if may_need_attention(&event) {
                self.events.push(event);
            }
        }
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
            rule == Some("ocr-text") || rule == Some(exhibit_ocr::BUNDLE_RULE) || p.not_ocred.is_some()
        }),
        _ => false,
    }
}
