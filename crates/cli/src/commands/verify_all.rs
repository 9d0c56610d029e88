//! `exhibit verify --all`: every case in the store, one after another, for
//! scheduled runs. Each case's report is printed as `verify` prints it;
//! the exit code is the worst case's (failed over unchecked over trusted),
//! and a case that cannot be checked at all counts as failed.

use std::process::ExitCode;

use exhibit_app::verify::VerdictTally;
use exhibit_core::ids::CaseId;
use exhibit_custody::VerifyOptions;
use exhibit_report::Verdict;
use exhibit_store::ObjectStore;
use serde_json::{Value, json};
use tracing::{instrument, warn};

use super::verify::exit_code;
use crate::EXIT_USAGE;
use crate::session::app_error;
use crate::terminal::{escape_lines, escape_message};

/// Every case with anything stored under it.
pub(super) async fn all_cases(store: &dyn ObjectStore) -> anyhow::Result<Vec<CaseId>> {
    exhibit_app::verify::all_cases(store).await.map_err(app_error)
}

#[instrument(skip_all)]
pub(super) async fn run(store: &dyn ObjectStore, options: &VerifyOptions, json: bool) -> anyhow::Result<ExitCode> {
    let cases = all_cases(store).await?;
    if cases.is_empty() {
        eprintln!("exhibit: the store {} holds no case", store.uri());
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut out: Vec<Value> = Vec::new();
    let mut tally = VerdictTally::default();
    for case in &cases {
        let (verdict, value) = match exhibit_custody::verify_case_with(store, case, options).await {
            Ok(report) => {
                let verdict = Verdict::of(&report);
                let silent = json || (crate::logging::quiet() && verdict == Verdict::Trusted);
                if !silent {
                    println!("case {case}: {}\n", escape_lines(&report.to_string()));
                }
                (verdict, serde_json::to_value(&report)?)
            }
            Err(e) => {
                warn!(case = %case, error = %e, "case could not be verified");
                if !json {
                    println!("case {case}: FAILED: cannot be verified: {}\n", escape_message(&e.to_string()));
                }
                (Verdict::Failed, json!({"case": case, "error": e.to_string()}))
            }
        };
        tally.add(verdict);
        out.push(json!({"verdict": verdict, "report": value}));
    }
    let worst = tally.worst;
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({"verdict": worst, "cases": out}))?);
    } else if !(crate::logging::quiet() && worst == Verdict::Trusted) {
        println!(
            "verified {} case{}: {} trusted, {} intact but not checked against trusted keys, {} FAILED",
            cases.len(),
            if cases.len() == 1 { "" } else { "s" },
            tally.counts[0],
            tally.counts[1],
            tally.counts[2]
        );
    }
    Ok(exit_code(worst))
}
