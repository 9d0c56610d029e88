//! `exhibit verify --all`: every case in the store, one after another, for
//! scheduled runs. Each case's report is printed as `verify` prints it;
//! the exit code is the worst case's (failed over unchecked over trusted),
//! and a case that cannot be checked at all counts as failed.

use std::collections::BTreeSet;
use std::process::ExitCode;

use exhibit_core::ids::CaseId;
use exhibit_core::layout::parse_case_from_key;
use exhibit_custody::VerifyOptions;
use exhibit_report::Verdict;
use exhibit_store::ObjectStore;
use serde_json::{Value, json};
use tracing::{instrument, warn};

use super::verify::exit_code;
use crate::EXIT_USAGE;

/// Every case with anything stored under it.
pub(super) async fn all_cases(store: &dyn ObjectStore) -> anyhow::Result<Vec<CaseId>> {
    let cases: BTreeSet<CaseId> =
        store.list("cases/").await?.iter().filter_map(|meta| parse_case_from_key(meta.key.as_str())).collect();
    Ok(cases.into_iter().collect())
}

#[instrument(skip_all)]
pub(super) async fn run(store: &dyn ObjectStore, options: &VerifyOptions, json: bool) -> anyhow::Result<ExitCode> {
    let cases = all_cases(store).await?;
    if cases.is_empty() {
        eprintln!("exhibit: the store {} holds no case", store.uri());
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut worst = Verdict::Trusted;
    let mut out: Vec<Value> = Vec::new();
    let mut tally = [0usize; 3];
    for case in &cases {
        let (verdict, value) = match exhibit_custody::verify_case_with(store, case, options).await {
            Ok(report) => {
                let verdict = Verdict::of(&report);
                let silent = json || (crate::logging::quiet() && verdict == Verdict::Trusted);
                if !silent {
                    println!("case {case}: {report}\n");
                }
                (verdict, serde_json::to_value(&report)?)
            }
            Err(e) => {
                warn!(case = %case, error = %e, "case could not be verified");
                if !json {
                    println!("case {case}: FAILED: cannot be verified: {e}\n");
                }
                (Verdict::Failed, json!({"case": case, "error": e.to_string()}))
            }
        };
        tally[rank(verdict)] += 1;
        worst = if rank(verdict) > rank(worst) { verdict } else { worst };
        out.push(json!({"verdict": verdict, "report": value}));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&json!({"verdict": worst, "cases": out}))?);
    } else if !(crate::logging::quiet() && worst == Verdict::Trusted) {
        println!(
            "verified {} case{}: {} trusted, {} intact but not checked against trusted keys, {} FAILED",
            cases.len(),
            if cases.len() == 1 { "" } else { "s" },
            tally[0],
            tally[1],
            tally[2]
        );
    }
    Ok(exit_code(worst))
}

fn rank(v: Verdict) -> usize {
    match v {
        Verdict::Trusted => 0,
        Verdict::IntactUnchecked => 1,
        Verdict::Failed => 2,
    }
}
