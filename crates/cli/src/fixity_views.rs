//! Audit targets for files kept as views into a stored image. A view has
//! no object of its own: it is found through its manifest (only one whose
//! SHA-256 the ledger recorded) and checked by reading its image. Each
//! image is re-hashed once per audit ([`ImageFixity`]); when it is intact a
//! view's bytes are fixed by its recorded runs, else (or when the image is
//! itself a view) the view is read in full through the view reader, which
//! names exactly the views whose bytes changed.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::{ObjectKey, manifest_key, object_key, objects_prefix};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::LedgerEntry;
use exhibit_store::{Fixity, ObjectStore, StoreError, StoreErrorKind, read_small, rehash_object};
use tracing::{instrument, warn};

use crate::fixity::AuditTarget;

/// The largest manifest an audit reads.
const MANIFEST_LIMIT: u64 = 1 << 20;

/// A file kept as a view, with the manifest the ledger recorded for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewTarget {
    /// The artefact.
    pub id: ArtefactId,
    /// The SHA-256 the ledger recorded for its content.
    pub sha256: Sha256Digest,
    manifest: ArtefactManifest,
}

impl ViewTarget {
    /// The SHA-256 of the image the view reads.
    pub fn base_sha256(&self) -> Sha256Digest {
        self.manifest.view.as_ref().map_or(self.sha256, |v| v.base.sha256)
    }
}

/// Each image's fixity, hashed once per audit.
#[derive(Debug, Default)]
pub struct ImageFixity(BTreeMap<ObjectKey, Fixity>);

impl ImageFixity {
    /// The fixity of an object, re-hashed the first time it is asked for.
    pub async fn object(&mut self, store: &dyn ObjectStore, key: &ObjectKey) -> Result<Fixity, StoreError> {
        if let Some(f) = self.0.get(key) {
            return Ok(*f);
        }
        let fixity = rehash_object(store, key).await?;
        self.0.insert(key.clone(), fixity);
        Ok(fixity)
    }
}

/// Adds a [`AuditTarget::View`] for every recorded view and drops the
/// object targets that only views hold (no object is stored for them).
#[instrument(skip_all, fields(case = %case))]
pub async fn with_views(
    store: &dyn ObjectStore,
    case: &CaseId,
    entries: &[LedgerEntry],
    objects: Vec<(AuditTarget, u64)>,
) -> Result<Vec<(AuditTarget, u64)>, StoreError> {
    let views = recorded_views(store, case, entries).await?;
    let stored: BTreeSet<Sha256Digest> =
        store.list(&objects_prefix(case)).await?.iter().filter_map(|m| m.key.content_sha256()).collect();
    let view_shas: BTreeSet<Sha256Digest> = views.iter().map(|(v, _)| v.sha256).collect();
    let mut targets: Vec<(AuditTarget, u64)> =
        objects.into_iter().filter(|(t, _)| stored.contains(&t.sha256()) || !view_shas.contains(&t.sha256())).collect();
    targets.extend(views.into_iter().map(|(v, seq)| (AuditTarget::View(Box::new(v)), seq)));
    Ok(targets)
}

/// The views the ledger's recorded manifests describe, with the entry
/// that first recorded each.
async fn recorded_views(
    store: &dyn ObjectStore,
    case: &CaseId,
    entries: &[LedgerEntry],
) -> Result<Vec<(ViewTarget, u64)>, StoreError> {
    let mut recorded: BTreeMap<ArtefactId, (Sha256Digest, Vec<Sha256Digest>, u64)> = BTreeMap::new();
    for (seq, event) in exhibit_custody::events_of(entries) {
        let Some(a) = &event.artefact else { continue };
        let (Some(id), Some(m)) = (&a.id, a.manifest_sha256) else { continue };
        recorded.entry(id.clone()).or_insert_with(|| (a.sha256, Vec::new(), seq)).1.push(m);
    }
    let mut views = Vec::new();
    for (id, (sha256, manifest_shas, seq)) in recorded {
        let bytes = match read_small(store, &manifest_key(case, &id), MANIFEST_LIMIT).await {
            Ok(bytes) => bytes,
            // A missing or altered manifest is verify's to report.
            Err(e)
                if matches!(
                    e.kind(),
                    StoreErrorKind::NotFound | StoreErrorKind::Corrupt | StoreErrorKind::TooLarge
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        if !manifest_shas.contains(&Sha256Digest::of(&bytes)) {
            continue;
        }
        let Ok(manifest) = serde_json::from_slice::<ArtefactManifest>(&bytes) else { continue };
        if manifest.view.is_some() && manifest.digests.sha256 == sha256 {
            views.push((ViewTarget { id, sha256, manifest }, seq));
        }
    }
    Ok(views)
}

/// Whether every stored object the view's base reads (the image; each
/// segment of an E01 set) re-hashes clean.
async fn members_intact(
    store: &dyn ObjectStore,
    case: &CaseId,
    v: &ViewTarget,
    images: &mut ImageFixity,
) -> Result<bool, StoreError> {
    let Some(view) = &v.manifest.view else { return Ok(false) };
    for member in view.base.members() {
        if images.object(store, &object_key(case, &member.sha256)).await? != Fixity::Intact {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Checks one view: intact when its image re-hashes clean and its runs
/// are sound, else read in full through the view reader.
pub async fn rehash_view(
    store: &dyn ObjectStore,
    case: &CaseId,
    v: &ViewTarget,
    images: &mut ImageFixity,
) -> Result<Fixity, StoreError> {
    let sound = v.manifest.view.as_ref().is_some_and(|view| view.check(v.manifest.size).is_ok());
    if sound && members_intact(store, case, v, images).await? {
        return Ok(Fixity::Intact);
    }
    let reader = match exhibit_store::view::open_content_in(store, case, &v.manifest, v.sha256).await {
        Ok(reader) => reader,
        Err(e) if e.kind() == StoreErrorKind::NotFound => return Ok(Fixity::Missing),
        Err(e) if e.kind() == StoreErrorKind::Corrupt => return Ok(Fixity::Altered),
        Err(e) => return Err(e),
    };
    let read = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        io::copy(&mut reader, &mut io::sink())
    })
    .await
    .map_err(StoreError::join)?;
    match read {
        Ok(_) => Ok(Fixity::Intact),
        Err(e) if matches!(e.kind(), io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof) => {
            warn!(artefact = %v.id, "view no longer matches its image");
            Ok(Fixity::Altered)
        }
        Err(e) => Err(StoreError::io(&manifest_key(case, &v.id), e)),
    }
}
