//! `exhibit ingest --manifest FILE`: one ingest per manifest row, each an
//! exhibit with its own path and metadata. The row's metadata is recorded
//! in a `described` event on the exhibit (again only when it changed), and
//! its `pages` become the bundle check. A bad row is reported by its line
//! and the other rows go ahead.
//!
//! With `--json`, stdout is one JSON document: the manifest, its SHA-256,
//! the exit code and one result per row, each row's ingest summary (what
//! `ingest --json` prints for one exhibit) under `ingest`.
//!
//! Exit code: the worst of the rows. 2 when a row was refused or failed
//! (fix it and rerun: rows already done are found already recorded), else
//! 3 when a row needs attention, else 0.

use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_core::Sha256Digest;
use exhibit_core::event::{Action, CustodyEvent};
use exhibit_core::ids::ExhibitRef;
use exhibit_core::item::ItemRecord;
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{DescribedParams, EventParams};
use exhibit_custody::LedgerEntry;
use exhibit_pipeline::StageContext;
use serde::Serialize;
use serde_json::json;

use super::ingest::IngestArgs;
use super::manifest_rows::{self, BadRow, Row};
use crate::config::Config;
use crate::logging::notice;
use crate::terminal::escape_message;

/// A manifest row's metadata, as one ingest records it.
#[derive(Debug, Clone)]
pub struct DescribedItem {
    pub item: ItemRecord,
    /// SHA-256 of the manifest file the row came from.
    pub manifest_sha256: Sha256Digest,
    /// The manifest file's name (without its folder), which reasons that
    /// follow from the row (an OCR skip) name with `place`.
    pub manifest_file: String,
    /// `line 4` or `item 3`.
    pub place: String,
    /// Columns the row cleared with `(clear)`.
    pub cleared: Vec<&'static str>,
}

/// How one row ended, for the closing table and `--json`.
#[derive(Debug, Serialize)]
struct RowResult {
    place: String,
    exhibit: Option<String>,
    /// `clean`, `needs-attention`, `failed` or `refused`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// With `--json`: the row's ingest summary, as `ingest --json` prints
    /// it for one exhibit (absent for a refused row or a run that stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    ingest: Option<serde_json::Value>,
}

pub async fn run(args: IngestArgs, config: Config) -> anyhow::Result<ExitCode> {
    let manifest = args.manifest.clone().context("no --manifest")?;
    let (sha256, rows) = manifest_rows::read(&manifest)?;
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let result = match row {
            Err(bad) => refused(bad),
            Ok(row) if row.case.as_ref().is_some_and(|c| c != &args.case) => refused(other_case(&row, &args.case)),
            Ok(row) => ingest_row(&args, &config, row, sha256).await?,
        };
        results.push(result);
    }
    let exit = worst(&results);
    if args.json {
        let doc = json!({"manifest": manifest.display().to_string(), "sha256": sha256.to_hex(), "exit": exit, "rows": results});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if !crate::logging::quiet() {
        // With -q each refused or failed row was a warning already.
        print_table(&manifest, &results);
    }
    Ok(ExitCode::from(exit))
}

/// A row of another case than the one being ingested.
fn other_case(row: &Row, case: &exhibit_core::CaseId) -> BadRow {
    let named = row.case.as_ref().map_or_else(String::new, |c| c.as_str().escape_debug().to_string());
    BadRow {
        place: row.place.clone(),
        exhibit: Some(row.exhibit.to_string()),
        reason: format!("case {named:?}: this ingest is for case {case}; ingest that row with --case {named}"),
    }
}

fn refused(bad: BadRow) -> RowResult {
    notice(&format!("manifest {}: {}; fix the row and rerun", bad.place, bad.reason));
    RowResult { place: bad.place, exhibit: bad.exhibit, status: "refused", reason: Some(bad.reason), ingest: None }
}

/// Runs the ordinary ingest for one row. A ledger that fails its check
/// stops the whole manifest (exit 1); any other error fails the row only.
async fn ingest_row(args: &IngestArgs, config: &Config, row: Row, sha256: Sha256Digest) -> anyhow::Result<RowResult> {
    let Row { place, exhibit, path, item, cleared, .. } = row;
    if !args.json && !crate::logging::quiet() {
        println!("{place}: exhibit {exhibit}");
    }
    let mut one = args.clone();
    one.manifest = None;
    one.exhibit = Some(exhibit.clone());
    one.paths = vec![path];
    one.pages = item.expected_pages;
    let manifest_file = args.manifest.as_deref().and_then(|m| m.file_name()).map(|n| n.to_string_lossy().into_owned());
    let manifest_file = manifest_file.unwrap_or_default();
    one.item =
        Some(Box::new(DescribedItem { item, manifest_sha256: sha256, manifest_file, place: place.clone(), cleared }));
    let sink = args.json.then(super::ingest::JsonSink::default);
    one.json_sink = sink.clone();
    let exhibit = Some(exhibit.to_string());
    let ran = Box::pin(super::ingest::run(one, config.clone())).await;
    let ingest = sink.and_then(|s| s.take());
    let (status, reason) = match ran {
        Ok(code) if code == ExitCode::SUCCESS => ("clean", None),
        Ok(code) if code == ExitCode::from(super::summary::EXIT_NEEDS_ATTENTION) => ("needs-attention", None),
        Ok(_) => ("failed", Some("some files failed; see above".into())),
        Err(e) if e.downcast_ref::<crate::ledger_gate::Refused>().is_some() => return Err(e),
        Err(e) => {
            notice(&format!("manifest {place}: {e:#}"));
            ("failed", Some(format!("{e:#}")))
        }
    };
    Ok(RowResult { place, exhibit, status, reason, ingest })
}

fn worst(results: &[RowResult]) -> u8 {
    if results.iter().any(|r| matches!(r.status, "failed" | "refused")) {
        crate::EXIT_USAGE
    } else if results.iter().any(|r| r.status == "needs-attention") {
        super::summary::EXIT_NEEDS_ATTENTION
    } else {
        0
    }
}

fn print_table(manifest: &std::path::Path, results: &[RowResult]) {
    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    println!(
        "manifest {}: {} row(s): {} clean, {} need attention, {} failed, {} refused",
        crate::terminal::escape_name(&manifest.display().to_string()),
        results.len(),
        count("clean"),
        count("needs-attention"),
        count("failed"),
        count("refused")
    );
    for r in results.iter().filter(|r| r.reason.is_some()) {
        let exhibit = r.exhibit.as_deref().map(|e| format!(" exhibit {e}")).unwrap_or_default();
        println!("  {}{exhibit}: {}: {}", r.place, r.status, escape_message(r.reason.as_deref().unwrap_or_default()));
    }
    if results.iter().any(|r| matches!(r.status, "failed" | "refused")) {
        println!(
            "  what to do: fix those rows (or their files) and rerun the same command; rows already done are not recorded twice"
        );
    }
}

/// Records the row's metadata on the exhibit, merged over its latest
/// description (an empty cell keeps the previous value, `(clear)` removes
/// it), unless the result is the same.
pub async fn describe(
    ctx: &StageContext,
    entries: &[LedgerEntry],
    exhibit: &ExhibitRef,
    item: &DescribedItem,
) -> anyhow::Result<()> {
    let latest = entries
        .iter()
        .rev()
        .flat_map(|e| e.events().iter().rev())
        .find(|e| e.action == Action::Described && e.exhibit.as_ref() == Some(exhibit));
    let latest = latest.and_then(CustodyEvent::described_params);
    let previous: ItemRecord = latest.as_ref().and_then(DescribedParams::item_record).unwrap_or_default();
    let value = serde_json::to_value(item.item.merged_over(&previous, &item.cleared))?;
    if latest.is_some_and(|p| p.item.as_ref() == Some(&value)) {
        return Ok(());
    }
    let mut event = ctx.event(Action::Described, Some(exhibit), ToolInfo::exhibit("manifest"));
    event.set_params(EventParams::Described(DescribedParams {
        item: Some(value),
        manifest: Some(json!({"sha256": item.manifest_sha256.to_hex(), "file": item.manifest_file, "row": item.place})),
    }));
    ctx.record(event).await?;
    Ok(())
}
