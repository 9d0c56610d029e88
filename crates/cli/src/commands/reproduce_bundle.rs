//! `exhibit reproduce` for a bundle's searchable PDF: joins verified copies
//! of its recorded page PDFs again, in the recorded order, with the recorded
//! title and date, and compares the file SHA-256.

use anyhow::Context as _;
use exhibit_app::artefact::reproduce::{Comparison, Sources};
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::InputRef;
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{ArtefactManifest, Derivation};

use super::reproduce::rederive_error;

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
    manifest: &ArtefactManifest,
    derivation: &Derivation,
    sources: &Sources<'_>,
) -> exhibit_app::Result<Comparison> {
    let inputs = recorded_inputs(derivation).map_err(rederive_error)?;
    if inputs.is_empty() {
        return Err(rederive_error(anyhow::anyhow!("the bundle's manifest lists no inputs")));
    }
    let mut docs = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let file = sources.copy(&input.id, &input.sha256, &i.to_string()).await?;
        let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.path().display()));
        docs.push(bytes.map_err(rederive_error)?);
    }
    join(manifest, derivation, docs, inputs).await.map_err(rederive_error)
}

/// Joins the page PDFs again with the recorded title and date.
async fn join(
    manifest: &ArtefactManifest,
    derivation: &Derivation,
    docs: Vec<Vec<u8>>,
    inputs: Vec<InputRef>,
) -> anyhow::Result<Comparison> {
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
