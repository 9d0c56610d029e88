//! Plain PUT with RFC 9530 Content-Digest: the file is ingested when the
//! digest matches; a mismatch is 400, recorded, and nothing is ingested;
//! no digest, an oversize body, a traversal in the exhibit or file name,
//! another organisation's case and a spoiled token are each refused.

use exhibit_app::access::Role;
use exhibit_tus::content_digest::header_value;

use crate::common::{MAX_PUT, Server, files_under, get, request, seg, sha256_hex};
use crate::uploads::{CASE, force_case, status};

fn put_path(exhibit: &str, filename: &str) -> String {
    format!("/v1/cases/{}/exhibits/{}/files/{}", seg(CASE), seg(exhibit), filename)
}

async fn put(server: &Server, token: &str, path: &str, body: &[u8], digest: Option<&str>) -> crate::common::Reply {
    let mut headers = vec![("Content-Type", "application/octet-stream")];
    if let Some(d) = digest {
        headers.push(("Content-Digest", d));
    }
    request("PUT", &server.url(path), Some(token), &headers, Some(body.to_vec())).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_with_the_right_digest_is_ingested_and_listed() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let data = b"a small scan\n".repeat(100);
    let digest = header_value(&exhibit_core::Sha256Digest::of(&data));
    let reply = put(&server, &token, &put_path("JS/1", "scan%201.txt"), &data, Some(&digest)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let body = reply.json();
    assert_eq!(
        (body["sha256"].as_str(), body["filename"].as_str()),
        (Some(sha256_hex(&data).as_str()), Some("scan 1.txt"))
    );
    assert!(body["upload"].as_str().unwrap().starts_with("put-"));
    let listed = get(&server, &format!("/v1/cases/{}/artefacts", seg(CASE)), &token).await.json();
    let original = listed["artefacts"].as_array().unwrap().iter().find(|a| a["sha256"] == sha256_hex(&data)).unwrap();
    assert!(files_under(&server.dir.path().join("staging/put")).is_empty(), "nothing left staged");
    // The server's copy's times are when it arrived: not the evidence's.
    let (case, id) = (server.stored(CASE).await, original["id"].as_str().unwrap().parse().unwrap());
    let stored = exhibit_app::artefact::read_manifest(server.store.as_ref(), &case, &id, 1 << 20).await.unwrap();
    assert_eq!(stored.manifest.timestamps, exhibit_core::manifest::Timestamps::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_whose_body_does_not_match_is_400_recorded_and_not_ingested() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let digest = header_value(&exhibit_core::Sha256Digest::of(b"what the client meant"));
    let reply = put(&server, &token, &put_path("JS/1", "a.txt"), b"what arrived", Some(&digest)).await;
    assert_eq!((reply.status, reply.kind().as_str()), (400, "digest_mismatch"), "{reply:?}");
    assert_eq!(server.ledger_len(CASE).await, 0, "nothing ingested");
    let status = status(&server, &token).await;
    let reason = status["refusals"][0]["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains(&sha256_hex(b"what arrived")), "{reason}");
    assert!(files_under(&server.dir.path().join("staging/put")).is_empty(), "nothing kept");
}

/// A PUT to try: path, token, body, Content-Digest, the status expected.
type Attempt<'a> = (String, &'a str, &'a [u8], Option<&'a str>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_puts_are_refused_and_change_nothing() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let rita = server.token("Force A", "rita", Role::Reviewer).await;
    let (expired, revoked) = server.spoiled_tokens("Force A", "eve").await;
    let data = b"abc".to_vec();
    let digest = header_value(&exhibit_core::Sha256Digest::of(&data));
    let big = vec![7u8; MAX_PUT as usize + 1];
    let big_digest = header_value(&exhibit_core::Sha256Digest::of(&big));
    let cases: Vec<Attempt> = vec![
        (put_path("JS/1", "a.txt"), &token, &data, None, 400),
        (put_path("JS/1", "a.txt"), &token, &data, Some("sha-256=:bm90IGEgZGlnZXN0:"), 400),
        (put_path("JS/1", "a.txt"), &token, &data, Some("md5=:AAAA:"), 400),
        (put_path("JS/1", "a.txt"), &token, &big, Some(&big_digest), 413),
        (put_path("JS/1", "..%2F..%2Fetc%2Fpasswd"), &token, &data, Some(&digest), 400),
        (put_path("JS/1", "a%0Ab"), &token, &data, Some(&digest), 400),
        (put_path("JS/1", &"x".repeat(256)), &token, &data, Some(&digest), 400),
        (put_path("../../JS/1", "a.txt"), &token, &data, Some(&digest), 400),
        (put_path("JS/1", "a.txt"), &bob, &data, Some(&digest), 404),
        (put_path("JS/1", "a.txt"), &rita, &data, Some(&digest), 403),
        (put_path("JS/1", "a.txt"), &expired, &data, Some(&digest), 401),
        (put_path("JS/1", "a.txt"), &revoked, &data, Some(&digest), 401),
    ];
    for (path, token, body, digest, want) in cases {
        let reply = put(&server, token, &path, body, digest).await;
        assert_eq!(reply.status, want, "{path} {digest:?}: {reply:?}");
        assert!(!reply.kind().is_empty(), "a JSON error: {reply:?}");
    }
    assert_eq!(server.ledger_len(CASE).await, 0);
    assert!(files_under(&server.dir.path().join("staging/put")).is_empty());
}

/// A file that is stored but whose later job fails (a `.E01` that is no
/// EWF image) is `done` with a note, and the case's status lists the
/// failed job under problems: not the clean `done` of before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_file_whose_later_job_failed_is_done_with_a_note_and_a_problem() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let data: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let digest = header_value(&exhibit_core::Sha256Digest::of(&data));
    let reply = put(&server, &token, &put_path("JS/9", "disk1.E01"), &data, Some(&digest)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let upload = reply.json()["upload"].as_str().unwrap().to_owned();
    let shown = get(&server, &format!("/v1/cases/{}/uploads/{upload}", seg(CASE)), &token).await.json();
    assert_eq!(shown["state"], "done", "{shown}");
    let note = shown["reason"].as_str().unwrap_or_default();
    assert!(note.starts_with("needs attention: stored in the ledger, but 1 later job(s)"), "{shown}");
    let status = status(&server, &token).await;
    let problems = status["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["text"].as_str().unwrap().starts_with("explore of exhibit JS/9 failed: ")),
        "{status}"
    );
}
