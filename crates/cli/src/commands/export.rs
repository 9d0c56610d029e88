//! `exhibit export`: a case (or one exhibit) as a BagIt bag that carries
//! its own offline checker, and as CASE/UCO JSON-LD. The ledger is checked
//! first, as `get` checks it; every manifest must be one the ledger
//! recorded; content is read through [`super::get::open_artefact`], and
//! the export is recorded in the ledger as an access.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use exhibit_core::event::{Action, Outcome};
use exhibit_core::ids::{ArtefactId, CaseId, ExhibitRef};
use exhibit_core::manifest::{ArtefactManifest, ToolInfo};
use exhibit_core::params::{EventParams, ExportedParams};
use exhibit_custody::RecordedArtefact;
use exhibit_export::{CaseSnapshot, ContentSource, ExportFacts};
use exhibit_pipeline::{CaseIndex, StageContext};
use exhibit_store::ObjectStore;
use serde_json::json;

use super::export_snapshot::{read_snapshot, write_listings};
use crate::config::Config;
use crate::logging::notice;
use crate::session::{actor, open_case, open_existing_store, open_signer, operator_or_user};
use crate::trust::KeyArgs;
use crate::{EXIT_USAGE, EXIT_VERIFY_FAILED};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("format").required(true).multiple(true).args(["bagit", "case_uco"])))]
pub struct ExportArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Only this exhibit (the whole ledger still goes in, so it can be checked).
    #[arg(long)]
    exhibit: Option<ExhibitRef>,
    /// Write a BagIt bag into this folder, which must be new or empty.
    #[arg(long, value_name = "DIR")]
    bagit: Option<PathBuf>,
    /// Write CASE/UCO JSON-LD to this file, which must not exist.
    #[arg(long, value_name = "FILE")]
    case_uco: Option<PathBuf>,
    /// The organisation the evidence comes from (the bag's Source-Organization).
    #[arg(long, value_name = "NAME")]
    organisation: Option<String>,
    /// An integrity report (`exhibit verify --report`) to put into the bag
    /// instead of the one export renders itself.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Who is exporting (default: $USER).
    #[arg(long)]
    operator: Option<String>,
    #[command(flatten)]
    keys: KeyArgs,
}

/// Reads content the way `get` does, from blocking export threads.
struct StoreContent {
    store: Arc<dyn ObjectStore>,
    case: CaseId,
    records: HashMap<ArtefactId, RecordedArtefact>,
    runtime: tokio::runtime::Handle,
}

impl ContentSource for StoreContent {
    fn open(&self, artefact: &ArtefactManifest) -> std::io::Result<Box<dyn std::io::Read + Send>> {
        let record = self.records.get(&artefact.id).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "no ledger entry records this artefact")
        })?;
        self.runtime
            .block_on(super::get::open_artefact(&self.store, &self.case, artefact, record))
            .map_err(|e| std::io::Error::other(format!("{e:#}")))
    }
}

pub async fn run(mut args: ExportArgs, config: Config) -> anyhow::Result<ExitCode> {
    if let Some(path) = args.case_uco.as_ref().filter(|p| p.symlink_metadata().is_ok()) {
        notice(&format!("{} already exists; choose another --case-uco path", path.display()));
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let operator = operator_or_user(args.operator.as_deref())?;
    let organisation = args.organisation.as_deref().map(check_organisation).transpose()?;
    let anchorer = super::anchor::anchorer(&config.anchoring)?;
    let store = open_existing_store(&config)?;
    args.case = super::export_checks::existing_case(store.as_ref(), &args.case).await?;
    if let Some(dir) = &args.bagit {
        super::export_checks::outside_store(store.as_ref(), dir)?;
    }
    let signer = open_signer(&config)?;
    let case = open_case(store.clone(), &args.case, signer.clone(), (&args.keys, &config)).await?;
    if let Some(typed) = &args.exhibit {
        let events = exhibit_custody::events_of(&case.entries).map(|(_, e)| e);
        args.exhibit = Some(super::export_checks::recorded_exhibit(events, &args.case, typed)?);
    }
    let report = match args.report.as_deref() {
        Some(path) => read_report(path)?,
        None => {
            let options = exhibit_custody::VerifyOptions {
                trusted_keys: crate::trust::load_trusted(&args.keys.trust, &config)?,
                expect_head: None,
                tsa_trust: super::anchor::tsa_trust(&config.anchoring)?,
            };
            super::verify::report_html(store.as_ref(), &args.case, &options).await?
        }
    };
    let (mut snapshot, records) =
        read_snapshot(store.as_ref(), &args.case, args.exhibit.as_ref(), &case.entries, Some(report)).await?;
    let listing_files = write_listings(store.as_ref(), &snapshot).await?;
    snapshot.listings = listing_files.iter().map(|(e, f)| (e.clone(), f.path().to_owned())).collect();
    let ctx = StageContext::new(
        args.case.clone(),
        store.clone(),
        case.ledger,
        actor(&operator, &signer),
        CaseIndex::default(),
    );
    let mut event = ctx.event(Action::Exported, args.exhibit.as_ref(), ToolInfo::exhibit("export"));
    let mut params = ExportedParams { artefacts: Some(snapshot.artefacts.len() as u64), ..Default::default() };
    let mut status = ExitCode::SUCCESS;
    if let Some(dir) = &args.bagit {
        let facts = ExportFacts {
            operator: operator.clone(),
            organisation,
            at: event.at,
            software: format!("exhibit {}", exhibit_core::TOOL_VERSION),
        };
        let source = StoreContent {
            store: store.clone(),
            case: args.case.clone(),
            records,
            runtime: tokio::runtime::Handle::current(),
        };
        match write_bag(dir.clone(), snapshot.clone(), facts, source).await? {
            Ok(summary) => {
                crate::logging::report(&format!(
                    "bag: {} ({} files, {} bytes)",
                    dir.display(),
                    summary.files,
                    summary.bytes
                ));
                params.bagit = Some(
                    json!({"dir": dir.display().to_string(), "files": summary.files, "bytes": summary.bytes, "manifest_sha256": summary.manifest_sha256}),
                );
            }
            Err(e) => {
                let conflict = e.kind() == exhibit_export::ExportErrorKind::Conflict;
                notice(&format!("the bag was not made: {e}"));
                if conflict {
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
                params.bagit = Some(json!({"dir": dir.display().to_string()}));
                event.outcome = Outcome::Failed { reason: format!("bag not made: {e}") };
                status = ExitCode::from(EXIT_VERIFY_FAILED);
            }
        }
    }
    if let Some(path) = &args.case_uco {
        let sha256 = write_case_uco(path, &snapshot)?;
        crate::logging::report(&format!("case/uco: {}", path.display()));
        params.case_uco = Some(json!({"file": path.display().to_string(), "sha256": sha256}));
    }
    event.set_params(EventParams::Exported(params));
    ctx.record(event).await?;
    if let Some(exhibit) = args.exhibit.as_ref().or(snapshot.artefacts.first().map(|a| &a.manifest.exhibit)) {
        super::anchor::anchor_after_record(&ctx, anchorer.as_deref(), exhibit).await;
    }
    Ok(status)
}

async fn write_bag(
    dir: PathBuf,
    snapshot: CaseSnapshot,
    facts: ExportFacts,
    source: StoreContent,
) -> anyhow::Result<Result<exhibit_export::BagSummary, exhibit_export::ExportError>> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    Ok(tokio::task::spawn_blocking(move || exhibit_export::export_bag(&dir, &snapshot, &facts, &source, workers))
        .await?)
}

/// Writes the JSON-LD next to its final name and moves it into place only
/// when complete, never over an existing file. Returns its SHA-256.
fn write_case_uco(path: &Path, snapshot: &CaseSnapshot) -> anyhow::Result<String> {
    let document = exhibit_export::case_uco_document(snapshot);
    let bytes = serde_json::to_vec_pretty(&document)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".exhibit-export-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(temp.as_file_mut(), &bytes)?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map_err(|e| e.error).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(exhibit_core::Sha256Digest::of(&bytes).to_hex())
}

/// The organisation's name goes into `bag-info.txt`: one line, 1 to 200
/// printable characters.
fn check_organisation(name: &str) -> anyhow::Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 || trimmed.chars().any(char::is_control) {
        anyhow::bail!(
            "--organisation {name:?} is not allowed: give the organisation's name, 1 to 200 printable characters"
        );
    }
    Ok(trimmed.to_owned())
}

/// The report file, bounded: it goes into the bag as a tag file.
fn read_report(path: &Path) -> anyhow::Result<Vec<u8>> {
    const LIMIT: u64 = 256 << 20;
    let file = std::fs::File::open(path).with_context(|| format!("cannot read the report {}", path.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, LIMIT + 1), &mut bytes)?;
    anyhow::ensure!(bytes.len() as u64 <= LIMIT, "the report {} is over {LIMIT} bytes", path.display());
    Ok(bytes)
}
