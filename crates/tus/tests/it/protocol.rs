//! The core, creation, termination and expiration protocol, end to end.

use crate::support::*;

#[tokio::test]
async fn options_advertises_version_extensions_and_limits() {
    let server = TestServer::start(|c| c.max_upload_length = 12345).await;
    let resp = server.send("OPTIONS", "/v1/uploads", &[], b"").await;
    assert_eq!(resp.status, 204);
    assert_eq!(resp.header("tus-version"), Some("1.0.0"));
    assert_eq!(resp.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(resp.header("tus-extension"), Some("creation,checksum,termination,expiration"));
    assert_eq!(resp.header("tus-max-size"), Some("12345"));
    assert_eq!(resp.header("tus-checksum-algorithm"), Some("sha256"));
}

#[tokio::test]
async fn chunks_append_and_completion_gets_the_whole_sha256_once() {
    let server = TestServer::start(|_| {}).await;
    let data = pseudo_random(3 << 20, 1);
    let path = server.create(FORCE_A, data.len() as u64).await;
    assert!(path.starts_with("/v1/uploads/"), "{path}");
    let head = server.head(FORCE_A, &path).await;
    assert_eq!(head.header("upload-offset"), Some("0"));
    assert_eq!(head.header("upload-length"), Some(data.len().to_string().as_str()));
    assert_eq!(head.header("cache-control"), Some("no-store"));
    assert!(head.header("upload-metadata").unwrap().contains("filename ZGlzay5pbWc="));
    assert!(head.header("upload-expires").unwrap().ends_with(" GMT"));

    let mut offset = 0;
    for chunk in data.chunks(1 << 20) {
        let resp = server.patch(FORCE_A, &path, offset, chunk, Some(&sha256_checksum(chunk))).await;
        assert_eq!(resp.status, 204, "{}", resp.text());
        offset += chunk.len() as u64;
        assert_eq!(resp.header("upload-offset"), Some(offset.to_string().as_str()));
        assert!(resp.header("upload-expires").is_some());
    }
    let done = server.recorder.all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].sha256.to_hex(), sha256_hex(&data));
    assert_eq!(done[0].length, data.len() as u64);
    assert_eq!(
        (done[0].case.as_str(), done[0].exhibit.as_str(), done[0].filename.as_str()),
        ("CASE-A", "JS/1", "disk.img")
    );
    assert_eq!(std::fs::read(&done[0].data_path).unwrap(), data);

    // An empty PATCH at the end neither fails nor hands the upload over again.
    let again = server.patch(FORCE_A, &path, offset, b"", None).await;
    assert_eq!(again.status, 204);
    assert_eq!(server.recorder.all().len(), 1);
}

#[tokio::test]
async fn a_patch_at_the_wrong_offset_is_409_and_changes_nothing() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    assert_eq!(server.patch(FORCE_A, &path, 0, b"abcd", None).await.status, 204);
    for wrong in [0, 3, 5, 10, 11] {
        let resp = server.patch(FORCE_A, &path, wrong, b"ef", None).await;
        assert_eq!(resp.status, 409, "offset {wrong}");
    }
    assert_eq!(server.offset(FORCE_A, &path).await, 4);
    assert_eq!(server.data_len(&path), 4);
}

#[tokio::test]
async fn requests_without_tus_resumable_1_0_0_get_412() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    for version in [None, Some("0.2.2"), Some("2.0.0")] {
        let mut headers = vec![("authorization", FORCE_A)];
        if let Some(v) = version {
            headers.push(("tus-resumable", v));
        }
        let resp = server.send("HEAD", &path, &headers, b"").await;
        assert_eq!(resp.status, 412, "{version:?}");
        assert_eq!(resp.header("tus-version"), Some("1.0.0"));
    }
}

#[tokio::test]
async fn delete_terminates_the_upload_and_removes_its_files() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    server.patch(FORCE_A, &path, 0, b"abc", None).await;
    let auth = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A)];
    assert_eq!(server.send("DELETE", &path, &auth, b"").await.status, 204);
    assert_eq!(server.head(FORCE_A, &path).await.status, 404);
    assert_eq!(server.patch(FORCE_A, &path, 3, b"d", None).await.status, 404);
    assert_eq!(server.send("DELETE", &path, &auth, b"").await.status, 404);
    assert_eq!(std::fs::read_dir(server.staging.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn an_empty_upload_completes_at_creation() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 0).await;
    assert_eq!(server.offset(FORCE_A, &path).await, 0);
    let done = server.recorder.all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].sha256.to_hex(), sha256_hex(b""));
}

#[tokio::test]
async fn a_failed_completion_hook_is_retried_by_an_empty_patch() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 4).await;
    server.recorder.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let resp = server.patch(FORCE_A, &path, 0, b"abcd", None).await;
    assert_eq!(resp.status, 500);
    assert!(!resp.text().contains(server.staging.path().to_str().unwrap()), "no paths leak: {}", resp.text());
    assert_eq!(server.offset(FORCE_A, &path).await, 4, "the bytes are kept");
    assert!(server.recorder.all().is_empty());
    server.recorder.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(server.patch(FORCE_A, &path, 4, b"", None).await.status, 204);
    assert_eq!(server.patch(FORCE_A, &path, 4, b"", None).await.status, 204);
    let done = server.recorder.all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].sha256.to_hex(), sha256_hex(b"abcd"));
}

#[tokio::test]
async fn a_restarted_server_resumes_by_rehashing_the_received_prefix() {
    let server = TestServer::start(|_| {}).await;
    let data = pseudo_random(5 << 20, 7);
    let path = server.create(FORCE_A, data.len() as u64).await;
    assert_eq!(server.patch(FORCE_A, &path, 0, &data[..3 << 20], None).await.status, 204);
    let (staging, config) = server.stop();

    let server = TestServer::start_in(staging, config).await;
    assert_eq!(server.offset(FORCE_A, &path).await, 3 << 20);
    assert_eq!(server.patch(FORCE_A, &path, 3 << 20, &data[3 << 20..], None).await.status, 204);
    let done = server.recorder.all();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].sha256.to_hex(), sha256_hex(&data));
}

#[tokio::test]
async fn damaged_records_are_skipped_at_start_and_the_rest_still_work() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 6).await;
    assert_eq!(server.patch(FORCE_A, &path, 0, b"abc", None).await.status, 204);
    let (staging, config) = server.stop();
    let id = path.rsplit('/').next().unwrap();
    let record = std::fs::read_to_string(staging.path().join(format!("{id}.json"))).unwrap();
    // Garbage, a record under another upload's name, and a leftover temporary file.
    std::fs::write(staging.path().join("0123456789abcdef0123456789abcdef.json"), b"{not json").unwrap();
    std::fs::write(staging.path().join("fedcba9876543210fedcba9876543210.json"), &record).unwrap();
    std::fs::write(staging.path().join(format!("{id}.json.tmp")), b"half").unwrap();

    let server = TestServer::start_in(staging, config).await;
    assert_eq!(server.head(FORCE_A, "/v1/uploads/0123456789abcdef0123456789abcdef").await.status, 404);
    assert_eq!(server.head(FORCE_A, "/v1/uploads/fedcba9876543210fedcba9876543210").await.status, 404);
    assert!(!server.staging.path().join(format!("{id}.json.tmp")).exists());
    assert_eq!(server.patch(FORCE_A, &path, 3, b"def", None).await.status, 204);
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(b"abcdef"));
}

#[tokio::test]
async fn uploads_complete_but_not_handed_over_are_handed_over_after_a_restart() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 4).await;
    server.recorder.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(server.patch(FORCE_A, &path, 0, b"wxyz", None).await.status, 500);
    let other = server.create(FORCE_A, 4).await;
    let (staging, config) = server.stop();

    let server = TestServer::start_in(staging, config).await;
    assert_eq!(server.service.hand_over_pending().await.unwrap(), 1);
    assert_eq!(server.service.hand_over_pending().await.unwrap(), 0);
    let done = server.recorder.all();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].id.as_str(), done[0].sha256.to_hex()), (path.rsplit('/').next().unwrap(), sha256_hex(b"wxyz")));
    assert_eq!(server.offset(FORCE_A, &other).await, 0, "unfinished uploads are left alone");
}

#[tokio::test]
async fn the_router_nests_into_a_router_with_its_own_state() {
    #[derive(Clone)]
    struct AppState(&'static str);
    let server = TestServer::start(|_| {}).await;
    let app = axum::Router::<AppState>::new()
        .route(
            "/v1/cases",
            axum::routing::get(|axum::extract::State(s): axum::extract::State<AppState>| async move { s.0 }),
        )
        .nest("/v1/uploads", exhibit_tus::router(std::sync::Arc::clone(&server.service)))
        .with_state(AppState("cases"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    assert_eq!(send(addr, "GET", "/v1/cases", &[], b"").await.text(), "cases");
    let created = send(
        addr,
        "POST",
        "/v1/uploads",
        &[
            ("tus-resumable", "1.0.0"),
            ("authorization", FORCE_A),
            ("upload-length", "1"),
            ("upload-metadata", &metadata("CASE-A", "JS/1", "a")),
        ],
        b"",
    )
    .await;
    assert_eq!(created.status, 201);
}
