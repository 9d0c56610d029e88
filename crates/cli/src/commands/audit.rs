//! `exhibit audit`: the fixity audit. It re-hashes stored objects (all of
//! them, or with `--sample` the share checked longest ago) and records
//! what it found as `verified` events carrying `params.audit`
//! ([`exhibit_report::fixity::AuditRecord`]), so the next sampled run
//! starts where this one stopped. Exit 1 when anything failed, naming it.

use std::process::ExitCode;

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{EventParams, VerifiedParams};
use exhibit_report::fixity::{AuditFailure, AuditRecord, OBJECTS_PER_ENTRY};
use exhibit_store::ObjectStore;
use serde_json::{Value, json};
use tracing::{info, instrument};

use crate::EXIT_VERIFY_FAILED;
use crate::config::Config;
use crate::fixity::{AuditTarget, Fixity, audit_targets, rehash, schedule};
use crate::session::{OpenCase, actor, open_case, open_existing_store, open_signer, operator_or_user};
use crate::trust::KeyArgs;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Case ID.
    #[arg(long, required_unless_present = "all", conflicts_with = "all")]
    case: Option<CaseId>,
    /// Audit every case in the store.
    #[arg(long)]
    all: bool,
    /// Re-hash only this share of each case, in percent: the objects
    /// checked longest ago first, so five runs at 20 cover everything.
    #[arg(long, value_name = "PERCENT", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100))]
    sample: u64,
    /// Who is auditing (default: $USER).
    #[arg(long)]
    operator: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    keys: KeyArgs,
}

/// One case's audit.
struct CaseAudit {
    case: CaseId,
    total: usize,
    checked: usize,
    failed: Vec<(AuditTarget, Fixity)>,
}

pub async fn run(args: AuditArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    let operator = operator_or_user(args.operator.as_deref())?;
    let cases = match &args.case {
        // Auditing must never create the case it names.
        Some(case) => vec![crate::spelling::existing_case(store.as_ref(), case).await?],
        None => super::verify_all::all_cases(store.as_ref()).await?,
    };
    let mut results = Vec::new();
    let mut failed = false;
    for case in &cases {
        let audit = match audit_case(&args, &config, store.clone(), case, &operator).await {
            Ok(audit) => audit,
            // One case whose ledger is refused must not stop the others.
            Err(e) if args.all => {
                failed = true;
                eprintln!("exhibit: case {case}: audit FAILED: {e:#}");
                results.push(json!({"case": case, "error": format!("{e:#}")}));
                continue;
            }
            Err(e) => return Err(e),
        };
        failed |= !audit.failed.is_empty();
        print_text(&args, &audit);
        results.push(to_json(&audit));
    }
    if args.json {
        let value = if args.all { json!({"cases": results}) } else { results.pop().unwrap_or(Value::Null) };
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok(if failed { ExitCode::from(EXIT_VERIFY_FAILED) } else { ExitCode::SUCCESS })
}

#[instrument(skip(args, config, store, operator), fields(case = %case, sample = args.sample))]
async fn audit_case(
    args: &AuditArgs,
    config: &Config,
    store: std::sync::Arc<dyn ObjectStore>,
    case: &CaseId,
    operator: &str,
) -> anyhow::Result<CaseAudit> {
    let signer = open_signer(config)?;
    let opened = open_case(store.clone(), case, signer.clone(), (&args.keys, config)).await?;
    let pairs: Vec<(u64, CustodyEvent)> =
        exhibit_custody::events_of(&opened.entries).map(|(seq, e)| (seq, e.clone())).collect();
    let targets =
        crate::fixity_views::with_views(store.as_ref(), case, &opened.entries, audit_targets(&opened.entries)).await?;
    let total = targets.len();
    let chosen = schedule(targets, &pairs, args.sample);
    let mut results = Vec::with_capacity(chosen.len());
    let mut images = crate::fixity_views::ImageFixity::default();
    for target in chosen {
        let fixity = rehash(store.as_ref(), case, &target, &mut images).await?;
        results.push((target, fixity));
    }
    record(&opened, case, &actor(operator, &signer), args.sample, &results).await?;
    let checked = results.len();
    let failed: Vec<(AuditTarget, Fixity)> = results.into_iter().filter(|(_, f)| *f != Fixity::Intact).collect();
    info!(total, checked, failed = failed.len(), "audited case");
    Ok(CaseAudit { case: case.clone(), total, checked, failed })
}

/// Appends one `verified` event per [`OBJECTS_PER_ENTRY`] targets.
async fn record(
    opened: &OpenCase,
    case: &CaseId,
    actor: &exhibit_core::event::Actor,
    sample: u64,
    results: &[(AuditTarget, Fixity)],
) -> anyhow::Result<()> {
    let mut events = Vec::new();
    for chunk in results.chunks(OBJECTS_PER_ENTRY) {
        let mut record = AuditRecord { sample_percent: sample, ..Default::default() };
        let mut reasons = Vec::new();
        for (target, fixity) in chunk {
            let view = match target {
                AuditTarget::View(v) => Some(v.id.clone()),
                AuditTarget::Object { .. } => None,
            };
            match (fixity, view) {
                (Fixity::Intact, None) => record.intact.push(target.sha256()),
                (Fixity::Intact, Some(id)) => record.intact_views.push(id),
                (Fixity::Altered | Fixity::Missing, view) => {
                    let fault = fault_name(*fixity);
                    reasons.push(format!("{}: {fault}", target.describe()));
                    record.failed.push(AuditFailure { sha256: target.sha256(), fault: fault.to_owned(), view });
                }
            }
        }
        let params =
            EventParams::Verified(VerifiedParams { audit: Some(serde_json::to_value(&record)?), ..Default::default() })
                .to_map();
        events.push(CustodyEvent {
            at: time::OffsetDateTime::now_utc(),
            case: case.clone(),
            exhibit: None,
            action: Action::Verified,
            artefact: None,
            inputs: Vec::new(),
            tool: ToolInfo::exhibit("audit"),
            params,
            actor: actor.clone(),
            outcome: if reasons.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Failed { reason: format!("fixity audit: {}", reasons.join("; ")) }
            },
        });
    }
    opened.ledger.append_batch(&events).await?;
    Ok(())
}

fn fault_name(f: Fixity) -> &'static str {
    match f {
        Fixity::Intact => "intact",
        Fixity::Altered => "altered",
        Fixity::Missing => "missing",
    }
}

fn print_text(args: &AuditArgs, a: &CaseAudit) {
    if args.json {
        return;
    }
    for (target, fixity) in &a.failed {
        println!("FAILED: case {}: {}: {}", a.case, target.describe(), fault_name(*fixity));
    }
    if crate::logging::quiet() && a.failed.is_empty() {
        return;
    }
    println!(
        "audit: case {}: re-hashed {} of {} objects and views ({}% sample, longest unchecked first): {}",
        a.case,
        a.checked,
        a.total,
        args.sample,
        if a.failed.is_empty() { "all intact".to_owned() } else { format!("{} FAILED", a.failed.len()) }
    );
}

fn to_json(a: &CaseAudit) -> Value {
    let failed: Vec<Value> = a
        .failed
        .iter()
        .map(|(t, f)| match t {
            AuditTarget::Object { sha256, artefacts } => {
                json!({"target": "object", "sha256": sha256, "artefacts": artefacts, "fault": fault_name(*f)})
            }
            AuditTarget::View(v) => json!({
                "target": "view", "sha256": v.sha256, "artefact": v.id, "image_sha256": v.base_sha256(),
                "fault": fault_name(*f)
            }),
        })
        .collect();
    json!({"case": a.case, "total": a.total, "checked": a.checked, "failed": failed})
}
