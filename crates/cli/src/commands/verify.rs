//! `exhibit verify`: the archivist's check of a whole case. Besides the
//! integrity problems (exit 1), it lists notes that need a person but are
//! not damage: OCR pages flagged for review, and paper bundles whose page
//! count differs from the count the operator gave.
//!
//! Exit 0 only when the case is intact and every signer is pinned by the
//! trusted keys; exit 3 when it is intact but no trusted keys were given, so
//! nobody checked who signed it; exit 2 when the case or store is not there.

use std::process::ExitCode;

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_custody::{HeadReceipt, VerifyOptions};
use serde_json::{Value, json};

use crate::config::Config;
use crate::session::{case_events, open_existing_store};
use crate::trust::{TrustArgs, load_trusted};
use crate::{EXIT_SIGNERS_UNCHECKED, EXIT_VERIFY_FAILED};

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Write the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    trust: TrustArgs,
    /// A head an earlier run printed (`head: seq N sha256 H`), given as
    /// N:H: the chain must still hold that entry.
    #[arg(long, value_name = "N:SHA256")]
    expect_head: Option<HeadReceipt>,
}

pub async fn run(mut args: VerifyArgs, config: Config) -> anyhow::Result<ExitCode> {
    let options = VerifyOptions {
        trusted_keys: load_trusted(&args.trust, &config)?,
        expect_head: args.expect_head,
        tsa_trust: super::anchor::tsa_trust(&config.anchoring)?,
    };
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let report = exhibit_custody::verify_case_with(store.as_ref(), &args.case, &options).await?;
    let events = case_events(store.as_ref(), &args.case).await?;
    let mut notes = notes(&events);
    notes.extend(super::truncation::truncation_notes(&events));
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        if let Value::Object(map) = &mut value {
            map.insert("notes".into(), Value::Array(notes));
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{report}");
        for note in &notes {
            println!("note: {}", note["text"].as_str().unwrap_or_default());
        }
    }
    // Intact but not fully checked (signers without a trust file, or
    // anchors without a TSA CA) is not a clean, trusted result.
    let anchors_unchecked = report.anchors.found > 0 && report.anchors.checked_against.is_none();
    Ok(match (report.is_clean(), report.signers_checked && !anchors_unchecked) {
        (false, _) => ExitCode::from(EXIT_VERIFY_FAILED),
        (true, false) => ExitCode::from(EXIT_SIGNERS_UNCHECKED),
        (true, true) => ExitCode::SUCCESS,
    })
}

/// Things a person should look at that are not damage.
fn notes(events: &[CustodyEvent]) -> Vec<Value> {
    let mut out = Vec::new();
    for e in events {
        let artefact = e.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.to_string());
        if e.action == Action::Ocr && e.params.get("rule").and_then(|r| r.as_str()) == Some("ocr-text") {
            if let Some(pages) = e.params.get(exhibit_ocr::FLAG_NEEDS_REVIEW).and_then(|p| p.as_array()) {
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
        if let (Action::Verified, Outcome::Failed { reason }) = (e.action, &e.outcome) {
            if e.params.contains_key("bundle") {
                out.push(json!({"kind": "page-count-mismatch", "exhibit": e.exhibit, "text": reason}));
            }
        }
    }
    out
}
