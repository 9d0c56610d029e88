//! What ingest ends with: the exhibit's artefacts and counts, what needs a
//! person's attention, and the exit code, all read back from the ledger
//! and the manifests (so a resumed or repeated run reports the whole
//! exhibit, not only the files it touched this time).
//!
//! Exit codes: 0 clean; 3 done, but something needs a person (damaged or
//! truncated evidence, media nothing could convert, pages to review, a
//! page count that does not match); 2 some job failed in a way a rerun
//! could fix (the tally of this run).

use std::collections::HashMap;

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::item::ItemRecord;
use exhibit_core::layout::{manifests_prefix, parse_manifest_name};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, RecordedPath};
use exhibit_pipeline::{StageContext, Tally};
use serde::Serialize;

use super::summary_facts::LedgerFacts;
use crate::terminal::escape_name_bytes;

/// Exit code of an ingest that finished but needs a person's attention.
pub const EXIT_NEEDS_ATTENTION: u8 = 3;

/// One artefact of the exhibit, as `ingest --json` returns it.
#[derive(Debug, Serialize)]
pub struct ArtefactRow {
    /// The artefact ID, for `exhibit get`.
    pub id: String,
    /// `original`, `extracted` (found inside an image) or `derivative`.
    pub kind: &'static str,
    /// Where it came from: the source path, the path inside its image, or
    /// what it was derived from (a bundle's PDF: its folder).
    pub path: String,
    /// What a derivative is, as `show` names it: "searchable PDF of scans/
    /// (12 pages)", "MP4 access copy".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what: Option<String>,
    /// Its media type.
    pub media_type: String,
    /// Its PRONOM format (PUID), when a PRONOM signature matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub puid: Option<String>,
    /// The artefact that first brought the same content into the case.
    pub duplicate_of: Option<String>,
    /// `path` for a terminal: each name from its recorded bytes, escaped
    /// as `show` escapes it (`bad\xfe.png`, `a\tb.png`), so names that
    /// show alike lossily stay apart.
    #[serde(skip)]
    pub label: String,
}

/// The table's numbers.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    /// Files, folders and devices named on the command line.
    pub items: usize,
    pub originals: usize,
    pub found_inside_images: usize,
    pub derivatives: usize,
    /// Originals and files found inside images whose content the case held already.
    pub duplicates: usize,
    /// Artefacts this run recorded, and sources it found already recorded.
    pub stored_this_run: u64,
    pub already_recorded: u64,
    /// Jobs of this run that failed in a way a rerun could fix.
    pub failed: usize,
}

/// One thing a person should look at, and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Attention {
    /// What kind of problem (`truncated`, `damaged-record`, ...).
    pub kind: &'static str,
    /// The file, image or bundle it is about.
    pub what: String,
    /// What was found.
    pub text: String,
    /// What to do.
    pub advice: String,
    /// `text` for a terminal, when it names a file whose exact bytes are
    /// recorded (a fault's path): escaped from those bytes, so names that
    /// differ never print alike. Otherwise `text` is escaped as a message.
    #[serde(skip)]
    pub shown: Option<String>,
}

impl Attention {
    /// The text as a terminal line shows it.
    pub fn text_for_terminal(&self) -> String {
        self.shown.clone().unwrap_or_else(|| crate::terminal::escape_message(&self.text).into_owned())
    }
}

/// A job of this run that failed.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub what: String,
    pub reason: String,
    /// Whether the same command run again may succeed (storage or the OS
    /// failed); otherwise the reason's cause must be fixed first.
    pub rerun_may_help: bool,
    /// The exact bytes of the path it is about (not in JSON: `what` has
    /// its display text), which a terminal shows escaped.
    #[serde(skip)]
    pub path_bytes: Option<Vec<u8>>,
}

impl From<exhibit_pipeline::RunFailure> for Failure {
    fn from(f: exhibit_pipeline::RunFailure) -> Self {
        Self { what: f.what, reason: f.reason, rerun_may_help: f.rerun_may_help, path_bytes: f.path_bytes }
    }
}

/// Everything the end of an ingest reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub case: CaseId,
    pub exhibit: ExhibitRef,
    /// What the latest item manifest row said about the exhibit, or `null`.
    pub item: Option<ItemRecord>,
    pub exit: u8,
    pub counts: Counts,
    pub artefacts: Vec<ArtefactRow>,
    pub attention: Vec<Attention>,
    /// Facts that need no action (e.g. a PDF already text, so not OCRed).
    pub notes: Vec<String>,
    pub failures: Vec<Failure>,
}

impl Summary {
    /// Gathers the exhibit's summary after a run over `items` named paths,
    /// from its manifests and the ledger facts caught up after the run.
    #[tracing::instrument(skip_all, fields(exhibit = %facts.exhibit()))]
    pub async fn gather(ctx: &StageContext, facts: &LedgerFacts, items: usize) -> anyhow::Result<Self> {
        let exhibit = facts.exhibit();
        let manifests = exhibit_manifests(ctx, exhibit).await?;
        let artefacts = rows(&manifests, &facts.first_holder);
        // Attention lines are for people: names as `show` prints them.
        let labels: HashMap<String, String> = artefacts.iter().map(|a| (a.id.clone(), a.label.clone())).collect();
        let mut summary = Self {
            case: ctx.case.clone(),
            exhibit: exhibit.clone(),
            item: facts.item.clone(),
            exit: 0,
            counts: counts(&artefacts, items, &ctx.tally),
            artefacts,
            attention: super::summary_attention::from_events(&facts.events, &labels),
            notes: super::summary_attention::notes_from_events(
                &facts.events,
                &labels,
                &super::summary_attention::ocred_inputs(&facts.events),
            ),
            failures: ctx.tally.run_failures().into_iter().map(Failure::from).collect(),
        };
        for (what, note) in ctx.tally.warnings() {
            if !summary.attention.iter().any(|a| a.what == what) {
                summary.attend(
                    "warning",
                    what,
                    note,
                    "read the warning and decide whether the evidence needs another look",
                );
            }
        }
        summary.settle_exit();
        Ok(summary)
    }

    /// Adds a line that needs attention (other parts of a run, such as
    /// anchoring, add theirs here), and settles the exit code again.
    pub fn attend(&mut self, kind: &'static str, what: String, text: String, advice: &str) {
        self.attention.push(Attention { kind, what, text, advice: advice.to_owned(), shown: None });
        self.settle_exit();
    }

    fn settle_exit(&mut self) {
        self.counts.failed = self.failures.len();
        self.exit = match (self.failures.is_empty(), self.attention.is_empty()) {
            (false, _) => crate::EXIT_USAGE,
            (true, false) => EXIT_NEEDS_ATTENTION,
            (true, true) => 0,
        };
    }
}

/// The manifests of one exhibit, in ledger-independent but stable order.
async fn exhibit_manifests(ctx: &StageContext, exhibit: &ExhibitRef) -> anyhow::Result<Vec<ArtefactManifest>> {
    let mut out = Vec::new();
    for meta in ctx.store.list(&manifests_prefix(&ctx.case)).await? {
        let name = meta.key.as_str().rsplit('/').next().unwrap_or_default();
        if parse_manifest_name(name).is_none() {
            continue;
        }
        let bytes = exhibit_store::read_small(ctx.store.as_ref(), &meta.key, 1 << 20).await?;
        // A manifest that does not parse is `verify`'s to report.
        if let Ok(m) = serde_json::from_slice::<ArtefactManifest>(&bytes) {
            if m.exhibit == *exhibit {
                out.push(m);
            }
        }
    }
    Ok(out)
}

fn rows(manifests: &[ArtefactManifest], first: &HashMap<String, String>) -> Vec<ArtefactRow> {
    let base: HashMap<String, String> =
        manifests.iter().filter_map(|m| Some((m.id.to_string(), recorded(m)?.display.clone()))).collect();
    let shown: HashMap<String, String> = manifests
        .iter()
        .filter_map(|m| Some((m.id.to_string(), escape_name_bytes(&recorded(m)?.to_bytes()))))
        .collect();
    let mut rows: Vec<ArtefactRow> = manifests
        .iter()
        .map(|m| {
            let id = m.id.to_string();
            let (kind, path) = where_from(m, &base);
            let (_, label) = where_from(m, &shown);
            let duplicate_of = (kind != "derivative")
                .then(|| first.get(&m.digests.sha256.to_string()).filter(|f| **f != id).cloned())
                .flatten();
            let puid = m.media_type.pronom.as_ref().map(|p| p.puid.clone());
            let what = super::show_tree::derivative_label(m);
            ArtefactRow { id, kind, path, what, media_type: m.media_type.mime.clone(), puid, duplicate_of, label }
        })
        .collect();
    let order = |k: &str| ["original", "extracted", "derivative"].iter().position(|x| *x == k);
    rows.sort_by(|a, b| (order(a.kind), &a.path, &a.label).cmp(&(order(b.kind), &b.path, &b.label)));
    rows
}

/// The path an original or a file found inside an image was recorded at.
fn recorded(m: &ArtefactManifest) -> Option<&RecordedPath> {
    m.source.as_ref().map(|s| &s.path).or(m.inside.as_ref().map(|i| &i.path))
}

/// What an artefact is and where it came from, its paths named by `names`
/// (artefact ID -> its path as shown).
fn where_from(m: &ArtefactManifest, names: &HashMap<String, String>) -> (&'static str, String) {
    let parent_label = |m: &ArtefactManifest| {
        m.parent.as_ref().map(|p| names.get(&p.id.to_string()).cloned().unwrap_or_else(|| p.id.to_string()))
    };
    let id = m.id.to_string();
    match m.kind {
        ArtefactKind::Original => ("original", names.get(&id).cloned().unwrap_or_default()),
        ArtefactKind::Extracted => {
            let inside = names.get(&id).cloned().unwrap_or_default();
            ("extracted", parent_label(m).map_or(inside.clone(), |p| format!("{p} > {inside}")))
        }
        ArtefactKind::Derivative => {
            let rule = m.derivation.as_ref().map_or("derivative", |d| d.rule.as_str());
            let from = bundle_folder(m).or_else(|| parent_label(m)).unwrap_or_default();
            ("derivative", format!("{rule} of {from}"))
        }
    }
}

/// A bundle PDF's folder (`scans/`): it is made of every page file's PDF,
/// and its recorded parent, the first page's PDF, has no path of its own.
fn bundle_folder(m: &ArtefactManifest) -> Option<String> {
    let d = m.derivation.as_ref().filter(|d| d.rule == exhibit_ocr::BUNDLE_RULE)?;
    d.details.get(exhibit_ocr::PARAM_BUNDLE)?.get("folder")?.as_str().map(str::to_owned)
}

fn counts(rows: &[ArtefactRow], items: usize, tally: &Tally) -> Counts {
    let of = |kind: &str| rows.iter().filter(|r| r.kind == kind).count();
    Counts {
        items,
        originals: of("original"),
        found_inside_images: of("extracted"),
        derivatives: of("derivative"),
        duplicates: rows.iter().filter(|r| r.duplicate_of.is_some()).count(),
        stored_this_run: Tally::get(&tally.stored),
        already_recorded: Tally::get(&tally.skipped),
        failed: 0,
    }
}
