//! `exhibit show`: the artefacts of a case, from their manifests, and the
//! failures its ledger records.

use std::process::ExitCode;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use anyhow::Context as _;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::item::ItemRecord;
use exhibit_core::manifest::ArtefactManifest;
use serde::Serialize;

use super::show_tree;
use crate::config::Config;
use crate::failure_text::failure_text;
use crate::session::{case_reader, open_existing_store};
use crate::terminal::{escape_message, escape_name};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Only this exhibit.
    #[arg(long)]
    exhibit: Option<ExhibitRef>,
    /// Only artefacts carrying this flag (e.g. needs-review, damaged,
    /// deleted), with the artefacts they came from. Repeatable; an
    /// unknown flag is refused (exit 2) with the list of flags.
    #[arg(long, value_name = "FLAG")]
    flag: Vec<String>,
    /// Write JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// What an item manifest recorded about an exhibit (its latest row).
#[derive(Debug, Serialize)]
struct Described {
    exhibit: ExhibitRef,
    item: ItemRecord,
}

#[derive(Debug, Serialize)]
struct Failure {
    seq_hint: u64,
    exhibit: Option<ExhibitRef>,
    /// `failed` for a job that failed; for a fault of the evidence, the
    /// ingest summary's word for it (`limit`, `unconverted`,
    /// `damaged-record`, ...): it needs attention, a rerun cannot mend it.
    kind: &'static str,
    reason: String,
    input: serde_json::Value,
    /// The exact bytes of the path it is about, for a terminal.
    #[serde(skip)]
    path_bytes: Vec<u8>,
}

/// A file OCR left out, and why (the reason its latest skip recorded).
#[derive(Debug, Serialize)]
struct OcrSkip {
    artefact: String,
    reason: String,
}

#[derive(Debug, Serialize)]
struct Listing {
    case: CaseId,
    artefacts: Vec<ArtefactManifest>,
    /// Each exhibit's metadata from an item manifest.
    items: Vec<Described>,
    failures: Vec<Failure>,
    /// Images that hold less than they declare, and the files they cut.
    truncated: Vec<serde_json::Value>,
    /// Facts that need no action, e.g. a PDF already text, so not OCRed.
    notes: Vec<String>,
    /// Files OCR left out (OCR off, an icon, a photo), each with the
    /// recorded reason of its latest skip.
    ocr_skipped: Vec<OcrSkip>,
    /// Damaged ledger entries and manifests the ledger does not record,
    /// found while reading the case (`exhibit verify` says more).
    problems: Vec<exhibit_app::readmodel::Problem>,
}

pub async fn run(mut args: ShowArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::existing_case(store.as_ref(), &args.case).await?;
    let reader = case_reader(&config, store).await?;
    reader.refresh(&args.case).await.with_context(|| format!("cannot read the ledger of case {}", args.case))?;
    if let Some(typed) = args.exhibit.take() {
        match reader.recorded_exhibit(&args.case, &typed).await? {
            Some(recorded) => args.exhibit = Some(crate::spelling::announce_recorded(&typed, recorded)),
            None => anyhow::bail!(
                "case {} has no exhibit {typed}; `exhibit show --case {}` lists its exhibits",
                args.case,
                args.case
            ),
        }
    }
    let view = reader.show(&args.case, args.exhibit.as_ref()).await?;
    args.flag = super::show_flags::checked_flags(&args.flag, &view.flags)?;
    let events: Vec<CustodyEvent> = view.notable.iter().map(|(_, e)| e.clone()).collect();
    let failure_words = super::show_flags::failure_words(&events, &view.artefacts);
    let ocred = ocred(&view.artefacts);
    let artefacts = with_sources(view.artefacts, &args.flag, &failure_words);
    let failures = failures(&view.notable);
    let truncated = super::truncation::truncation_notes(&events);
    let items = described(&view.exhibits);
    let notes = notes(&events, &artefacts, &ocred);
    let ocr_skipped = ocr_skips(&events, &ocred);
    for problem in &view.problems {
        crate::logging::notice(&problem.text);
    }
    let problems = view.problems;
    let listing =
        Listing { case: args.case.clone(), artefacts, items, failures, truncated, notes, ocr_skipped, problems };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listing)?);
    } else {
        print_text(&listing, &args, &failure_words);
    }
    // A damaged entry or a manifest the ledger does not record needs a
    // person: done, but not clean.
    Ok(if listing.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

/// With `flags`, the flagged artefacts and every artefact they came from
/// (the original, the image they were found in); without, all of them.
fn with_sources(
    all: Vec<ArtefactManifest>,
    flags: &[String],
    failure_words: &BTreeMap<String, BTreeSet<&'static str>>,
) -> Vec<ArtefactManifest> {
    if flags.is_empty() {
        return all;
    }
    let failed = |m: &ArtefactManifest| {
        failure_words.get(m.id.as_str()).is_some_and(|words| flags.iter().any(|f| words.contains(f.as_str())))
    };
    let by_id: BTreeMap<&str, &ArtefactManifest> = all.iter().map(|m| (m.id.as_str(), m)).collect();
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    for m in all.iter().filter(|m| super::show_flags::carries_any(m, flags) || failed(m)) {
        let mut next = Some(m);
        // Bounded by the number of artefacts, so a parent loop cannot spin.
        while let Some(m) = next.filter(|m| keep.insert(m.id.as_str())) {
            next = m.parent.as_ref().and_then(|p| by_id.get(p.id.as_str()).copied());
        }
    }
    let keep: BTreeSet<String> = keep.into_iter().map(str::to_owned).collect();
    all.into_iter().filter(|m| keep.contains(m.id.as_str())).collect()
}

/// The latest description of each exhibit shown.
fn described(exhibits: &[exhibit_app::readmodel::ExhibitRow]) -> Vec<Described> {
    exhibits
        .iter()
        .filter_map(|row| {
            let item = serde_json::from_value(row.item.clone()?).ok()?;
            Some(Described { exhibit: row.exhibit.clone(), item })
        })
        .collect()
}

fn failures(notable: &[(u64, CustodyEvent)]) -> Vec<Failure> {
    notable
        .iter()
        .filter(|(_, e)| e.action == Action::Failed)
        .filter_map(|(seq, e)| match &e.outcome {
            Outcome::Failed { reason } => {
                let params = e.failed_params().unwrap_or_default();
                Some(Failure {
                    seq_hint: *seq,
                    exhibit: e.exhibit.clone(),
                    kind: super::summary_attention::fault_word(params.fault.as_deref()).unwrap_or("failed"),
                    reason: reason.clone(),
                    path_bytes: params.input_path_bytes().unwrap_or_default(),
                    input: params.input.unwrap_or_default(),
                })
            }
            Outcome::Ok => None,
        })
        .collect()
}

/// The notes of the exhibits shown, naming each input by its path.
fn notes(events: &[CustodyEvent], artefacts: &[ArtefactManifest], ocred: &HashSet<String>) -> Vec<String> {
    let labels = artefacts
        .iter()
        .filter_map(|m| m.source.as_ref().map(|s| (m.id.to_string(), s.path.display.clone())))
        .collect();
    super::summary_attention::notes_from_events(events, &labels, ocred)
}

/// The latest OCR skip of each file, but of a file OCRed since (a later
/// run's settings took it in), in the order the ledger skipped them.
fn ocr_skips(events: &[CustodyEvent], ocred: &HashSet<String>) -> Vec<OcrSkip> {
    let mut latest: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (at, e) in events.iter().enumerate().filter(|(_, e)| e.action == Action::Ocr && e.outcome == Outcome::Ok) {
        let (Some(input), Some(reason)) = (e.inputs.first(), e.ocr_params().and_then(|p| p.skipped)) else {
            continue;
        };
        latest.insert(input.id.to_string(), (at, reason));
    }
    let mut skips: Vec<(usize, OcrSkip)> = latest
        .into_iter()
        .filter(|(artefact, _)| !ocred.contains(artefact))
        .map(|(artefact, (at, reason))| (at, OcrSkip { artefact, reason }))
        .collect();
    skips.sort_by_key(|(at, _)| *at);
    skips.into_iter().map(|(_, skip)| skip).collect()
}

/// The artefacts that have an OCR text output: a "not OCRed" note of one
/// is superseded.
fn ocred(artefacts: &[ArtefactManifest]) -> HashSet<String> {
    let text = |m: &&ArtefactManifest| m.derivation.as_ref().is_some_and(|d| d.rule == "ocr-text");
    artefacts.iter().filter(text).filter_map(|m| m.parent.as_ref()).map(|p| p.id.to_string()).collect()
}

/// The first line: the exhibits and artefacts shown and their totals; with
/// `--flag`, the artefacts that carry the flag (the ones they came from are
/// shown as context, not counted).
fn header(
    case: &str,
    exhibits: usize,
    all: &[&ArtefactManifest],
    (flags, failure_words): (&[String], &show_tree::FailureWords),
) -> String {
    let case = escape_name(case);
    if flags.is_empty() {
        return format!("case {case}: {exhibits} exhibit(s), {} artefact(s): {}", all.len(), show_tree::totals(all));
    }
    let flagged = all.iter().filter(|m| show_tree::matches(m, flags, failure_words)).count();
    let context = match all.len() - flagged {
        0 => String::new(),
        n => format!(", shown with the {n} artefact(s) they came from"),
    };
    let words = show_tree::flagged_words(flags);
    let words = escape_message(&words);
    format!("case {case}: {flagged} artefact(s) {words} in {exhibits} exhibit(s){context}")
}

fn print_text(listing: &Listing, args: &ShowArgs, failure_words: &show_tree::FailureWords) {
    // With --flag, only exhibits that hold a flagged artefact.
    let described = listing.items.iter().map(|d| &d.exhibit).filter(|_| args.flag.is_empty());
    let exhibits: BTreeSet<&ExhibitRef> = listing.artefacts.iter().map(|m| &m.exhibit).chain(described).collect();
    let all: Vec<&ArtefactManifest> = listing.artefacts.iter().collect();
    let ocr_skips: BTreeMap<&str, &str> =
        listing.ocr_skipped.iter().map(|s| (s.artefact.as_str(), s.reason.as_str())).collect();
    println!("{}", header(listing.case.as_str(), exhibits.len(), &all, (&args.flag, failure_words)));
    for exhibit in exhibits {
        let tree = show_tree::ExhibitTree {
            exhibit,
            item: listing.items.iter().find(|d| d.exhibit == *exhibit).map(|d| &d.item),
            artefacts: all.iter().copied().filter(|m| m.exhibit == *exhibit).collect(),
            failure_words,
            ocr_skips: &ocr_skips,
        };
        show_tree::print_exhibit(&tree, &args.flag);
    }
    for f in &listing.failures {
        let text = failure_text(&f.path_bytes, &f.reason);
        match f.kind {
            "failed" => println!("failed: {text}"),
            // The summary's words: a fault of the evidence needs attention.
            kind => println!("needs attention: {kind}: {text}"),
        }
    }
    for t in &listing.truncated {
        println!("truncated: {}", t["text"].as_str().unwrap_or_default());
    }
    for note in &listing.notes {
        println!("note: {}", escape_message(note));
    }
}
