//! Writing manifests create-only, for every stage that makes artefacts.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::layout::manifest_key;
use exhibit_core::manifest::ArtefactManifest;
use exhibit_store::StoreErrorKind;

use crate::{StageContext, StageError};

/// Writes the manifest create-only. If an interrupted run already wrote one
/// for this artefact, that one is kept when it describes the same content.
pub async fn store_manifest(ctx: &StageContext, manifest: &ArtefactManifest) -> Result<Sha256Digest, StageError> {
    let key = manifest_key(&ctx.case, &manifest.id);
    let bytes = exhibit_core::canonical::to_canonical_vec(manifest).map_err(|e| StageError::input(e.to_string()))?;
    let body = Box::new(std::io::Cursor::new(bytes));
    match ctx.store.put_new(&key, body, exhibit_core::HashSelection::SHA256_ONLY).await {
        Ok(receipt) => Ok(receipt.digests.sha256),
        Err(e) if e.kind() == StoreErrorKind::AlreadyExists => adopt_manifest(ctx, manifest, &key).await,
        Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot store manifest {key}: {e}"))),
    }
}

pub(crate) async fn adopt_manifest(
    ctx: &StageContext,
    manifest: &ArtefactManifest,
    key: &exhibit_core::layout::ObjectKey,
) -> Result<Sha256Digest, StageError> {
    let existing = exhibit_store::read_small(ctx.store.as_ref(), key, 1 << 20)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read manifest {key}: {e}")))?;
    let parsed: ArtefactManifest = serde_json::from_slice(&existing).map_err(|e| {
        StageError::input(format!("manifest {key} exists but is not valid ({e}); run `exhibit verify`"))
    })?;
    let same_place = parsed.source == manifest.source
        && parsed.inside.as_ref().map(|i| &i.path) == manifest.inside.as_ref().map(|i| &i.path);
    if parsed.id != manifest.id || parsed.digests != manifest.digests || !same_place {
        return Err(StageError::input(format!(
            "manifest {key} exists and describes different content; run `exhibit verify`"
        )));
    }
    Ok(Sha256Digest::of(&existing))
}

/// A derivative's manifest: made by this run's operator with `tool`, from
/// `parent`. Callers add `derivation` and `flags` where they have them.
pub fn derivative_manifest(
    ctx: &StageContext,
    exhibit: &exhibit_core::ids::ExhibitRef,
    id: exhibit_core::ids::ArtefactId,
    stored: &exhibit_store::PutReceipt,
    media_type: exhibit_core::manifest::MediaType,
    parent: exhibit_core::manifest::ParentRef,
    tool: exhibit_core::manifest::ToolInfo,
) -> ArtefactManifest {
    ArtefactManifest {
        format: exhibit_core::manifest::MANIFEST_FORMAT.to_owned(),
        id,
        case: ctx.case.clone(),
        exhibit: exhibit.clone(),
        kind: exhibit_core::manifest::ArtefactKind::Derivative,
        source: None,
        size: stored.size,
        digests: stored.digests,
        media_type,
        timestamps: Default::default(),
        parent: Some(parent),
        inside: None,
        view: None,
        derivation: None,
        operator: ctx.actor.operator.clone(),
        tool,
        flags: Vec::new(),
    }
}
