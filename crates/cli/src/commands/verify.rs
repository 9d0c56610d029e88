//! `exhibit verify`: the archivist's check of a whole case. Besides the
//! integrity problems (exit 1), it lists notes that need a person but are
//! not damage: OCR pages flagged for review, and paper bundles whose page
//! count differs from the count the operator gave.
//!
//! Exit 0 only when the case is intact and every signer is pinned by the
//! trusted keys; exit 3 when it is intact but no trusted keys were given, so
//! nobody checked who signed it; exit 2 when the case or store is not there.
//!
//! `--report FILE` writes the integrity report (`exhibit_report`) as HTML;
//! `--json` prints the same data. `--all` checks every case in the store,
//! for scheduled runs, and exits with the worst case's code.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_core::event::{CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_custody::{HeadReceipt, VerifyOptions, VerifyReport};
use exhibit_report::Verdict;
use exhibit_store::ObjectStore;
use serde_json::{Value, json};

use crate::config::Config;
use crate::session::{case_entries, open_existing_store};
use crate::trust::{TrustArgs, load_trusted};
use crate::{EXIT_SIGNERS_UNCHECKED, EXIT_VERIFY_FAILED};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Case ID.
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    case: Option<CaseId>,
    /// Check every case in the store (for scheduled runs); exits with the
    /// worst case's code.
    #[arg(long)]
    all: bool,
    /// Write the report as JSON: the integrity report's data (with
    /// `--all`, one verify summary per case).
    #[arg(long)]
    json: bool,
    /// Write the integrity report to FILE as self-contained HTML.
    #[arg(long, value_name = "FILE", conflicts_with = "all")]
    report: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
    /// A head an earlier run printed (`head: seq N sha256 H`), given as
    /// N:H: the chain must still hold that entry.
    #[arg(long, value_name = "N:SHA256", conflicts_with = "all")]
    expect_head: Option<HeadReceipt>,
}

pub async fn run(args: VerifyArgs, config: Config) -> anyhow::Result<ExitCode> {
    let options = VerifyOptions {
        trusted_keys: load_trusted(&args.trust, &config)?,
        expect_head: args.expect_head,
        tsa_trust: super::anchor::tsa_trust(&config.anchoring)?,
    };
    let store = open_existing_store(&config)?;
    let Some(case) = &args.case else {
        return super::verify_all::run(store.as_ref(), &options, args.json).await;
    };
    let case = &crate::spelling::resolve_case(store.as_ref(), case).await?;
    let report = exhibit_custody::verify_case_with(store.as_ref(), case, &options).await?;
    let verdict = Verdict::of(&report);
    let entries = case_entries(store.as_ref(), case).await?;
    let events: Vec<CustodyEvent> = entries.iter().map(|(_, e)| e.clone()).collect();
    let mut notes = notes(&events);
    notes.extend(super::truncation::truncation_notes(&events));
    if args.json || args.report.is_some() {
        let full = integrity_report(store.as_ref(), case, report.clone(), notes.clone(), &entries).await?;
        if let Some(path) = &args.report {
            std::fs::write(path, exhibit_report::render_report(&full))
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&full)?);
        }
    }
    // With -q a trusted result prints nothing; anything less is printed whole.
    let silent = args.json || (crate::logging::quiet() && verdict == Verdict::Trusted);
    if !silent {
        println!("{report}");
        for note in &notes {
            println!("note: {}", note["text"].as_str().unwrap_or_default());
        }
        if let Some(path) = &args.report {
            println!("report: {}", path.display());
        }
    }
    Ok(exit_code(verdict))
}

/// The HTML integrity report of `case`, as `verify --report` writes it:
/// `export` puts it into every bag.
pub(super) async fn report_html(
    store: &dyn ObjectStore,
    case: &CaseId,
    options: &VerifyOptions,
) -> anyhow::Result<Vec<u8>> {
    let report = exhibit_custody::verify_case_with(store, case, options).await?;
    let entries = case_entries(store, case).await?;
    let events: Vec<CustodyEvent> = entries.iter().map(|(_, e)| e.clone()).collect();
    let mut notes = notes(&events);
    notes.extend(super::truncation::truncation_notes(&events));
    let full = integrity_report(store, case, report, notes, &entries).await?;
    Ok(exhibit_report::render_report(&full).into_bytes())
}

/// The integrity report of a verified case.
async fn integrity_report(
    store: &dyn ObjectStore,
    case: &CaseId,
    report: VerifyReport,
    notes: Vec<Value>,
    entries: &[(u64, CustodyEvent)],
) -> anyhow::Result<exhibit_report::IntegrityReport> {
    let manifests = exhibit_report::read_manifests(store, case).await?;
    Ok(exhibit_report::build_report(report, notes, entries, manifests))
}

/// Intact but not fully checked (signers without a trust file, or anchors
/// without a TSA CA) is not a clean, trusted result.
pub(super) fn exit_code(verdict: Verdict) -> ExitCode {
    match verdict {
        Verdict::Failed => ExitCode::from(EXIT_VERIFY_FAILED),
        Verdict::IntactUnchecked => ExitCode::from(EXIT_SIGNERS_UNCHECKED),
        Verdict::Trusted => ExitCode::SUCCESS,
    }
}

/// Things a person should look at that are not damage.
fn notes(events: &[CustodyEvent]) -> Vec<Value> {
    let mut out = Vec::new();
    for e in events {
        let artefact = e.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.to_string());
        let ocr_text = e.ocr_params().filter(|p| p.rule.as_deref() == Some("ocr-text"));
        if let Some(ocr) = ocr_text {
            if let Some(pages) = &ocr.needs_review {
                let list: Vec<String> =
                    pages.iter().filter_map(|p| p["page"].as_u64()).map(|p| (p + 1).to_string()).collect();
                // Ledgers since the bundle PDF/A work name the scanned file in each page entry.
                let file = pages.iter().find_map(|p| p["file"].as_str()).map(|f| format!("{f}, "));
                let text = format!(
                    "artefact {}: needs-review ({}page {})",
                    artefact.clone().unwrap_or_default(),
                    file.unwrap_or_default(),
                    list.join(", ")
                );
                out.push(json!({"kind": "needs-review", "artefact": artefact, "pages": pages, "text": text}));
            }
        }
        if let Outcome::Failed { reason } = &e.outcome {
            if e.verified_params().is_some_and(|v| v.bundle.is_some()) {
                out.push(json!({"kind": "page-count-mismatch", "exhibit": e.exhibit, "text": reason}));
            }
        }
    }
    out
}
