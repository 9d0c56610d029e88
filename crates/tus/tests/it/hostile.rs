//! Hostile input: each refused with a client error, nothing staged or changed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::support::*;

fn staged_files(server: &TestServer) -> usize {
    std::fs::read_dir(server.staging.path()).unwrap().count()
}

#[tokio::test]
async fn malformed_metadata_is_400_and_stages_nothing() {
    let server = TestServer::start(|_| {}).await;
    let good_case = STANDARD.encode("CASE-A");
    let cases = [
        format!("case !!notbase64,exhibit {},filename {}", STANDARD.encode("JS/1"), STANDARD.encode("a")),
        format!("{},case {}", metadata("CASE-A", "JS/1", "a"), good_case),
        metadata("CASE-A", "JS/1", "../../etc/passwd"),
        metadata("CASE-A", "JS/1", "/etc/passwd"),
        metadata("CASE-A", "JS/1", "..\\..\\windows\\system32"),
        metadata("CASE-A", "JS/1", ".."),
        metadata("CASE-A", "../JS/1", "a"),
        metadata("../CASE-A", "JS/1", "a"),
        format!("case {good_case},exhibit {}", STANDARD.encode("JS/1")),
        String::new(),
        ",,,".to_owned(),
    ];
    for bad in &cases {
        let resp = server.create_with(FORCE_A, 10, bad).await;
        assert_eq!(resp.status, 400, "{bad:?}: {}", resp.text());
    }
    let no_metadata = [("tus-resumable", "1.0.0"), ("authorization", FORCE_A), ("upload-length", "10")];
    assert_eq!(server.send("POST", "/v1/uploads", &no_metadata, b"").await.status, 400);
    assert_eq!(staged_files(&server), 0);
}

/// The error is JSON naming the key at fault, for each required key.
#[tokio::test]
async fn bad_metadata_errors_are_json_naming_the_key() {
    let server = TestServer::start(|_| {}).await;
    let control = format!("a{}b", '\u{1b}');
    let long = "x".repeat(300);
    for (bad, key) in [
        (metadata("CASE-A", "JS/1", "../../etc/passwd"), "filename"),
        (metadata("CASE-A", "JS/1", &control), "filename"),
        (metadata("CASE-A", "JS/1", &long), "filename"),
        (metadata("CASE-A", "JS/1/../../x", "a"), "exhibit"),
        (metadata("CASE-A", &long, "a"), "exhibit"),
        (metadata("../CASE-A", "JS/1", "a"), "case"),
    ] {
        let resp = server.create_with(FORCE_A, 10, &bad).await;
        assert_eq!(resp.status, 400, "{bad:?}: {}", resp.text());
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_str(&resp.text()).unwrap();
        assert_eq!((body["key"].as_str(), body["kind"].as_str()), (Some(key), Some("invalid_metadata")), "{body}");
    }
    assert_eq!(staged_files(&server), 0);
}

#[tokio::test]
async fn negative_huge_or_odd_lengths_are_refused() {
    let server = TestServer::start(|c| c.max_upload_length = 1 << 30).await;
    let meta = metadata("CASE-A", "JS/1", "a");
    for (length, status) in [
        ("-1", 400),
        ("+10", 400),
        ("1e3", 400),
        ("0x10", 400),
        ("", 400),
        ("18446744073709551616", 400),
        ("9223372036854775808", 400),
        ("9223372036854775807", 413),
        ("1073741825", 413),
    ] {
        let headers = [
            ("tus-resumable", "1.0.0"),
            ("authorization", FORCE_A),
            ("upload-length", length),
            ("upload-metadata", meta.as_str()),
        ];
        let resp = server.send("POST", "/v1/uploads", &headers, b"").await;
        assert_eq!(resp.status, status, "Upload-Length {length:?}: {}", resp.text());
    }
    let twice = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-length", "5"),
        ("upload-length", "6"),
        ("upload-metadata", meta.as_str()),
    ];
    assert_eq!(server.send("POST", "/v1/uploads", &twice, b"").await.status, 400);
    let deferred = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-defer-length", "1"),
        ("upload-metadata", meta.as_str()),
    ];
    assert_eq!(server.send("POST", "/v1/uploads", &deferred, b"").await.status, 400);
    assert_eq!(staged_files(&server), 0);
}

#[tokio::test]
async fn offsets_beyond_the_length_or_malformed_are_refused() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    assert_eq!(server.patch(FORCE_A, &path, 11, b"x", None).await.status, 409);
    assert_eq!(server.patch(FORCE_A, &path, u64::MAX >> 1, b"x", None).await.status, 409);
    for offset in ["-1", "abc", "", "1,1", "0x1"] {
        let headers = [
            ("tus-resumable", "1.0.0"),
            ("authorization", FORCE_A),
            ("upload-offset", offset),
            ("content-type", "application/offset+octet-stream"),
        ];
        assert_eq!(server.send("PATCH", &path, &headers, b"x").await.status, 400, "{offset:?}");
    }
    assert_eq!(server.offset(FORCE_A, &path).await, 0);
}

#[tokio::test]
async fn a_chunk_past_the_declared_length_is_413_and_discarded() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    assert_eq!(server.patch(FORCE_A, &path, 0, b"abcd", None).await.status, 204);
    // Declared by Content-Length: refused before reading.
    assert_eq!(server.patch(FORCE_A, &path, 4, b"efghijk", None).await.status, 413);
    // Chunked, so only counting finds it: refused as it passes the length.
    let chunked = format!("{:x}\r\n{}\r\n0\r\n\r\n", 2 << 20, "z".repeat(2 << 20));
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-offset", "4"),
        ("content-type", "application/offset+octet-stream"),
        ("transfer-encoding", "chunked"),
    ];
    assert_eq!(server.send("PATCH", &path, &headers, chunked.as_bytes()).await.status, 413);
    assert_eq!(server.offset(FORCE_A, &path).await, 4);
    assert_eq!(server.data_len(&path), 4);
    assert_eq!(server.patch(FORCE_A, &path, 4, b"efghij", None).await.status, 204);
    assert_eq!(server.recorder.all()[0].sha256.to_hex(), sha256_hex(b"abcdefghij"));
    // Past the end of a complete upload, with or without a length.
    assert_eq!(server.patch(FORCE_A, &path, 10, b"k", None).await.status, 413);
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-offset", "10"),
        ("content-type", "application/offset+octet-stream"),
        ("transfer-encoding", "chunked"),
    ];
    assert_eq!(server.send("PATCH", &path, &headers, b"1\r\nk\r\n0\r\n\r\n").await.status, 413);
    assert_eq!(server.data_len(&path), 10);
}

#[tokio::test]
async fn wrong_content_type_and_odd_upload_ids_are_refused() {
    let server = TestServer::start(|_| {}).await;
    let path = server.create(FORCE_A, 10).await;
    let headers = [
        ("tus-resumable", "1.0.0"),
        ("authorization", FORCE_A),
        ("upload-offset", "0"),
        ("content-type", "application/octet-stream"),
    ];
    assert_eq!(server.send("PATCH", &path, &headers, b"abc").await.status, 415);
    for id in ["..%2F..%2Fetc%2Fpasswd", "0123456789ABCDEF0123456789ABCDEF", "x", "%2e%2e"] {
        let resp = server.head(FORCE_A, &format!("/v1/uploads/{id}")).await;
        assert_eq!(resp.status, 404, "{id}");
    }
    assert_eq!(server.offset(FORCE_A, &path).await, 0);
}
