//! Checks of files kept as views into a stored image. A view's bytes are
//! fixed by its base's bytes and its runs, and both are on record (the
//! base's SHA-256 in the ledger, the runs in a manifest whose SHA-256 is in
//! the ledger). So the one pass that re-hashes an image checks every view
//! into it; only when an image is damaged or missing are its views read
//! again, each through the view reader, to name exactly the ones whose bytes
//! changed: those whose runs cover a damaged byte.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::layout::manifest_key;
use exhibit_core::manifest::ArtefactManifest;
use exhibit_core::view::ViewInfo;
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use tracing::{instrument, warn};

use super::Problem;
use super::content::Refs;
use crate::error::Result;
use crate::ledger::ENTRY_LIMIT;

/// An artefact the ledger names whose content is a view.
pub(super) struct RecordedView {
    id: ArtefactId,
    sha256: Sha256Digest,
    manifest: ArtefactManifest,
}

impl RecordedView {
    fn view(&self) -> &ViewInfo {
        // Only manifests with a view are kept (see `find_views`).
        self.manifest.view.as_ref().unwrap_or_else(|| unreachable!("a recorded view without a view"))
    }
}

/// Every view intact manifests describe, whether or not an object with
/// the same SHA-256 exists (a copy elsewhere says nothing about the view),
/// and the hashes in `unlisted` (no object stored) that no view holds:
/// those objects are missing.
pub(super) async fn find_views(
    store: &dyn ObjectStore,
    case: &CaseId,
    refs: &Refs,
    unlisted: &BTreeSet<Sha256Digest>,
) -> Result<(Vec<RecordedView>, Vec<Sha256Digest>)> {
    let (mut views, mut missing) = (Vec::new(), Vec::new());
    for (sha256, ids) in &refs.objects {
        let (mut found, mut unconfirmed) = (false, false);
        for id in ids {
            match recorded_view_manifest(store, case, refs, id, sha256).await? {
                Described::View(manifest) => {
                    views.push(RecordedView { id: id.clone(), sha256: *sha256, manifest: *manifest });
                    found = true;
                }
                // The manifest is reported as altered or missing; whether the
                // content was a view cannot be told, so no object is blamed.
                Described::Unconfirmed => unconfirmed = true,
                Described::NotAView => {}
            }
        }
        if !found && !unconfirmed && unlisted.contains(sha256) {
            missing.push(*sha256);
        }
    }
    Ok((views, missing))
}

/// What the manifest of an artefact says of its content.
enum Described {
    /// The recorded manifest describes a view with that content.
    View(Box<ArtefactManifest>),
    /// The recorded manifest is no view (or for other content).
    NotAView,
    /// The manifest was recorded but is missing or not the recorded one.
    Unconfirmed,
}

/// The manifest of `id`, if it is the one the ledger recorded and it
/// describes a view with content `sha256`.
async fn recorded_view_manifest(
    store: &dyn ObjectStore,
    case: &CaseId,
    refs: &Refs,
    id: &ArtefactId,
    sha256: &Sha256Digest,
) -> Result<Described> {
    let Some(recorded) = refs.manifests.get(id) else { return Ok(Described::NotAView) };
    let bytes = match read_small(store, &manifest_key(case, id), ENTRY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(e) if matches!(e.kind(), StoreErrorKind::NotFound | StoreErrorKind::Corrupt | StoreErrorKind::TooLarge) => {
            return Ok(Described::Unconfirmed);
        }
        Err(e) => return Err(e.into()),
    };
    let hash = Sha256Digest::of(&bytes);
    if !recorded.iter().any(|r| r.manifest_sha256 == hash) {
        return Ok(Described::Unconfirmed);
    }
    let manifest = serde_json::from_slice::<ArtefactManifest>(&bytes).ok();
    Ok(match manifest.filter(|m| m.view.is_some() && m.digests.sha256 == *sha256) {
        Some(m) => Described::View(Box::new(m)),
        None => Described::NotAView,
    })
}

/// Checks every view. `intact` holds the objects that re-hashed clean;
/// a view over anything else is read again in full.
#[instrument(skip_all, fields(views = views.len()))]
pub(super) async fn check_views(
    store: &dyn ObjectStore,
    case: &CaseId,
    views: Vec<RecordedView>,
    intact: &BTreeSet<Sha256Digest>,
) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut status: BTreeMap<Sha256Digest, bool> = intact.iter().map(|d| (*d, true)).collect();
    let view_shas: BTreeSet<Sha256Digest> = views.iter().map(|v| v.sha256).collect();
    let mut pending = views;
    while !pending.is_empty() {
        let before = pending.len();
        let mut waiting = Vec::new();
        for v in pending {
            match members_status(&status, &view_shas, v.view()) {
                None => waiting.push(v),
                Some(true) if v.view().check(v.manifest.size).is_ok() => {
                    status.insert(v.sha256, true);
                }
                _ => {
                    let problem = reread(store, case, &v, &status).await?;
                    status.insert(v.sha256, problem.is_none());
                    problems.extend(problem);
                }
            }
        }
        if waiting.len() == before {
            // Views that stand on each other in a loop: read each in full.
            for v in &waiting {
                problems.extend(reread(store, case, v, &status).await?);
            }
            break;
        }
        pending = waiting;
    }
    Ok(problems)
}

/// Whether every stored artefact a view's base reads (an image; every
/// segment of an E01 set) is intact: `None` while one of them is a view
/// not yet checked.
fn members_status(
    status: &BTreeMap<Sha256Digest, bool>,
    view_shas: &BTreeSet<Sha256Digest>,
    view: &ViewInfo,
) -> Option<bool> {
    let mut intact = true;
    for member in view.base.members() {
        match status.get(&member.sha256) {
            Some(ok) => intact &= ok,
            None if view_shas.contains(&member.sha256) => return None,
            None => intact = false,
        }
    }
    Some(intact)
}

/// Reads a view in full through the view reader; a problem when its bytes
/// are no longer the ones recorded or can no longer be read. The problem
/// names the member of the base that is damaged (the E01 segment, the
/// `.bin`, the image), or the base artefact when none is known to be.
async fn reread(
    store: &dyn ObjectStore,
    case: &CaseId,
    v: &RecordedView,
    status: &BTreeMap<Sha256Digest, bool>,
) -> Result<Option<Problem>> {
    let members = v.view().base.members();
    let damaged = members.iter().find(|m| status.get(&m.sha256) != Some(&true)).or(members.first()).cloned();
    let Some(base) = damaged else { return Ok(None) };
    let broken = |reason: String| {
        warn!(artefact = %v.id, %reason, "view broken");
        Some(Problem::ViewBroken {
            artefact: v.id.clone(),
            base: base.artefact.clone(),
            base_sha256: base.sha256,
            reason,
        })
    };
    let reader = match exhibit_store::view::open_content_in(store, case, &v.manifest, v.sha256).await {
        Ok(reader) => reader,
        Err(e) if matches!(e.kind(), StoreErrorKind::NotFound | StoreErrorKind::Corrupt) => {
            return Ok(broken(e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let read = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        io::copy(&mut reader, &mut io::sink())
    })
    .await
    .map_err(exhibit_store::StoreError::join)?;
    Ok(match read {
        Ok(_) => None,
        Err(e) if matches!(e.kind(), io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof) => {
            broken(format!("its bytes read through the image no longer match: {e}"))
        }
        Err(e) => return Err(exhibit_store::StoreError::io(&manifest_key(case, &v.id), e).into()),
    })
}
