//! `exhibit reproduce`: re-runs the derivation that made an artefact and
//! compares the result with what was stored (ACPO principle 3). The check
//! is recorded in the ledger. The use case is the application layer's
//! (`exhibit_app::artefact::reproduce`); this file supplies the stages that
//! re-derive (transcode, OCR, bundles) and prints the result.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use exhibit_app::AppError;
use exhibit_app::artefact::ArtefactRequest;
use exhibit_app::artefact::reproduce::{Comparison, Rederive, Sources, reproduce};
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::manifest::{ArtefactManifest, Derivation};

use super::ingest::transcode_stage;
use crate::EXIT_VERIFY_FAILED;
use crate::config::Config;
use crate::session::{actor, app_error, open_existing_store, open_signer, operator_or_user, trust_policy};
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

pub async fn run(mut args: ReproduceArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let operator = operator_or_user(args.operator.as_deref())?;
    let anchorer = super::anchor::anchorer(&config.anchoring)?;
    let signer = open_signer(&config)?;
    let trust = trust_policy((&args.keys, &config))?;
    let request = ArtefactRequest {
        case: args.case.clone(),
        artefact: args.artefact.clone(),
        actor: actor(&operator, &signer),
        signer: signer.clone(),
    };
    let rederive = ConfiguredStages { config: &config };
    let done = reproduce(store, &trust, request, &rederive).await.map_err(app_error)?;
    let (comparison, derivation, same) = (&done.comparison, &done.derivation, done.same());
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
    done.record().await.map_err(app_error)?;
    let artefact = &done.artefact;
    super::anchor::anchor_after_record(&artefact.context, anchorer.as_deref(), &artefact.manifest.exhibit).await;
    Ok(if same { ExitCode::SUCCESS } else { ExitCode::from(EXIT_VERIFY_FAILED) })
}

/// Re-runs derivations with the stages this configuration sets up:
/// transcode under `normalisation.toml`, OCR under `[ocr]`, and bundles.
struct ConfiguredStages<'a> {
    config: &'a Config,
}

#[async_trait::async_trait]
impl Rederive for ConfiguredStages<'_> {
    async fn rederive(
        &self,
        manifest: &ArtefactManifest,
        derivation: &Derivation,
        sources: &Sources<'_>,
    ) -> exhibit_app::Result<Comparison> {
        if derivation.rule == exhibit_ocr::BUNDLE_RULE {
            return super::reproduce_bundle::reproduce(manifest, derivation, sources).await;
        }
        let Some(parent) = &manifest.parent else {
            return Err(rederive_error(anyhow::anyhow!("artefact {} has no parent", manifest.id)));
        };
        // A checked local copy of the source: a hard link where the store is
        // local, else (and for a view into an image) a verified download.
        let source = sources.copy(&parent.id, &parent.sha256, "source").await?;
        let compared = match manifest.tool.name.as_str() {
            "exhibit/transcode" => reproduce_transcode(self.config, source.path(), manifest, derivation).await,
            "exhibit/ocr" => reproduce_ocr(self.config, source.path(), manifest, derivation).await,
            other => Err(anyhow::anyhow!("artefacts made by {other} cannot be reproduced by this version")),
        };
        compared.map_err(rederive_error)
    }
}

/// A failed re-run as the application layer carries it: the whole chain.
pub(super) fn rederive_error(e: anyhow::Error) -> AppError {
    AppError::Rederive(format!("{e:#}"))
}

async fn reproduce_transcode(
    config: &Config,
    source: &std::path::Path,
    manifest: &ArtefactManifest,
    derivation: &Derivation,
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
    derivation: &Derivation,
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
