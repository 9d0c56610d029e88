//! `exhibit reproduce` for a bundle's searchable PDF: joins verified copies
//! of its recorded page PDFs again, in the recorded order, with the recorded
//! title and date, and compares the file SHA-256.

use anyhow::{Context as _, bail};
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::InputRef;
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{ArtefactManifest, Derivation};
use exhibit_pipeline::StageContext;

use super::reproduce::{Comparison, source_file};

/// The page PDFs a bundle was made from, in page order (from its recorded manifest).
fn recorded_inputs(derivation: &Derivation) -> anyhow::Result<Vec<InputRef>> {
    let inputs = derivation
        .details
        .get(exhibit_ocr::PARAM_BUNDLE)
        .and_then(|b| b.get("inputs"))
        .and_then(|i| i.as_array())
        .context("the bundle's manifest lists no inputs")?;
    inputs
        .iter()
        .map(|i| {
            let id: ArtefactId = i["pdf"].as_str().context("a bundle input has no artefact")?.parse()?;
            let sha256 = i["pdf_sha256"].as_str().context("a bundle input has no SHA-256")?.parse::<Sha256Digest>()?;
            Ok(InputRef { id, sha256 })
        })
        .collect()
}

pub(super) async fn reproduce(
    ctx: &StageContext,
    manifest: &ArtefactManifest,
    derivation: &Derivation,
    scratch: &std::path::Path,
) -> anyhow::Result<Comparison> {
    let inputs = recorded_inputs(derivation)?;
    if inputs.is_empty() {
        bail!("the bundle's manifest lists no inputs");
    }
    let mut docs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let dir = scratch.join(i.to_string());
        std::fs::create_dir_all(&dir)?;
        let file = source_file(ctx, &input.id, &input.sha256, &dir).await?;
        docs.push(std::fs::read(&file).with_context(|| format!("cannot read {}", file.path().display()))?);
    }
    let detail = |key: &str| derivation.details.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let created = time::OffsetDateTime::parse(
        &detail(exhibit_ocr::DETAIL_PDF_CREATED),
        &time::format_description::well_known::Rfc3339,
    )
    .context("the bundle's manifest has no valid creation date")?;
    let info = exhibit_ocr::DocumentInfo { title: detail(exhibit_ocr::DETAIL_PDF_TITLE), created };
    let (pdf, _) = tokio::task::spawn_blocking(move || exhibit_ocr::bundle_pdf(&docs, &info)).await??;
    Ok(Comparison {
        compared: "file SHA-256",
        recorded: manifest.digests.sha256.to_hex(),
        reproduced: Sha256Digest::of(&pdf).to_hex(),
        inputs,
    })
}
