//! Where stages read an artefact's content: its stored object, or, for a
//! file kept as a view into an image, the view, read through the one view
//! reader ([`exhibit_store::view`]) and re-hashed as it is read.

use std::path::Path;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::ArtefactId;
use exhibit_core::layout::object_key;
use exhibit_store::view::{materialise, read_manifest};
use exhibit_store::{LocalCopy, StoreErrorKind};

use crate::{StageContext, StageError};

/// A checked local copy of the content of `artefact` (SHA-256 `sha256`)
/// for a tool that needs a path: the stored object (hard-linked where the
/// store is local, else downloaded into `scratch`), or, for a file kept as
/// a view, the view written out; checked against `sha256` either way.
pub async fn content_file(
    ctx: &StageContext,
    artefact: &ArtefactId,
    sha256: &Sha256Digest,
    scratch: &Path,
) -> Result<LocalCopy, StageError> {
    let key = object_key(&ctx.case, sha256);
    let failed = |e: exhibit_store::StoreError| match e.kind() {
        StoreErrorKind::Corrupt => StageError::input(format!("artefact {artefact} failed its hash check: {e}")),
        kind => StageError::from_kind(kind.into(), format!("cannot read artefact {artefact}: {e}")),
    };
    match ctx.store.head(&key).await {
        Ok(_) => return exhibit_store::materialise(ctx.store.as_ref(), &key, *sha256, scratch).await.map_err(failed),
        Err(e) if e.kind() != StoreErrorKind::NotFound => {
            return Err(StageError::from_kind(e.kind().into(), format!("cannot open {key}: {e}")));
        }
        Err(_) => {}
    }
    let manifest = read_manifest(ctx.store.as_ref(), &ctx.case, artefact)
        .await
        .map_err(|e| StageError::from_kind(e.kind().into(), format!("cannot read the manifest of {artefact}: {e}")))?;
    materialise(&ctx.store, &ctx.case, &manifest, *sha256, scratch).await.map_err(failed)
}
