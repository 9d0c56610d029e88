//! Each configurable limit, enforced.

use std::time::Duration;

use crate::support::*;

#[tokio::test]
async fn max_upload_length_is_413_at_creation() {
    let server = TestServer::start(|c| c.max_upload_length = 1000).await;
    assert_eq!(server.create_with(FORCE_A, 1000, &metadata("CASE-A", "JS/1", "a")).await.status, 201);
    assert_eq!(server.create_with(FORCE_A, 1001, &metadata("CASE-A", "JS/1", "a")).await.status, 413);
}

#[tokio::test]
async fn max_patch_body_is_413_and_the_body_is_discarded() {
    let server = TestServer::start(|c| c.max_patch_body = 1 << 20).await;
    let data = pseudo_random(3 << 20, 9);
    let path = server.create(FORCE_A, data.len() as u64).await;
    assert_eq!(server.patch(FORCE_A, &path, 0, &data[..(1 << 20) + 1], None).await.status, 413);
    let chunked = format!("{:x}\r\n", 2 << 20);
    let mut body = chunked.into_bytes();
    body.extend_from_slice(&data[..2 << 20]);
    body.extend_from_slice(b"\r\n0\r\n\r\n");
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-offset", "0"),
        ("content-type", "application/offset+octet-stream"),
        ("transfer-encoding", "chunked"),
    ];
    assert_eq!(server.send("PATCH", &path, &headers, &body).await.status, 413);
    assert_eq!(server.offset(FORCE_A, &path).await, 0);
    assert_eq!(server.data_len(&path), 0);
    for (i, chunk) in data.chunks(1 << 20).enumerate() {
        assert_eq!(server.patch(FORCE_A, &path, (i << 20) as u64, chunk, None).await.status, 204);
    }
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(&data));
}

#[tokio::test]
async fn max_uploads_per_principal_is_429_until_one_finishes() {
    let server = TestServer::start(|c| c.max_uploads_per_principal = 2).await;
    let first = server.create(FORCE_A, 3).await;
    server.create(FORCE_A, 3).await;
    let refused = server.create_with(FORCE_A, 3, &metadata("CASE-A", "JS/1", "a")).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    // Counted per principal: a colleague and another force are not held up.
    assert_eq!(server.create_with(FORCE_A_BOB, 3, &metadata("CASE-A", "JS/1", "a")).await.status, 201);
    assert_eq!(server.create_with(FORCE_B, 3, &metadata("CASE-B", "JS/1", "a")).await.status, 201);
    assert_eq!(server.patch(FORCE_A, &first, 0, b"abc", None).await.status, 204);
    assert_eq!(server.create_with(FORCE_A, 3, &metadata("CASE-A", "JS/1", "a")).await.status, 201);
}

#[tokio::test]
async fn abandoned_uploads_expire_then_are_swept() {
    let server = TestServer::start(|c| c.expiry = Duration::from_secs(3600)).await;
    let path = server.create(FORCE_A, 10).await;
    let live = server.create(FORCE_A, 10).await;
    assert_eq!(server.patch(FORCE_A, &path, 0, b"abc", None).await.status, 204);
    let expires = server.head(FORCE_A, &path).await.header("upload-expires").unwrap().to_owned();
    let now = *server.now.lock().unwrap();
    assert_eq!(expires, exhibit_tus::http_date(now + Duration::from_secs(3600)));

    server.advance(Duration::from_secs(1800));
    // Bytes arriving push the expiry on.
    assert_eq!(server.patch(FORCE_A, &live, 0, b"a", None).await.status, 204);
    server.advance(Duration::from_secs(1801));
    assert_eq!(server.head(FORCE_A, &path).await.status, 410);
    assert_eq!(server.patch(FORCE_A, &path, 3, b"d", None).await.status, 410);
    assert_eq!(server.service.sweep_expired().await.unwrap(), 1);
    assert_eq!(server.head(FORCE_A, &path).await.status, 404);
    assert!(!server.staging.path().join(format!("{}.bin", path.rsplit('/').next().unwrap())).exists());
    assert_eq!(server.offset(FORCE_A, &live).await, 1);
    // Expired uploads no longer count against the principal's limit.
    assert_eq!(server.service.sweep_expired().await.unwrap(), 0);
}

#[tokio::test]
async fn a_stalled_body_is_cut_after_the_idle_timeout_and_its_bytes_kept() {
    let server = TestServer::start(|c| c.body_idle_timeout = Duration::from_secs(1)).await;
    let data = pseudo_random(4 << 20, 12);
    let path = server.create(FORCE_A, data.len() as u64).await;
    let headers = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A), ("upload-offset", "0")];
    // Sends 3 MiB of 4 and then nothing, keeping the connection open.
    let mut stalled = start_patch(server.addr, &path, &headers, data.len(), &data[..3 << 20]).await;
    server.wait_for_data(&path, 2 << 20).await;
    // The PATCH is answered when its body has been idle 1 s.
    let mut answer = vec![0u8; 512];
    let n = tokio::io::AsyncReadExt::read(&mut stalled, &mut answer).await.unwrap();
    assert!(answer[..n].starts_with(b"HTTP/1.1 400"), "{}", String::from_utf8_lossy(&answer[..n]));
    assert_eq!(server.offset(FORCE_A, &path).await, 3 << 20);
    drop(stalled);
    assert_eq!(server.patch(FORCE_A, &path, 3 << 20, &data[3 << 20..], None).await.status, 204);
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(&data));
}

#[tokio::test]
async fn a_stalled_body_ends_when_the_server_stops_and_its_bytes_are_kept() {
    let server = TestServer::start(|_| {}).await;
    let data = pseudo_random(4 << 20, 14);
    let path = server.create(FORCE_A, data.len() as u64).await;
    let headers = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A), ("upload-offset", "0")];
    // Sends 3 MiB of 4 and then nothing; its idle timeout is 60 s, longer
    // than a server's drain time.
    let stalled = start_patch(server.addr, &path, &headers, data.len(), &data[..3 << 20]).await;
    server.wait_for_data(&path, 2 << 20).await;
    server.service.stop_receiving();
    // HEAD answers once the PATCH, which ends at once, has saved its
    // bytes (those still in flight when it ended are resent from the
    // offset).
    let offset = server.offset(FORCE_A, &path).await;
    assert!(offset >= 2 << 20, "{offset}");
    drop(stalled);
    let rest = &data[offset as usize..];
    let refused = server.patch(FORCE_A, &path, offset, rest, None).await;
    assert_eq!(refused.status, 503, "no new bytes once stopping: {}", refused.text());
    assert!(refused.text().contains("resume the upload from the offset HEAD gives"), "{}", refused.text());
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(server.offset(FORCE_A, &path).await, offset, "and nothing changed");
}

/// A client whose connection broke mid-PATCH resumes while the server
/// still holds that PATCH (its body's idle timeout is 60 s): HEAD asks the
/// stalled body to let go and answers the bytes it kept, saved, at once (it
/// was 423 after the lock wait), and the resumed PATCH completes the
/// upload. A PATCH sent without a HEAD takes over the same way; its offset
/// is then behind the bytes kept, which is 409 as tus 1.0 has it, and the
/// client resumes from HEAD.
#[tokio::test]
async fn head_during_a_stalled_patch_answers_the_bytes_kept_and_a_new_patch_takes_over() {
    use tokio::io::AsyncReadExt as _;
    let server = TestServer::start(|c| c.lock_wait = Duration::from_secs(1)).await;
    let data = pseudo_random(4 << 20, 13);
    let headers = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A), ("upload-offset", "0")];
    for resume_with_head in [true, false] {
        let path = server.create(FORCE_A, data.len() as u64).await;
        let mut stalled = start_patch(server.addr, &path, &headers, data.len(), &data[..3 << 20]).await;
        server.wait_for_data(&path, 2 << 20).await;
        let offset = if resume_with_head {
            let head = server.head(FORCE_A, &path).await;
            assert_eq!(head.status, 200, "{}", head.text());
            head.header("upload-offset").unwrap().parse::<u64>().unwrap()
        } else {
            let late = server.patch(FORCE_A, &path, 0, &data, None).await;
            assert_eq!(late.status, 409, "{}", late.text());
            server.offset(FORCE_A, &path).await
        };
        assert!((2 << 20..=3 << 20).contains(&offset), "{offset}");
        assert_eq!(server.data_len(&path), offset, "the bytes counted are the bytes kept");
        // The stalled PATCH was answered: its body was taken over.
        let mut answer = vec![0u8; 512];
        let n = stalled.read(&mut answer).await.unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("took it over"), "{answer}");
        let resumed = server.patch(FORCE_A, &path, offset, &data[offset as usize..], None).await;
        assert_eq!(resumed.status, 204, "{}", resumed.text());
    }
    let all = server.recorder.all();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|upload| upload.sha256.to_hex() == sha256_hex(&data)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_creates_cannot_pass_the_per_principal_limit() {
    let server = std::sync::Arc::new(TestServer::start(|c| c.max_uploads_per_principal = 3).await);
    let racers: Vec<_> = (0..12)
        .map(|_| {
            let server = std::sync::Arc::clone(&server);
            tokio::spawn(async move { server.create_with(FORCE_A, 5, &metadata("CASE-A", "JS/1", "a")).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429, 429, 429, 429, 429, 429, 429]);
}

/// Defect (uploads branch): an upload whose completion hook failed was
/// swept at its expiry like an abandoned one, losing evidence that had
/// arrived whole. It is kept until a hand-over succeeds.
#[tokio::test]
async fn a_complete_upload_whose_hand_over_failed_is_never_swept() {
    let server = TestServer::start(|c| c.expiry = Duration::from_secs(60)).await;
    let path = server.create(FORCE_A, 4).await;
    server.recorder.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(server.patch(FORCE_A, &path, 0, b"wxyz", None).await.status, 500);
    server.advance(Duration::from_secs(3600));
    assert_eq!(server.service.sweep_expired().await.unwrap(), 0);
    assert_eq!(server.data_len(&path), 4, "the bytes are still staged");
    server.recorder.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    server.recorder.remove.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(server.service.hand_over_pending().await.unwrap(), 1);
    let data = server.staging.path().join(format!("{}.bin", path.rsplit('/').next().unwrap()));
    assert!(!data.exists(), "StagedBytes::Remove removes the bytes once handed over");
    assert_eq!(server.head(FORCE_A, &path).await.header("upload-offset"), Some("4"), "the record stays");
}
