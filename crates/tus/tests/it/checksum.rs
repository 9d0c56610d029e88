//! The checksum extension: a chunk whose SHA-256 does not match is
//! discarded whole (460) and the offset stays; an interrupted chunk is
//! kept without a checksum and dropped with one.

use crate::support::*;

#[tokio::test]
async fn a_wrong_checksum_is_460_and_the_chunk_is_discarded() {
    let server = TestServer::start(|_| {}).await;
    let data = pseudo_random(2 << 20, 3);
    let path = server.create(FORCE_A, data.len() as u64).await;
    let (first, second) = data.split_at(1 << 20);
    assert_eq!(server.patch(FORCE_A, &path, 0, first, Some(&sha256_checksum(first))).await.status, 204);

    let resp = server.patch(FORCE_A, &path, 1 << 20, second, Some(&sha256_checksum(b"something else"))).await;
    assert_eq!(resp.status, 460, "{}", resp.text());
    assert_eq!(server.offset(FORCE_A, &path).await, 1 << 20);
    assert_eq!(server.data_len(&path), 1 << 20);
    let refused = server.recorder.refused.lock().unwrap().clone();
    assert_eq!(refused.len(), 1, "the completion hook is told of the refused chunk");
    assert_eq!((refused[0].offset, refused[0].case.as_str()), (1 << 20, "CASE-A"));
    assert_eq!(refused[0].actual.to_hex(), sha256_hex(second));
    assert_eq!(refused[0].claimed.to_hex(), sha256_hex(b"something else"));

    // The right chunk then goes through, and the whole hash is right.
    assert_eq!(server.patch(FORCE_A, &path, 1 << 20, second, Some(&sha256_checksum(second))).await.status, 204);
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(&data));
}

#[tokio::test]
async fn unknown_or_malformed_checksums_are_400() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 4).await;
    for bad in
        ["sha1 gZT/4j2Ua7VA8s4uGz95g4eWBtc=", "md5 4vxxTEcn7pOV8yTNLn8zHw==", "sha256", "sha256 ***", "sha256 AAAA"]
    {
        let resp = server.patch(FORCE_A, &path, 0, b"abcd", Some(bad)).await;
        assert_eq!(resp.status, 400, "{bad}: {}", resp.text());
    }
    assert_eq!(server.offset(FORCE_A, &path).await, 0);
}

#[tokio::test]
async fn an_interrupted_body_keeps_its_bytes_without_a_checksum() {
    let server = TestServer::start(|_| {}).await;
    let data = pseudo_random(4 << 20, 5);
    let path = server.create(FORCE_A, data.len() as u64).await;
    let headers = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A), ("upload-offset", "0")];
    let stream = start_patch(server.addr, &path, &headers, data.len(), &data[..3 << 20]).await;
    server.wait_for_data(&path, 2 << 20).await;
    drop(stream);

    // HEAD waits for the cut-short PATCH to be recorded.
    let kept = server.offset(FORCE_A, &path).await;
    assert!((2 << 20..=3 << 20).contains(&kept), "kept {kept}");
    assert_eq!(server.data_len(&path), kept);
    let rest = &data[kept as usize..];
    assert_eq!(server.patch(FORCE_A, &path, kept, rest, None).await.status, 204);
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(&data));
}

#[tokio::test]
async fn an_interrupted_body_with_a_checksum_is_dropped_whole() {
    let server = TestServer::start(|_| {}).await;
    let data = pseudo_random(4 << 20, 6);
    let path = server.create(FORCE_A, data.len() as u64).await;
    let checksum = sha256_checksum(&data);
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-offset", "0"),
        ("upload-checksum", &checksum),
    ];
    let stream = start_patch(server.addr, &path, &headers, data.len(), &data[..3 << 20]).await;
    server.wait_for_data(&path, 2 << 20).await;
    drop(stream);
    // The PATCH task ends with the chunk dropped; HEAD waits for it.
    assert_eq!(server.offset(FORCE_A, &path).await, 0);
    assert_eq!(server.data_len(&path), 0);
    assert_eq!(server.patch(FORCE_A, &path, 0, &data, Some(&checksum)).await.status, 204);
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(&data));
}
