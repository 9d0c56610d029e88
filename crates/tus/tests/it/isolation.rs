//! Uploads are private to the user who created them (another user of the
//! same organisation gets 404 too), and only
//! cases the authorizer allows can receive them; anything else is 404, but
//! a case of the caller's own organisation it refuses (403).

use crate::support::*;

#[tokio::test]
async fn another_organisation_gets_404_on_every_method() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    server.patch(FORCE_A, &path, 0, b"abc", None).await;

    assert_eq!(server.head(FORCE_B, &path).await.status, 404);
    assert_eq!(server.patch(FORCE_B, &path, 3, b"xyz", None).await.status, 404);
    let delete = [("tus-resumable", "1.0.0"), ("authorization", FORCE_B)];
    assert_eq!(server.send("DELETE", &path, &delete, b"").await.status, 404);
    // Same answer as for an upload that never existed.
    let unknown = "/v1/uploads/0123456789abcdef0123456789abcdef";
    let (theirs, none) = (server.head(FORCE_B, &path).await, server.head(FORCE_B, unknown).await);
    assert_eq!((theirs.status, theirs.header("content-length")), (none.status, none.header("content-length")));

    assert_eq!(server.offset(FORCE_A, &path).await, 3, "nothing changed");
    assert_eq!(server.data_len(&path), 3);
    // A colleague in the same organisation may not add to it or end it:
    // the ledger would name the creator as the one who sent their bytes.
    assert_eq!(server.head(FORCE_A_BOB, &path).await.status, 404);
    assert_eq!(server.patch(FORCE_A_BOB, &path, 3, b"defghij", None).await.status, 404);
    let delete = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A_BOB)];
    assert_eq!(server.send("DELETE", &path, &delete, b"").await.status, 404);
    assert_eq!(server.patch(FORCE_A, &path, 3, b"defghij", None).await.status, 204, "its creator carries on");
}

#[tokio::test]
async fn creating_an_upload_for_a_case_not_allowed_is_404() {
    let server = TestServer::start(|_| {}).await;
    for case in ["CASE-B", "NO-SUCH-CASE"] {
        let resp = server.create_with(FORCE_A, 10, &metadata(case, "JS/1", "a.bin")).await;
        assert_eq!(resp.status, 404, "{case}");
    }
    assert_eq!(std::fs::read_dir(server.staging.path()).unwrap().count(), 0);
    // Case IDs compare without regard to letter case.
    assert_eq!(server.create_with(FORCE_A, 10, &metadata("case-a", "JS/1", "a.bin")).await.status, 201);
}

#[tokio::test]
async fn a_principal_the_authorizer_forbids_its_own_organisations_case_gets_403_json() {
    let server = TestServer::start(|_| {}).await;
    let resp = server.create_with(FORCE_A_VIEWER, 10, &metadata("CASE-A", "JS/1", "a.bin")).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(body, serde_json::json!({"error": "a viewer may not upload", "kind": "forbidden"}));
    // Another organisation's case is still the 404 of one that does not exist.
    let theirs = server.create_with(FORCE_A_VIEWER, 10, &metadata("CASE-B", "JS/1", "a.bin")).await;
    assert_eq!(theirs.status, 404);
    assert_eq!(std::fs::read_dir(server.staging.path()).unwrap().count(), 0, "nothing staged");
}

#[tokio::test]
async fn a_principal_who_may_not_upload_cannot_discard_an_upload_of_its_organisation() {
    // Not its upload: the same 404 as for one that does not exist.
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    let as_viewer = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A_VIEWER)];
    let as_uploader = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A)];
    let refused = server.send("DELETE", &path, &as_viewer, b"").await;
    assert_eq!(refused.status, 404, "a viewer of the owning organisation");
    let kept = server.send("HEAD", &path, &as_uploader, b"").await;
    assert_eq!(kept.status, 200, "the upload is still there");
    let removed = server.send("DELETE", &path, &as_uploader, b"").await;
    assert_eq!(removed.status, 204, "its uploader may still discard it");
}

#[tokio::test]
async fn requests_without_credentials_are_401() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    let resp = server
        .send(
            "POST",
            "/v1/uploads",
            &[
                ("tus-resumable", "1.0.0"),
                ("upload-length", "5"),
                ("upload-metadata", &metadata("CASE-A", "JS/1", "a")),
            ],
            b"",
        )
        .await;
    assert_eq!(resp.status, 401);
    assert_eq!(server.send("HEAD", &path, &[("tus-resumable", "1.0.0")], b"").await.status, 401);
}

#[tokio::test]
async fn staged_bytes_and_records_are_the_servers_user_s_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let parent = tempfile::tempdir().unwrap();
    std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A folder the server makes, below one anyone may read.
    let staging = parent.path().join("uploads/tus");
    let server = TestServer::start_in(parent, test_config(&staging)).await;
    let path = server.create(FORCE_A, 10).await;
    server.patch(FORCE_A, &path, 0, b"abc", None).await;
    assert_eq!(mode(&staging), 0o700);
    assert_eq!(mode(staging.parent().unwrap()), 0o700);
    let staged: Vec<_> = std::fs::read_dir(&staging).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(staged.len(), 2, "the bytes and the record: {staged:?}");
    for file in staged {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // A folder that was there with wider modes is tightened.
    let open = tempfile::tempdir().unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    exhibit_tus::staging::owner_only_dir(open.path()).unwrap();
    assert_eq!(mode(open.path()), 0o700);
}
