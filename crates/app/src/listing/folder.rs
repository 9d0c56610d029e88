//! The listing of an exhibit acquired from files and folders rather
//! than an image: its originals, from their manifests, as the entries of
//! one volume (`medium` `folder`). Each entry's `image` is the original's
//! own artefact ID, since no image holds it.

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{manifests_prefix, parse_manifest_name};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest};
use exhibit_intake::explore::listing::{EntryRow, ListingLine, VolumeRow};
use exhibit_media_core::EntryKind;
use exhibit_store::ObjectStore;

use crate::Result;

/// The exhibit's originals as listing lines: a volume row, then one entry
/// per original in path order. Empty when the exhibit has none.
pub(super) async fn originals_as_listing(
    store: &dyn ObjectStore,
    case: &CaseId,
    exhibit: &ExhibitRef,
) -> Result<Vec<ListingLine>> {
    let mut originals = Vec::new();
    for meta in store.list(&manifests_prefix(case)).await? {
        let name = meta.key.as_str().rsplit('/').next().unwrap_or_default();
        if parse_manifest_name(name).is_none() {
            continue;
        }
        let bytes = exhibit_store::read_small(store, &meta.key, 1 << 20).await?;
        // A manifest that does not parse is `verify`'s to report.
        if let Ok(m) = serde_json::from_slice::<ArtefactManifest>(&bytes) {
            if m.exhibit == *exhibit && m.kind == ArtefactKind::Original {
                originals.push(m);
            }
        }
    }
    if originals.is_empty() {
        return Ok(Vec::new());
    }
    originals.sort_by_cached_key(path_of);
    let volume = VolumeRow {
        medium: "folder".into(),
        index: 0,
        partition: None,
        scheme: None,
        partition_type: None,
        offset: 0,
        len: originals.iter().map(|m| m.size).sum(),
        fs: Some("host".into()),
        label: None,
        error: None,
        sectors: None,
    };
    let mut lines = vec![ListingLine::Volume(volume)];
    lines.extend(originals.into_iter().map(|m| ListingLine::Entry(Box::new(entry(m)))));
    Ok(lines)
}

fn path_of(m: &ArtefactManifest) -> Vec<u8> {
    m.source.as_ref().map(|s| s.path.to_bytes()).unwrap_or_default()
}

fn entry(m: ArtefactManifest) -> EntryRow {
    let kind = if m.media_type.mime == "inode/symlink" {
        // The target is in the acquired event, not the manifest.
        EntryKind::Symlink { target: Vec::new() }
    } else {
        EntryKind::File
    };
    EntryRow {
        image: m.id.clone(),
        volume: 0,
        path: m.source.map(|s| s.path).unwrap_or_else(|| exhibit_core::manifest::RecordedPath::from_bytes(b"")),
        stream: None,
        kind,
        size: m.size,
        allocated: true,
        recovery: None,
        timestamps: m.timestamps,
        attributes: m.flags.iter().map(|f| (f.clone(), "yes".to_owned())).collect(),
        address: None,
        extents: Vec::new(),
        artefact: Some(m.id),
        digests: Some(m.digests),
        zero_filled: Vec::new(),
        sparse: Vec::new(),
        missing: Vec::new(),
        error: None,
    }
}
