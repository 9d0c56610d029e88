//! Ledgers written by an earlier release still verify: the fixture under
//! `tests/fixtures/release-0.1` was written by exhibit at af4eec8 (the
//! release before pinned keys and anchors), two files ingested.

use std::path::{Path, PathBuf};

use exhibit_custody::{TrustedKeys, VerifyOptions, verify_case_with};
use exhibit_store::LocalStore;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-0.1")
}

/// A private copy, so that nothing the store does touches the fixture.
fn copy_of_store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(fixture().join("data"))
        .arg(dir.path().join("data"))
        .status()
        .unwrap();
    assert!(status.success());
    let store = LocalStore::open(dir.path().join("data")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn a_ledger_written_by_the_previous_release_verifies_clean_with_its_pinned_key() {
    let (_dir, store) = copy_of_store();
    let trusted = TrustedKeys::load(&fixture().join("allowed_signers")).unwrap();
    let options = VerifyOptions { trusted_keys: Some(trusted), ..Default::default() };
    let report = verify_case_with(&store, &"OLD-1".parse().unwrap(), &options).await.unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!((report.entries, report.artefacts, report.objects), (5, 2, 2), "{report}");
    assert!(report.signers_checked);
    assert_eq!(report.head.map(|h| h.seq), Some(5));
}

#[tokio::test]
async fn a_byte_changed_in_an_old_release_object_is_still_caught() {
    let (dir, store) = copy_of_store();
    let objects = dir.path().join("data/cases/OLD-1/objects/sha256");
    let object = std::fs::read_dir(&objects).unwrap().next().unwrap().unwrap().path();
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[0] ^= 1;
    std::fs::set_permissions(&object, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::write(&object, bytes).unwrap();
    let trusted = TrustedKeys::load(&fixture().join("allowed_signers")).unwrap();
    let options = VerifyOptions { trusted_keys: Some(trusted), ..Default::default() };
    let report = verify_case_with(&store, &"OLD-1".parse().unwrap(), &options).await.unwrap();
    assert!(!report.is_clean(), "{report}");
}
