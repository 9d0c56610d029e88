//! `export_bag` end to end on an in-memory source: digests, a failing
//! artefact, and CASE/UCO links.

use std::io::{Cursor, Read};

use exhibit_core::manifest::ArtefactManifest;
use exhibit_export::{CaseSnapshot, ContentSource, ExportError, ExportFacts, StoredManifest, export_bag};
use md5::Digest as _;
use serde_json::json;

/// Content by artefact ID; an artefact whose bytes do not hash to its
/// manifest's SHA-256 fails at the end, as the store's reader does.
struct Memory(Vec<(String, Vec<u8>)>);

impl ContentSource for Memory {
    fn open(&self, m: &ArtefactManifest) -> std::io::Result<Box<dyn Read + Send>> {
        let (_, bytes) = self.0.iter().find(|(id, _)| *id == m.id.to_string()).expect("known artefact");
        if hex::encode(sha2::Sha256::digest(bytes)) != m.digests.sha256.to_hex() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "sha256 mismatch"));
        }
        Ok(Box::new(Cursor::new(bytes.clone())))
    }
}

fn manifest(id: &str, path: &str, bytes: &[u8], md5: bool) -> StoredManifest {
    let mut value = json!({
        "format": "exhibit-manifest/1", "id": id, "case": "C1", "exhibit": "JS/1", "kind": "original",
        "source": {"path": {"display": path}, "name": {"display": path.rsplit('/').next().unwrap()}},
        "size": bytes.len(), "digests": {"sha256": hex::encode(sha2::Sha256::digest(bytes))},
        "media_type": {"mime": "text/plain", "detected_by": "test"}, "timestamps": {},
        "operator": "T", "tool": {"name": "exhibit/test", "version": "0"},
    });
    if md5 {
        value["digests"]["md5"] = json!(hex::encode(md5::Md5::digest(bytes)));
    }
    let bytes = serde_json::to_vec(&value).unwrap();
    StoredManifest { manifest: serde_json::from_slice(&bytes).unwrap(), bytes }
}

fn snapshot(artefacts: Vec<StoredManifest>) -> CaseSnapshot {
    CaseSnapshot {
        case: "C1".parse().unwrap(),
        exhibit: None,
        artefacts,
        ledger: vec![],
        events: vec![],
        anchors: vec![],
        head: None,
        report: Some(b"<html></html>".to_vec()),
        listings: vec![],
    }
}

fn facts() -> ExportFacts {
    ExportFacts { operator: "T".into(), organisation: None, at: time::OffsetDateTime::UNIX_EPOCH, software: "t".into() }
}

#[test]
fn md5_is_computed_when_the_manifest_has_none_and_taken_from_it_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let a = manifest("00000000000000000000000000000001", "/ev/a.txt", b"alpha", false);
    let b = manifest("00000000000000000000000000000002", "/ev/b.txt", b"beta", true);
    let source =
        Memory(vec![(a.manifest.id.to_string(), b"alpha".to_vec()), (b.manifest.id.to_string(), b"beta".to_vec())]);
    let summary = export_bag(&dir.path().join("bag"), &snapshot(vec![a, b]), &facts(), &source, 2).unwrap();
    assert_eq!((summary.files, summary.bytes), (2, 9));
    let md5 = std::fs::read_to_string(dir.path().join("bag/manifest-md5.txt")).unwrap();
    assert!(
        md5.contains(&format!("{}  data/JS-1/originals/ev/a.txt\n", hex::encode(md5::Md5::digest(b"alpha")))),
        "{md5}"
    );
    assert!(
        md5.contains(&format!("{}  data/JS-1/originals/ev/b.txt\n", hex::encode(md5::Md5::digest(b"beta")))),
        "{md5}"
    );
    assert_eq!(std::fs::read(dir.path().join("bag/exhibit/report.html")).unwrap(), b"<html></html>");
}

#[test]
fn content_that_fails_its_hash_leaves_an_unfinished_bag_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = manifest("00000000000000000000000000000001", "/ev/a.txt", b"alpha", true);
    let source = Memory(vec![(a.manifest.id.to_string(), b"alphA".to_vec())]);
    let err = export_bag(&dir.path().join("bag"), &snapshot(vec![a]), &facts(), &source, 1).unwrap_err();
    assert!(matches!(err, ExportError::Incomplete { failed: 1, .. }), "{err}");
    assert_eq!(err.kind(), exhibit_export::ExportErrorKind::Corrupt);
    assert!(err.to_string().contains("00000000000000000000000000000001"), "{err}");
    assert!(!dir.path().join("bag/bagit.txt").exists() && !dir.path().join("bag/manifest-sha256.txt").exists());
}

#[test]
fn an_exhibit_without_artefacts_still_makes_a_complete_bag() {
    let dir = tempfile::tempdir().unwrap();
    let summary = export_bag(&dir.path().join("bag"), &snapshot(vec![]), &facts(), &Memory(vec![]), 1).unwrap();
    assert_eq!((summary.files, summary.bytes), (0, 0));
    assert!(dir.path().join("bag/data").is_dir());
    let info = std::fs::read_to_string(dir.path().join("bag/bag-info.txt")).unwrap();
    assert!(info.contains("Payload-Oxum: 0.0\n"), "{info}");
}
