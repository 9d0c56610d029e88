//! One reader for artefact content, whether it is stored as its own object
//! or kept as a view into a stored image ([`exhibit_core::view`]). Every
//! command and stage that reads an artefact's bytes goes through here, so
//! views are read the same way everywhere and re-hashed as they are read.

use std::sync::Arc;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::{ObjectKey, manifest_key, object_key};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_core::read_at::ReadAt;
use exhibit_core::view::{BaseDecode, CdSectorsAt, SequentialReader, ViewAt, ViewInfo};
use exhibit_media_core::Limits;
use exhibit_media_sources::EwfImage;
use tracing::instrument;

use crate::{ObjectStore, StoreError, StoreErrorKind, VerifyingReader, open_read_at, read_small};

/// How deep views may stand on views (a file in an image in an image...).
pub const MAX_VIEW_DEPTH: u32 = 8;
/// The largest manifest read while resolving a view's bases.
const MANIFEST_LIMIT: u64 = 1 << 20;

/// Opens the content of the artefact `manifest` describes, re-hashed as it
/// is read: the reader fails with `InvalidData` at its end unless the bytes
/// have SHA-256 `expect` (take it from the ledger, not the manifest).
#[instrument(level = "debug", skip_all, fields(artefact = %manifest.id, view = manifest.view.is_some()))]
pub async fn open_content(
    store: &Arc<dyn ObjectStore>,
    case: &CaseId,
    manifest: &ArtefactManifest,
    expect: Sha256Digest,
) -> Result<VerifyingReader, StoreError> {
    Resolver { store: store.as_ref(), shared: Some(store), in_place: false }.content(case, manifest, expect).await
}

/// [`open_content`] for handing content out (`get`, `export`): a base is
/// read in place where the store has local files, else by ranged reads
/// (S3), at constant memory either way. Unlike [`open_content`], a base is
/// not hash-checked as a whole when it happens to be read whole: only the
/// view's own bytes must match, so the views an image cut short still
/// holds are served.
pub async fn open_content_in_place(
    store: &Arc<dyn ObjectStore>,
    case: &CaseId,
    manifest: &ArtefactManifest,
    expect: Sha256Digest,
) -> Result<VerifyingReader, StoreError> {
    Resolver { store: store.as_ref(), shared: Some(store), in_place: true }.content(case, manifest, expect).await
}

/// [`open_content_in_place`] for a caller that holds the store by
/// reference (`verify`, `audit`): bases are read in place, else by ranged
/// reads through [`ObjectStore::to_shared`].
pub async fn open_content_in(
    store: &dyn ObjectStore,
    case: &CaseId,
    manifest: &ArtefactManifest,
    expect: Sha256Digest,
) -> Result<VerifyingReader, StoreError> {
    Resolver { store, shared: None, in_place: true }.content(case, manifest, expect).await
}

/// Opens objects and the bases of views.
#[derive(Clone, Copy)]
struct Resolver<'a> {
    store: &'a dyn ObjectStore,
    /// The store as shared, for ranged reads where it has no local files.
    shared: Option<&'a Arc<dyn ObjectStore>>,
    /// Bases read in place where the store can, and not checked as whole
    /// objects (see [`open_content_in_place`]).
    in_place: bool,
}

impl Resolver<'_> {
    async fn content(
        self,
        case: &CaseId,
        manifest: &ArtefactManifest,
        expect: Sha256Digest,
    ) -> Result<VerifyingReader, StoreError> {
        let Some(view) = &manifest.view else {
            return self.store.get(&object_key(case, &expect), Some(expect)).await;
        };
        let at = open_view_at(self, case, &manifest.id, view, manifest.size, 0).await?;
        // A mismatch is damage to the image under the view: name both.
        let key = object_key(case, &view.base.sha256);
        let subject = format!("view {} read through image {} ({key})", manifest.id, view.base.artefact);
        Ok(VerifyingReader::new(key, Box::new(SequentialReader::new(at)))
            .describe_as(subject)
            .expect_sha256(Some(expect))
            .expect_size(Some(manifest.size)))
    }

    async fn object(self, key: &ObjectKey) -> Result<Arc<dyn ReadAt>, StoreError> {
        if let Some(shared) = self.shared.filter(|_| !self.in_place) {
            return open_read_at(shared, key).await;
        }
        if let Some(at) = self.store.open_positional(key).await? {
            return Ok(at);
        }
        let Some(shared) = self.shared.cloned().or_else(|| self.store.to_shared()) else {
            return Err(StoreError::invalid("store", &self.store.uri(), "this check needs a store with local files"));
        };
        Ok(crate::open_object_at(&shared, key, None, crate::CacheConfig::DEFAULT).await?)
    }
}

/// Positional reads over an artefact's content (a nested disk image, say).
/// Not re-hashed: callers that need the bytes checked read them once through
/// [`open_content`] first.
pub async fn open_content_at(
    store: &Arc<dyn ObjectStore>,
    case: &CaseId,
    manifest: &ArtefactManifest,
) -> Result<Arc<dyn ReadAt>, StoreError> {
    match &manifest.view {
        None => open_read_at(store, &object_key(case, &manifest.digests.sha256)).await,
        Some(view) => {
            let resolver = Resolver { store: store.as_ref(), shared: Some(store), in_place: false };
            open_view_at(resolver, case, &manifest.id, view, manifest.size, 0).await
        }
    }
}

/// Reads the manifest of `id` (at most 1 MiB).
pub async fn read_manifest(
    store: &dyn ObjectStore,
    case: &CaseId,
    id: &ArtefactId,
) -> Result<ArtefactManifest, StoreError> {
    let key = manifest_key(case, id);
    let bytes = read_small(store, &key, MANIFEST_LIMIT).await?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::corrupt(&key, format!("not a manifest: {e}")))
}

/// A base being opened: boxed, because bases recurse.
type BoxedOpen<'a> = std::pin::Pin<Box<dyn Future<Output = Result<Arc<dyn ReadAt>, StoreError>> + Send + 'a>>;

/// A view over its base: the base's object when it has one, else the
/// base's own view, resolved through its manifest.
fn open_view_at<'a>(
    resolver: Resolver<'a>,
    case: &'a CaseId,
    id: &'a ArtefactId,
    view: &'a ViewInfo,
    size: u64,
    depth: u32,
) -> BoxedOpen<'a> {
    Box::pin(async move {
        let key = manifest_key(case, id);
        let bad = |e: exhibit_core::view::ViewError| StoreError::corrupt(&key, e.to_string());
        view.check(size).map_err(bad)?;
        let base = open_base(resolver, case, view, depth).await?;
        ViewAt::open(base, view, size).map_err(bad)
    })
}

async fn open_base(
    resolver: Resolver<'_>,
    case: &CaseId,
    view: &ViewInfo,
    depth: u32,
) -> Result<Arc<dyn ReadAt>, StoreError> {
    let base = &view.base;
    let stored = open_member(resolver, case, &base.artefact, &base.sha256, depth).await?;
    match &base.decode {
        None => Ok(stored),
        Some(BaseDecode::CdSectors { start, sector_size, user_offset, sectors }) => {
            Ok(Arc::new(CdSectorsAt::new(stored, *start, *sector_size, *user_offset, *sectors)))
        }
        Some(BaseDecode::Ewf { segments, .. }) => {
            let mut all = vec![(member_name(case, 1, &base.artefact, &base.sha256), stored)];
            for (i, s) in segments.iter().enumerate() {
                let at = open_member(resolver, case, &s.artefact, &s.sha256, depth).await?;
                all.push((member_name(case, i + 2, &s.artefact, &s.sha256), at));
            }
            let key = object_key(case, &base.sha256);
            let opened = tokio::task::spawn_blocking(move || EwfImage::from_segments(all, &Limits::default()))
                .await
                .map_err(StoreError::join)?;
            Ok(Arc::new(opened.map_err(|e| StoreError::corrupt(&key, format!("the E01 set does not open: {e}")))?))
        }
    }
}

/// How an E01 segment is named in read errors: its number, artefact and object.
fn member_name(case: &CaseId, number: usize, artefact: &ArtefactId, sha256: &Sha256Digest) -> String {
    format!("E01 segment {number} (artefact {artefact}, {})", object_key(case, sha256))
}

/// A stored artefact's bytes: its object, or, for one kept as a view
/// (an image inside an image), that view.
async fn open_member(
    resolver: Resolver<'_>,
    case: &CaseId,
    artefact: &ArtefactId,
    sha256: &Sha256Digest,
    depth: u32,
) -> Result<Arc<dyn ReadAt>, StoreError> {
    let object = object_key(case, sha256);
    match resolver.object(&object).await {
        Ok(at) => return Ok(at),
        Err(e) if e.kind() != StoreErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let manifest = read_manifest(resolver.store, case, artefact).await?;
    let key = manifest_key(case, artefact);
    let Some(inner) = manifest.view.as_ref().filter(|_| manifest.digests.sha256 == *sha256) else {
        return Err(StoreError::not_found(&object));
    };
    if depth + 1 >= MAX_VIEW_DEPTH {
        return Err(StoreError::corrupt(&key, format!("views nested more than {MAX_VIEW_DEPTH} deep")));
    }
    open_view_at(resolver, case, &manifest.id, inner, manifest.size, depth + 1).await
}

/// The object key an artefact's content is read from, for messages: for a
/// view, its image's.
pub fn content_key(case: &CaseId, manifest: &ArtefactManifest) -> ObjectKey {
    match &manifest.view {
        Some(view) => object_key(case, &view.base.sha256),
        None => object_key(case, &manifest.digests.sha256),
    }
}

/// A local copy of an artefact's content for tools that need a path
/// (FFmpeg, OCR), checked against `expect` (take it from the ledger): the
/// stored object through [`crate::materialise`] (a hard link where the store
/// is local), or a view written out through the view reader into a private
/// folder under `dir`. Removed when dropped; never handed out unchecked.
pub async fn materialise(
    store: &Arc<dyn ObjectStore>,
    case: &CaseId,
    manifest: &ArtefactManifest,
    expect: Sha256Digest,
    dir: &std::path::Path,
) -> Result<crate::LocalCopy, StoreError> {
    if manifest.view.is_none() {
        return crate::materialise(store.as_ref(), &object_key(case, &expect), expect, dir).await;
    }
    let reader = open_content(store, case, manifest, expect).await?;
    crate::download(reader, &content_key(case, manifest), dir).await
}
