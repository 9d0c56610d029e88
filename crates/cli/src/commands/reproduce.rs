//! `exhibit reproduce`: re-runs the derivation that made an artefact and
//! compares the result with what was stored (ACPO principle 3). The check
//! is recorded in the ledger.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use exhibit_core::event::{Action, ArtefactRef, InputRef, Outcome};
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::manifest_key;
use exhibit_core::manifest::{ArtefactManifest, ToolInfo};
use exhibit_core::params::{EventParams, VerifiedParams};
use exhibit_pipeline::{CaseIndex, StageContext};

use super::ingest::transcode_stage;
use crate::EXIT_VERIFY_FAILED;
use crate::config::Config;
use crate::ledger_gate::recorded_manifest;
use crate::session::{actor, open_case, open_existing_store, open_signer, operator_or_user};
use crate::stored_damage::classify;
use crate::trust::KeyArgs;

#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// The derivative artefact to re-derive.
    #[arg(long)]
    artefact: ArtefactId,
    /// Who is checking (default: $USER).
    #[arg(long)]
    operator: Option<String>,
    #[command(flatten)]
    keys: KeyArgs,
}

/// What the re-run produced, against what was recorded.
pub(super) struct Comparison {
    pub(super) compared: &'static str,
    pub(super) recorded: String,
    pub(super) reproduced: String,
    /// The inputs it was made from, in order (a bundle's page PDFs; else the parent).
    pub(super) inputs: Vec<InputRef>,
}

pub async fn run(mut args: ReproduceArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let bytes = exhibit_store::read_small(store.as_ref(), &manifest_key(&args.case, &args.artefact), 16 << 20)
        .await
        .with_context(|| format!("no artefact {} in case {}", args.artefact, args.case))?;
    let manifest: ArtefactManifest =
        serde_json::from_slice(&bytes).context("the manifest is damaged; run `exhibit verify`")?;
    let operator = operator_or_user(args.operator.as_deref())?;
    let anchorer = super::anchor::anchorer(&config.anchoring)?;
    let signer = open_signer(&config)?;
    let case = open_case(store.clone(), &args.case, signer.clone(), (&args.keys, &config)).await?;
    // Only a manifest the ledger recorded names the source and the
    // derivation to re-run: a rewritten one could point anywhere.
    recorded_manifest(&case.entries, &args.artefact, &bytes, &manifest)?;
    let ctx = StageContext::new(
        args.case.clone(),
        store.clone(),
        case.ledger,
        actor(&operator, &signer),
        CaseIndex::default(),
    );
    let (Some(derivation), Some(parent)) = (&manifest.derivation, &manifest.parent) else {
        bail!("artefact {} is not a derivative; only derivatives can be reproduced", args.artefact);
    };
    // A checked local copy of the source: a hard link where the store is
    // local, else (and for a view into an image) a verified download.
    let scratch = exhibit_pipeline::scratch_dir()?;
    let comparison = if derivation.rule == exhibit_ocr::BUNDLE_RULE {
        super::reproduce_bundle::reproduce(&ctx, &manifest, derivation, scratch.path()).await?
    } else {
        reproduce_one(&config, &ctx, &manifest, (derivation, parent), scratch.path()).await?
    };
    let same = comparison.recorded == comparison.reproduced;
    // A difference is printed even with -q: it is the error.
    let line = format!(
        "artefact {} (rule {}, policy {}): {} {} {}",
        args.artefact,
        derivation.rule,
        derivation.policy_version,
        comparison.compared,
        if same { "reproduced identically:" } else { "DIFFERS: recorded" },
        if same {
            comparison.recorded.clone()
        } else {
            format!("{} reproduced {}", comparison.recorded, comparison.reproduced)
        },
    );
    if same {
        crate::logging::report(&line)
    } else {
        println!("{line}")
    }
    record(&ctx, anchorer.as_deref(), &manifest, &comparison, same).await?;
    Ok(if same { ExitCode::SUCCESS } else { ExitCode::from(EXIT_VERIFY_FAILED) })
}

/// Re-derives a one-parent derivative from a verified copy of its parent.
async fn reproduce_one(
    config: &Config,
    ctx: &StageContext,
    manifest: &ArtefactManifest,
    (derivation, parent): (&exhibit_core::manifest::Derivation, &exhibit_core::manifest::ParentRef),
    scratch: &std::path::Path,
) -> anyhow::Result<Comparison> {
    let source = source_file(ctx, &parent.id, &parent.sha256, scratch).await?;
    Ok(match manifest.tool.name.as_str() {
        "exhibit/transcode" => reproduce_transcode(config, source.path(), manifest, derivation).await?,
        "exhibit/ocr" => reproduce_ocr(config, source.path(), manifest, derivation).await?,
        other => bail!("artefacts made by {other} cannot be reproduced by this version"),
    })
}

async fn reproduce_transcode(
    config: &Config,
    source: &std::path::Path,
    manifest: &ArtefactManifest,
    derivation: &exhibit_core::manifest::Derivation,
) -> anyhow::Result<Comparison> {
    let stage = transcode_stage(config)?;
    if stage.policy.version != derivation.policy_version {
        bail!(
            "the artefact was made under policy {}, the configured policy is {}; configure that version to reproduce it",
            derivation.policy_version,
            stage.policy.version
        );
    }
    let scratch = exhibit_pipeline::scratch_dir()?;
    let (policy, limits, src, out) =
        (stage.policy.clone(), stage.limits.clone(), source.to_owned(), scratch.path().to_owned());
    let outcome =
        tokio::task::spawn_blocking(move || exhibit_transcode::transcode(&src, &policy, &out, &limits)).await??;
    let output = outcome
        .outputs
        .iter()
        .find(|o| o.rule == derivation.rule)
        .with_context(|| format!("the policy no longer has rule {}", derivation.rule))?;
    Ok(if derivation.deterministic {
        Comparison {
            compared: "file SHA-256",
            recorded: manifest.digests.sha256.to_hex(),
            reproduced: output.sha256.clone(),
            inputs: Vec::new(),
        }
    } else {
        let recorded = derivation.details.get("decoded_sha256").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let reproduced = output.decoded_sha256.clone().unwrap_or_default();
        Comparison { compared: "decoded-content SHA-256", recorded, reproduced, inputs: Vec::new() }
    })
}

/// Re-runs OCR under the configured `[ocr]` policy (which must be the
/// recorded one) and compares the output file of the artefact's rule. The
/// PDF/A is rebuilt with the recorded title and creation date; text, hOCR
/// and PDF are byte-for-byte reproducible with the same Tesseract and
/// Leptonica versions (recorded in the manifest's tool libraries).
async fn reproduce_ocr(
    config: &Config,
    source: &std::path::Path,
    manifest: &ArtefactManifest,
    derivation: &exhibit_core::manifest::Derivation,
) -> anyhow::Result<Comparison> {
    let stage = exhibit_ocr::OcrStage { policy: config.ocr.clone() };
    if stage.policy_version() != derivation.policy_version {
        bail!(
            "the artefact was made under OCR policy {}, the configured policy is {}; configure [ocr] as it was to reproduce it",
            derivation.policy_version,
            stage.policy_version()
        );
    }
    let file =
        exhibit_ocr::output_file(&derivation.rule).with_context(|| format!("unknown OCR rule {}", derivation.rule))?;
    let detail = |key: &str| derivation.details.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let created = detail(exhibit_ocr::DETAIL_PDF_CREATED);
    let created = time::OffsetDateTime::parse(&created, &time::format_description::well_known::Rfc3339)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let info = exhibit_ocr::DocumentInfo { title: detail(exhibit_ocr::DETAIL_PDF_TITLE), created };
    let scratch = exhibit_pipeline::scratch_dir()?;
    let (policy, src, out) = (stage.policy.clone(), source.to_owned(), scratch.path().to_owned());
    tokio::task::spawn_blocking(move || {
        exhibit_ocr::ocr_to_pdfa(&src, "application/octet-stream", &policy, &out, &info)
    })
    .await??;
    let bytes = std::fs::read(scratch.path().join(file)).with_context(|| format!("OCR made no {file}"))?;
    Ok(Comparison {
        compared: "file SHA-256",
        recorded: manifest.digests.sha256.to_hex(),
        reproduced: exhibit_core::digest::Sha256Digest::of(&bytes).to_hex(),
        inputs: Vec::new(),
    })
}

async fn record(
    ctx: &StageContext,
    anchorer: Option<&super::anchor::Anchorer>,
    manifest: &ArtefactManifest,
    c: &Comparison,
    same: bool,
) -> anyhow::Result<()> {
    let mut event = ctx.event(Action::Verified, Some(&manifest.exhibit), ToolInfo::exhibit("reproduce"));
    event.artefact = Some(ArtefactRef {
        id: Some(manifest.id.clone()),
        sha256: manifest.digests.sha256,
        size: manifest.size,
        manifest_sha256: None,
    });
    event.inputs = c.inputs.clone();
    if let (true, Some(parent)) = (event.inputs.is_empty(), &manifest.parent) {
        event.inputs = vec![InputRef { id: parent.id.clone(), sha256: parent.sha256 }];
    }
    event.set_params(EventParams::Verified(VerifiedParams {
        reproduced: Some(same),
        compared: Some(c.compared.into()),
        reproduced_hash: Some(c.reproduced.clone()),
        ..Default::default()
    }));
    if !same {
        event.outcome = Outcome::Failed {
            reason: format!("re-running the derivation gave {} instead of {}", c.reproduced, c.recorded),
        };
    }
    ctx.record(event).await?;
    super::anchor::anchor_after_record(ctx, anchorer, &manifest.exhibit).await;
    Ok(())
}

/// A checked local copy of the derivative's source, re-hashed against
/// `sha256` (from the derivative's recorded manifest). A source that is
/// missing or fails its hash is stored damage (exit 1), not bad input.
pub(super) async fn source_file(
    ctx: &StageContext,
    id: &ArtefactId,
    sha256: &exhibit_core::digest::Sha256Digest,
    dir: &std::path::Path,
) -> anyhow::Result<exhibit_store::LocalCopy> {
    let what = "cannot read the source of the derivative";
    let manifest =
        exhibit_store::view::read_manifest(ctx.store.as_ref(), &ctx.case, id).await.map_err(|e| classify(e, what))?;
    exhibit_store::view::materialise(&ctx.store, &ctx.case, &manifest, *sha256, dir)
        .await
        .map_err(|e| classify(e, what))
}
