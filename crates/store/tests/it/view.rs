//! The one view reader over a real local store: views over an image and
//! over views read back and re-hash; hostile views (runs outside the base,
//! a base that names itself, a wrong hash) fail with a clear kind.

use std::io::{Cursor, Read};
use std::sync::Arc;

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::ids::{ArtefactId, CaseId, ExhibitRef};
use exhibit_core::layout::{manifest_key, objects_prefix};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, MANIFEST_FORMAT, MediaType, ToolInfo};
use exhibit_core::view::{Fill, VIEW_FORMAT, ViewBase, ViewInfo, ViewRun};
use exhibit_store::view::{materialise, open_content, open_content_at};
use exhibit_store::{ObjectStore, StoreErrorKind};

use crate::local_store;

fn manifest(case: &CaseId, name: &[u8], content: &[u8], view: Option<ViewInfo>) -> ArtefactManifest {
    let exhibit: ExhibitRef = "JS/1".parse().unwrap();
    let sha256 = Sha256Digest::of(content);
    let mut digests = exhibit_core::hashing::MultiHasher::new(HashSelection::SHA256_ONLY);
    digests.update(content);
    ArtefactManifest {
        format: MANIFEST_FORMAT.into(),
        id: ArtefactId::derive(case, &exhibit, name, &sha256),
        case: case.clone(),
        exhibit,
        kind: ArtefactKind::Extracted,
        source: None,
        size: content.len() as u64,
        digests: digests.finish(),
        media_type: MediaType {
            mime: "application/octet-stream".into(),
            extension: None,
            detected_by: "test".into(),
            ..Default::default()
        },
        timestamps: Default::default(),
        parent: None,
        inside: None,
        view,
        derivation: None,
        operator: "test".into(),
        tool: ToolInfo::exhibit("test"),
        flags: Vec::new(),
    }
}

async fn put_manifest(store: &Arc<dyn ObjectStore>, m: &ArtefactManifest) {
    let bytes = serde_json::to_vec(m).unwrap();
    store
        .put_new(&manifest_key(&m.case, &m.id), Box::new(Cursor::new(bytes)), HashSelection::SHA256_ONLY)
        .await
        .unwrap();
}

fn view_of(base: &ArtefactManifest, runs: Vec<ViewRun>) -> ViewInfo {
    let base = ViewBase::stored(base.id.clone(), base.digests.sha256, base.size);
    ViewInfo { format: VIEW_FORMAT.into(), base, runs, transform: None }
}

fn run(file_offset: u64, len: u64, base_offset: Option<u64>) -> ViewRun {
    let fill = base_offset.is_none().then_some(Fill::Sparse);
    ViewRun { file_offset, len, base_offset, fill }
}

async fn read_all(store: &Arc<dyn ObjectStore>, m: &ArtefactManifest) -> std::io::Result<Vec<u8>> {
    let reader = open_content(store, &m.case, m, m.digests.sha256).await.unwrap();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut out).map(|_| out)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_and_views_of_views_read_back_and_hostile_ones_fail() {
    let fx = local_store().await;
    let store = fx.dyn_store();
    let case: CaseId = "VIEWS".parse().unwrap();
    let image_bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    store
        .put_content(&objects_prefix(&case), Box::new(Cursor::new(image_bytes.clone())), HashSelection::SHA256_ONLY)
        .await
        .unwrap();
    let image = manifest(&case, b"image", &image_bytes, None);
    put_manifest(&store, &image).await;

    // A file in the image: 100 bytes at 5000, 20 sparse, 30 bytes at 10.
    let mut file = image_bytes[5000..5100].to_vec();
    file.extend([0u8; 20]);
    file.extend(&image_bytes[10..40]);
    let runs = vec![run(0, 100, Some(5000)), run(100, 20, None), run(120, 30, Some(10))];
    let outer = manifest(&case, b"outer", &file, Some(view_of(&image, runs)));
    put_manifest(&store, &outer).await;
    assert_eq!(read_all(&store, &outer).await.unwrap(), file);

    // A file inside that file: bytes 110..130 of it.
    let inner = manifest(&case, b"inner", &file[110..130], Some(view_of(&outer, vec![run(0, 20, Some(110))])));
    put_manifest(&store, &inner).await;
    assert_eq!(read_all(&store, &inner).await.unwrap(), file[110..130]);
    let at = open_content_at(&store, &case, &inner).await.unwrap();
    assert_eq!(at.size(), 20);
    let dir = tempfile::tempdir().unwrap();
    let copy = materialise(&store, &case, &inner, inner.digests.sha256, dir.path()).await.unwrap();
    assert_eq!(std::fs::read(copy.path()).unwrap(), file[110..130]);

    // The wrong hash fails at the end, and materialise leaves nothing.
    let mut lying = inner.clone();
    lying.digests.sha256 = Sha256Digest::of(b"something else");
    let err = read_all(&store, &lying).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let err = materialise(&store, &case, &lying, lying.digests.sha256, dir.path()).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only the good copy");
    let copied = copy.path().to_owned();
    drop(copy);
    assert!(!copied.exists(), "a dropped copy is removed");

    // A run past the base's end is refused before any read.
    let outside = manifest(&case, b"outside", &[0; 10], Some(view_of(&image, vec![run(0, 10, Some(9_995))])));
    let err = open_content(&store, &case, &outside, outside.digests.sha256).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{err}");

    // A view whose base is itself: refused at the depth limit, not a hang.
    let mut looping = manifest(&case, b"loop", &[1; 4], None);
    looping.view = Some(ViewInfo {
        format: VIEW_FORMAT.into(),
        base: ViewBase::stored(looping.id.clone(), looping.digests.sha256, 4),
        runs: vec![run(0, 4, Some(0))],
        transform: None,
    });
    put_manifest(&store, &looping).await;
    let err = open_content(&store, &case, &looping, looping.digests.sha256).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Corrupt, "{err}");
}
