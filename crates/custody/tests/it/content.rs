//! `verify_case` re-hashes objects and checks manifests against the ledger.

use std::io::Cursor;

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::event::{Action, ArtefactRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::layout::{manifest_key, object_key, objects_prefix};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, MANIFEST_FORMAT, MediaType, ToolInfo};
use exhibit_custody::{Problem, verify_case};

use crate::common::{Fixture, event, overwrite};

const CONTENT: &[u8] = b"the content of exhibit JS/1";

/// A ledger recording one stored artefact with its object and manifest.
async fn stored() -> (Fixture, ArtefactId, Sha256Digest) {
    let fx = Fixture::new();
    let store = fx.store.as_ref();
    let receipt = store
        .put_content(&objects_prefix(&fx.case), Box::new(Cursor::new(CONTENT.to_vec())), HashSelection::default())
        .await
        .unwrap();
    let exhibit = "JS/1".parse().unwrap();
    let id = ArtefactId::derive(&fx.case, &exhibit, b"/evidence/a.bin", &receipt.digests.sha256);
    let manifest = ArtefactManifest {
        format: MANIFEST_FORMAT.to_owned(),
        id: id.clone(),
        case: fx.case.clone(),
        exhibit,
        kind: ArtefactKind::Original,
        source: None,
        size: receipt.size,
        digests: receipt.digests,
        media_type: MediaType {
            mime: "application/octet-stream".into(),
            extension: None,
            detected_by: "test".into(),
            ..Default::default()
        },
        timestamps: Default::default(),
        parent: None,
        inside: None,
        view: None,
        derivation: None,
        operator: "DC Smith 1234".into(),
        tool: ToolInfo::exhibit("test"),
        flags: Vec::new(),
    };
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let manifest_sha256 = Sha256Digest::of(&bytes);
    let key = manifest_key(&fx.case, &id);
    store.put_new(&key, Box::new(Cursor::new(bytes)), HashSelection::SHA256_ONLY).await.unwrap();
    let mut ev = event(&fx.case, &fx.signer, Action::Stored, 0);
    ev.artefact = Some(ArtefactRef {
        id: Some(id.clone()),
        sha256: receipt.digests.sha256,
        size: receipt.size,
        manifest_sha256: Some(manifest_sha256),
    });
    fx.ledger().await.append(ev).await.unwrap();
    (fx, id, receipt.digests.sha256)
}

async fn problems(fx: &Fixture) -> Vec<Problem> {
    verify_case(fx.store.as_ref(), &fx.case).await.unwrap().problems
}

#[tokio::test]
async fn a_clean_case_verifies() {
    let (fx, _, _) = stored().await;
    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(report.is_clean());
    let text = report.to_string();
    assert!(text.starts_with("INTACT, SIGNERS NOT CHECKED: 2 entries, 1 artefact, 1 object intact\n"), "{text}");
}

#[tokio::test]
async fn a_flipped_byte_in_an_object_is_altered() {
    let (fx, id, sha256) = stored().await;
    let path = fx.local.path_of(&object_key(&fx.case, &sha256)).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[3] ^= 0x20;
    overwrite(&path, &bytes);
    let problems = problems(&fx).await;
    assert_eq!(problems, vec![Problem::ObjectAltered { sha256, artefacts: vec![id.clone()] }]);
    assert_eq!(
        problems[0].to_string(),
        format!("artefact {id}: object altered (its content no longer has sha256 {sha256})")
    );
}

#[tokio::test]
async fn a_deleted_object_is_missing() {
    let (fx, id, sha256) = stored().await;
    std::fs::remove_file(fx.local.path_of(&object_key(&fx.case, &sha256)).unwrap()).unwrap();
    assert_eq!(problems(&fx).await, vec![Problem::ObjectMissing { sha256, artefacts: vec![id] }]);
}

#[tokio::test]
async fn an_extra_object_is_not_in_the_ledger() {
    let (fx, _, _) = stored().await;
    let body = Box::new(Cursor::new(b"planted".to_vec()));
    let receipt = fx.store.put_content(&objects_prefix(&fx.case), body, HashSelection::SHA256_ONLY).await.unwrap();
    let key = receipt.key.to_string();
    let tail = Problem::TailMissing { after: 2, manifests: vec![], objects: vec![key.clone()] };
    assert_eq!(problems(&fx).await, vec![tail, Problem::ObjectNotInLedger { key }]);
}

#[tokio::test]
async fn an_edited_manifest_is_altered() {
    let (fx, id, _) = stored().await;
    let path = fx.local.path_of(&manifest_key(&fx.case, &id)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap().replace("DC Smith 1234", "DC Jones 9999");
    overwrite(&path, text.as_bytes());
    assert_eq!(problems(&fx).await, vec![Problem::ManifestAltered { artefact: id }]);
}

#[tokio::test]
async fn a_deleted_manifest_is_missing_and_an_extra_one_is_flagged() {
    let (fx, id, _) = stored().await;
    std::fs::remove_file(fx.local.path_of(&manifest_key(&fx.case, &id)).unwrap()).unwrap();
    let other: ArtefactId = "0123456789abcdef0123456789abcdef".parse().unwrap();
    let body = Box::new(Cursor::new(b"{}".to_vec()));
    fx.store.put_new(&manifest_key(&fx.case, &other), body, HashSelection::SHA256_ONLY).await.unwrap();
    assert_eq!(
        problems(&fx).await,
        vec![
            Problem::TailMissing { after: 2, manifests: vec![other.clone()], objects: vec![] },
            Problem::ManifestNotInLedger { artefact: other },
            Problem::ManifestMissing { artefact: id }
        ]
    );
}

#[tokio::test]
async fn a_deleted_newest_entry_is_named_as_missing() {
    let (fx, id, sha256) = stored().await;
    std::fs::remove_file(fx.entry_path(2)).unwrap();
    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    let key = object_key(&fx.case, &sha256).to_string();
    assert_eq!(report.problems[0], Problem::TailMissing { after: 1, manifests: vec![id.clone()], objects: vec![key] });
    let text = report.problems[0].to_string();
    assert!(text.starts_with("entries after 1: missing (the ledger ends at entry 1, but artefact "), "{text}");
    assert!(text.contains(&format!("artefact {id}'s manifest, object cases/")), "{text}");
}
