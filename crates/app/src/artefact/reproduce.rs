//! The `reproduce` use case (ACPO principle 3): re-run the derivation that
//! made an artefact from checked copies of its recorded sources, compare
//! the result with what was stored, and record the check as a `verified`
//! event. How a derivation is re-run is the caller's ([`Rederive`]): the
//! CLI and the worker compile the transcode and OCR stages, this crate
//! does not.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, ArtefactRef, InputRef, Outcome};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{ArtefactManifest, Derivation, ToolInfo};
use exhibit_core::params::{EventParams, VerifiedParams};
use exhibit_pipeline::StageContext;
use exhibit_store::{LocalCopy, ObjectStore};
use tracing::instrument;

use super::{ArtefactRequest, OpenArtefact, open_artefact, read_manifest, stored_error};
use crate::case_open::TrustPolicy;
use crate::{AppError, Result};

/// The largest manifest `reproduce` reads (a bundle's lists every page).
pub const MANIFEST_LIMIT: u64 = 16 << 20;

/// What the re-run produced, against what was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// What was compared (`file SHA-256`, `decoded-content SHA-256`).
    pub compared: &'static str,
    /// The recorded value.
    pub recorded: String,
    /// The value the re-run gave.
    pub reproduced: String,
    /// The inputs it was made from, in order (a bundle's page PDFs); empty
    /// for the parent alone.
    pub inputs: Vec<InputRef>,
}

/// Re-runs one kind of derivation. Errors of the derivation itself are
/// [`AppError::Rederive`]; a source that fails its check is whatever
/// [`Sources::copy`] returned.
#[async_trait]
pub trait Rederive: Send + Sync {
    /// Makes `manifest`'s artefact again under `derivation`, reading its
    /// sources through `sources`.
    async fn rederive(
        &self,
        manifest: &ArtefactManifest,
        derivation: &Derivation,
        sources: &Sources<'_>,
    ) -> Result<Comparison>;
}

/// Checked local copies of a derivative's sources, in a scratch folder.
pub struct Sources<'a> {
    context: &'a StageContext,
    scratch: &'a Path,
}

impl Sources<'_> {
    /// A local copy of artefact `id` re-hashed against `sha256` (from the
    /// derivative's recorded manifest), in the subfolder `slot` of the
    /// scratch folder: a hard link where the store is local, else a
    /// verified download. A source that is missing or fails its hash is
    /// stored damage ([`AppError::Damaged`]).
    pub async fn copy(&self, id: &ArtefactId, sha256: &Sha256Digest, slot: &str) -> Result<LocalCopy> {
        let what = "cannot read the source of the derivative";
        let dir = self.scratch.join(slot);
        std::fs::create_dir_all(&dir).map_err(|source| AppError::Io { path: dir.clone(), source })?;
        let (store, case) = (&self.context.store, &self.context.case);
        let manifest =
            exhibit_store::view::read_manifest(store.as_ref(), case, id).await.map_err(|e| stored_error(e, what))?;
        exhibit_store::view::materialise(store, case, &manifest, *sha256, &dir).await.map_err(|e| stored_error(e, what))
    }
}

/// A derivative made again, not yet recorded.
pub struct Reproduction {
    /// The derivative, its manifest checked against the ledger.
    pub artefact: OpenArtefact,
    /// How it was made.
    pub derivation: Derivation,
    /// What the re-run gave.
    pub comparison: Comparison,
}

impl Reproduction {
    /// Whether the re-run gave what was recorded.
    pub fn same(&self) -> bool {
        self.comparison.recorded == self.comparison.reproduced
    }
}

/// Re-derives the artefact of `request`: its manifest must be one the
/// ledger recorded (read once, with the chain check), and a derivative.
#[instrument(skip_all, fields(case = %request.case, artefact = %request.artefact))]
pub async fn reproduce(
    store: Arc<dyn ObjectStore>,
    trust: &TrustPolicy,
    request: ArtefactRequest,
    rederive: &dyn Rederive,
) -> Result<Reproduction> {
    let stored = read_manifest(store.as_ref(), &request.case, &request.artefact, MANIFEST_LIMIT).await?;
    // Only a manifest the ledger recorded names the source and the
    // derivation to re-run: a rewritten one could point anywhere.
    let artefact = open_artefact(store, (request.signer, request.actor), trust, &request.case, stored).await?;
    let manifest = &artefact.manifest;
    let (Some(derivation), Some(_)) = (&manifest.derivation, &manifest.parent) else {
        return Err(AppError::Request(format!(
            "artefact {} is not a derivative; only derivatives can be reproduced",
            request.artefact
        )));
    };
    let derivation = derivation.clone();
    let scratch = exhibit_pipeline::scratch_dir()?;
    let sources = Sources { context: &artefact.context, scratch: scratch.path() };
    let comparison = rederive.rederive(manifest, &derivation, &sources).await?;
    Ok(Reproduction { artefact, derivation, comparison })
}

impl Reproduction {
    /// Appends the `verified` event: reproduced or not, what was compared
    /// and the hash the re-run gave; a difference is a failed outcome.
    pub async fn record(&self) -> Result<Option<u64>> {
        let (ctx, manifest, c) = (&self.artefact.context, &self.artefact.manifest, &self.comparison);
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
            reproduced: Some(self.same()),
            compared: Some(c.compared.into()),
            reproduced_hash: Some(c.reproduced.clone()),
            ..Default::default()
        }));
        if !self.same() {
            event.outcome = Outcome::Failed {
                reason: format!("re-running the derivation gave {} instead of {}", c.reproduced, c.recorded),
            };
        }
        Ok(ctx.record(event).await?)
    }
}
