//! `exhibit verify`: the archivist's check of a whole case (the use case is
//! `exhibit_app::verify`; this renders it and picks the exit code). Besides the
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
use exhibit_core::ids::CaseId;
use exhibit_core::manifest::RecordedPath;
use exhibit_custody::{HeadReceipt, VerifyOptions};
use exhibit_report::Verdict;
use exhibit_store::ObjectStore;

use crate::config::Config;
use crate::session::{app_error, open_existing_store};
use crate::terminal::{escape_lines, escape_message, escape_name, escape_name_bytes};
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
    let checked = exhibit_app::verify::verify_case(store.as_ref(), case, &options).await.map_err(app_error)?;
    if args.json || args.report.is_some() {
        let full = checked.integrity_report(store.as_ref()).await.map_err(app_error)?;
        if let Some(path) = &args.report {
            std::fs::write(path, exhibit_report::render_report(&full))
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
        }
        if args.json {
            println!("{}", serde_json::to_string_pretty(&full)?);
        }
    }
    // With -q a trusted result prints nothing; anything less is printed whole.
    let silent = args.json || (crate::logging::quiet() && checked.verdict == Verdict::Trusted);
    if !silent {
        // The report and notes quote evidence names and stored text.
        println!("{}", escape_lines(&checked.report.to_string()));
        for line in super::verify_names::tampered_lines(&checked.report, &checked.events) {
            println!("{line}");
        }
        for note in &checked.notes {
            println!("note: {}", note_line(note));
        }
        if let Some(path) = &args.report {
            println!("report: {}", escape_message(&path.display().to_string()));
        }
    }
    Ok(exit_code(checked.verdict))
}

/// A note for a terminal: a needs-review note names its file from the
/// recorded bytes, escaped as `show` escapes names (`bad\xfe.png`,
/// `a\tb.png`), where its `text` has the name lossily; any other note's
/// text is escaped as a message.
fn note_line(note: &serde_json::Value) -> String {
    let path = serde_json::from_value::<RecordedPath>(note["file_path"].clone());
    match (note["kind"].as_str(), path, note["pages"].as_array()) {
        (Some("needs-review"), Ok(path), Some(pages)) => {
            let name = path.to_bytes();
            let artefact = note["artefact"].as_str().unwrap_or_default();
            exhibit_app::verify::review_text(&escape_name(artefact), Some(&escape_name_bytes(&name)), pages)
        }
        _ => escape_message(note["text"].as_str().unwrap_or_default()).into_owned(),
    }
}

/// The HTML integrity report of `case`, as `verify --report` writes it:
/// `export` puts it into every bag.
pub(super) async fn report_html(
    store: &dyn ObjectStore,
    case: &CaseId,
    options: &VerifyOptions,
) -> anyhow::Result<Vec<u8>> {
    let checked = exhibit_app::verify::verify_case(store, case, options).await.map_err(app_error)?;
    let full = checked.integrity_report(store).await.map_err(app_error)?;
    Ok(exhibit_report::render_report(&full).into_bytes())
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
