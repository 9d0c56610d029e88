//! Uploads through the API: tus at /v1/uploads authorised against the
//! access state and ingested on completion (the ledger names the user,
//! the staged bytes go once recorded), 403 for a reviewer of the owner,
//! 404 for anyone else, also behind the per-token limits, a wrong
//! Upload-Checksum refused and recorded, a failed ingest kept staged,
//! shown in the status and retried.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use exhibit_app::access::Role;
use exhibit_core::event::Action;
use serde_json::json;

use crate::common::{Reply, Server, get, post_json, request, seg, sha256_hex};

pub const CASE: &str = "2024/00123/POL";

pub fn metadata(case: &str, exhibit: &str, filename: &str) -> String {
    format!(
        "case {},exhibit {},filename {}",
        STANDARD.encode(case),
        STANDARD.encode(exhibit),
        STANDARD.encode(filename)
    )
}

pub async fn tus_create(server: &Server, token: &str, length: usize, meta: &str) -> Reply {
    let length = length.to_string();
    let headers = [("Tus-Resumable", "1.0.0"), ("Upload-Length", length.as_str()), ("Upload-Metadata", meta)];
    request("POST", &server.url("/v1/uploads"), Some(token), &headers, Some(Vec::new())).await
}

pub async fn tus_patch(
    server: &Server,
    token: &str,
    location: &str,
    offset: u64,
    body: &[u8],
    checksum: Option<&str>,
) -> Reply {
    let offset = offset.to_string();
    let mut headers = vec![
        ("Tus-Resumable", "1.0.0"),
        ("Upload-Offset", offset.as_str()),
        ("Content-Type", "application/offset+octet-stream"),
    ];
    if let Some(c) = checksum {
        headers.push(("Upload-Checksum", c));
    }
    request("PATCH", &server.url(location), Some(token), &headers, Some(body.to_vec())).await
}

/// Uploads `data` whole by tus; returns the upload's path (`/v1/uploads/ID`).
pub async fn tus_upload(server: &Server, token: &str, exhibit: &str, filename: &str, data: &[u8]) -> String {
    let created = tus_create(server, token, data.len(), &metadata(CASE, exhibit, filename)).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let location = created.header("location").unwrap().to_owned();
    let done = tus_patch(server, token, &location, 0, data, None).await;
    assert_eq!(done.status, 204, "{}", String::from_utf8_lossy(&done.body));
    location
}

pub async fn force_case(server: &Server) -> String {
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    token
}

pub async fn status(server: &Server, token: &str) -> serde_json::Value {
    let reply = get(server, &format!("/v1/cases/{}/status", seg(CASE)), token).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tus_upload_is_ingested_as_the_user_listed_and_downloadable_with_its_sha256() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let data = b"an exhibit uploaded by tus\n".repeat(1000);
    let location = tus_upload(&server, &token, "JS/1", "notes 1.txt", &data).await;

    let listed = get(&server, &format!("/v1/cases/{}/artefacts", seg(CASE)), &token).await;
    let server_dir = server.dir.path().to_str().unwrap();
    let text = String::from_utf8_lossy(&listed.body);
    assert!(!text.contains(server_dir), "no server path is shown to a reader: {text}");
    let listed = listed.json();
    let artefacts = listed["artefacts"].as_array().unwrap();
    let original = artefacts.iter().find(|a| a["kind"] == "original").expect("the original is listed");
    assert_eq!(original["sha256"], sha256_hex(&data));
    assert_eq!(original["exhibit"], "JS/1");
    assert_eq!(original["path"], "notes 1.txt", "the uploaded file's name: {original}");
    let id = original["id"].as_str().unwrap();
    let download = get(&server, &format!("/v1/cases/{}/artefacts/{id}/content", seg(CASE)), &token).await;
    assert_eq!((download.status, sha256_hex(&download.body)), (200, sha256_hex(&data)));

    let events = server.events(CASE).await;
    let acquired = events.iter().find(|e| e.action == Action::Acquired).expect("an acquired event");
    assert_eq!(acquired.actor.operator, "alice (Force A)", "the user is the actor");
    let key = exhibit_custody::Signer::load_or_create(&server.key).unwrap().public_key_openssh();
    assert_eq!(acquired.actor.public_key, key, "beside the server's signing key");

    let id = location.rsplit('/').next().unwrap();
    let recorded = serde_json::to_string(&events).unwrap();
    assert!(!recorded.contains(server_dir), "the ledger names no server folder: {recorded}");
    let source = &acquired.acquired_params().and_then(|p| p.facts.clone()).expect("acquired facts")["source"];
    assert_eq!(source["path"]["display"], format!("upload/{id}/notes 1.txt"), "the upload and its file name: {source}");
    assert!(!server.tus_staging().join(format!("{id}.bin")).exists(), "the staged bytes go once recorded");
    let head = request("HEAD", &server.url(&location), Some(&token), &[("Tus-Resumable", "1.0.0")], None).await;
    assert_eq!(head.header("upload-offset"), Some(data.len().to_string().as_str()));
    let status = status(&server, &token).await;
    assert_eq!(status["uploads"], json!({"receiving": 0, "queued": 0, "running": 0, "done": 1, "failed": 0}));

    // The upload's own status; another force's token finds nothing there.
    let path = format!("/v1/cases/{}/uploads/{id}", seg(CASE));
    let one = get(&server, &path, &token).await;
    assert_eq!(one.status, 200, "{one:?}");
    let one = one.json();
    assert_eq!((one["state"].as_str(), one["filename"].as_str()), (Some("done"), Some("notes 1.txt")));
    assert_eq!(
        (one["sha256"].as_str(), one["operator"].as_str()),
        (Some(sha256_hex(&data).as_str()), Some("alice (Force A)"))
    );
    let bob = server.token("Force B", "bob", Role::Admin).await;
    assert_eq!(get(&server, &path, &bob).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_orgs_shared_orgs_and_unknown_cases_get_the_same_404() {
    let server = Server::start().await;
    let alice = force_case(&server).await;
    let admin = server.token("Force A", "anne", Role::Admin).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let dave = server.token("Defence LLP", "dave", Role::Admin).await;
    let share =
        post_json(&server, &format!("/v1/cases/{}/shares", seg(CASE)), &admin, json!({"org": "Defence LLP"})).await;
    assert_eq!(share.status, 201);
    let meta = metadata(CASE, "JS/1", "a.txt");
    let unknown = tus_create(&server, &alice, 3, &metadata("NOSUCH1", "JS/1", "a.txt")).await;
    assert_eq!(unknown.status, 404);
    for token in [&bob, &dave] {
        let reply = tus_create(&server, token, 3, &meta).await;
        assert_eq!((reply.status, &reply.body), (404, &unknown.body), "identical bodies");
    }
    let created = tus_create(&server, &admin, 3, &meta).await;
    assert_eq!(created.status, 201, "an admin of the owner may upload");
    let location = created.header("location").unwrap().to_owned();
    for token in [&bob, &dave] {
        let head = request("HEAD", &server.url(&location), Some(token), &[("Tus-Resumable", "1.0.0")], None).await;
        assert_eq!(head.status, 404);
        let patch = tus_patch(&server, token, &location, 0, b"abc", None).await;
        assert_eq!((patch.status, &patch.body), (404, &unknown.body));
        let delete = request("DELETE", &server.url(&location), Some(token), &[("Tus-Resumable", "1.0.0")], None).await;
        assert_eq!(delete.status, 404);
    }
    // Its own organisation terminates it (tus termination); then it is gone.
    let delete = request("DELETE", &server.url(&location), Some(&admin), &[("Tus-Resumable", "1.0.0")], None).await;
    assert_eq!(delete.status, 204, "{delete:?}");
    let head = request("HEAD", &server.url(&location), Some(&admin), &[("Tus-Resumable", "1.0.0")], None).await;
    assert_eq!(head.status, 404);
    assert_eq!(server.ledger_len(CASE).await, 0, "nothing was ingested");
}

/// A reviewer of the owning organisation knows the case: creating an
/// upload is refused 403 with the same JSON as its PUT, while to a case
/// that is not its organisation's it is a stranger like any other (404).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_of_the_owner_gets_403_as_on_put_and_strangers_still_404() {
    let server = Server::start().await;
    let alice = force_case(&server).await;
    let rita = server.token("Force A", "rita", Role::Reviewer).await;
    let bert = server.token("Force B", "bert", Role::Reviewer).await;
    let meta = metadata(CASE, "JS/1", "a.txt");

    let refused = tus_create(&server, &rita, 3, &meta).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.header("content-type"), Some("application/json"));
    assert_eq!(refused.kind(), "forbidden");
    let put_path = format!("/v1/cases/{}/exhibits/JS%2F1/files/a.txt", seg(CASE));
    let put = request("PUT", &server.url(&put_path), Some(&rita), &[], Some(b"abc".to_vec())).await;
    assert_eq!((put.status, put.json()), (403, refused.json()), "the same answer as PUT");

    let unknown = tus_create(&server, &alice, 3, &metadata("NOSUCH1", "JS/1", "a.txt")).await;
    assert_eq!(unknown.status, 404);
    for (token, meta) in [(&rita, metadata("NOSUCH1", "JS/1", "a.txt")), (&bert, meta.clone())] {
        let reply = tus_create(&server, token, 3, &meta).await;
        assert_eq!((reply.status, &reply.body), (404, &unknown.body), "identical bodies");
    }
    let staged = std::fs::read_dir(server.tus_staging()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(staged, 0, "nothing was staged");
}

/// Under the per-token limits, as `exhibit serve` runs, tus takes the
/// caller the limits' middleware found (one token lookup a request); a
/// revoked or expired token, which that middleware passes on unnamed, is
/// still refused by the upload routes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_token_limits_uploads_work_and_revoked_tokens_are_still_refused() {
    let server = Server::start_limited(exhibit_api::limits::TokenLimitConfig::default()).await;
    let alice = force_case(&server).await;
    let location = tus_upload(&server, &alice, "JS/1", "a.txt", b"abc").await;
    assert!(server.ledger_len(CASE).await > 0, "ingested");

    let (expired, revoked) = server.spoiled_tokens("Force A", "eve").await;
    let created = tus_create(&server, &alice, 3, &metadata(CASE, "JS/1", "b.txt")).await;
    assert_eq!(created.status, 201, "{created:?}");
    let open = created.header("location").unwrap().to_owned();
    for (bad, kind) in [(&expired, "token_expired"), (&revoked, "token_revoked")] {
        let reply = tus_create(&server, bad, 3, &metadata(CASE, "JS/1", "c.txt")).await;
        assert_eq!((reply.status, reply.kind().as_str()), (401, kind), "as the rest of the API: {reply:?}");
        let patch = tus_patch(&server, bad, &open, 0, b"abc", None).await;
        assert_eq!(patch.status, 401, "{patch:?}");
        for method in ["HEAD", "DELETE"] {
            let reply = request(method, &server.url(&location), Some(bad), &[("Tus-Resumable", "1.0.0")], None).await;
            assert_eq!(reply.status, 401, "{method}");
        }
    }
    let head = request("HEAD", &server.url(&open), Some(&alice), &[("Tus-Resumable", "1.0.0")], None).await;
    assert_eq!(head.header("upload-offset"), Some("0"), "the refused PATCH wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_upload_checksum_is_460_recorded_and_nothing_ingested() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let created = tus_create(&server, &token, 4, &metadata(CASE, "JS/1", "a.txt")).await;
    let location = created.header("location").unwrap().to_owned();
    let wrong = format!("sha256 {}", STANDARD.encode(exhibit_core::Sha256Digest::of(b"else").as_bytes()));
    let reply = tus_patch(&server, &token, &location, 0, b"abcd", Some(&wrong)).await;
    assert_eq!(reply.status, 460, "{reply:?}");
    assert_eq!(reply.kind(), "checksum_mismatch");
    let status = status(&server, &token).await;
    let refusals = status["refusals"].as_array().unwrap();
    assert_eq!(refusals.len(), 1, "{status}");
    assert_eq!(refusals[0]["operator"], "alice (Force A)");
    assert!(refusals[0]["reason"].as_str().unwrap().contains(&sha256_hex(b"abcd")), "{}", refusals[0]);
    assert_eq!(server.ledger_len(CASE).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_metadata_expired_and_revoked_tokens_are_refused_with_json() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let long = "x".repeat(300);
    for (meta, key) in [
        (metadata(CASE, "JS/1", "../../etc/passwd"), "filename"),
        (metadata(CASE, "JS/1", "a\u{7}b"), "filename"),
        (metadata(CASE, "JS/1", &long), "filename"),
        (metadata(CASE, "../../JS/1", "a"), "exhibit"),
        (metadata(CASE, &long, "a"), "exhibit"),
        (metadata("../x", "JS/1", "a"), "case"),
    ] {
        let reply = tus_create(&server, &token, 3, &meta).await;
        assert_eq!(reply.status, 400, "{meta}");
        assert_eq!(reply.json()["key"], key, "{meta}");
    }
    let (expired, revoked) = server.spoiled_tokens("Force A", "eve").await;
    for (bad, kind) in [(&expired, "token_expired"), (&revoked, "token_revoked")] {
        let reply = tus_create(&server, bad, 3, &metadata(CASE, "JS/1", "a")).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.kind(), kind, "as the rest of the API");
    }
    let staged = std::fs::read_dir(server.tus_staging()).map(|d| d.count()).unwrap_or(0);
    assert_eq!(staged, 0, "nothing was staged");
}

/// A failed ingest (here the server's key may not join a case another key
/// signed) answers the last PATCH 500, keeps the bytes staged, shows in the
/// case's status with what to do, and is ingested by `hand_over_pending`
/// once the cause is fixed (here: the key introduced).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_ingest_stays_staged_is_shown_and_is_retried() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    server.ingest_signed_by_another_key(CASE).await;
    let created = tus_create(&server, &token, 5, &metadata(CASE, "JS/2", "b.txt")).await;
    let location = created.header("location").unwrap().to_owned();
    let reply = tus_patch(&server, &token, &location, 0, b"hello", None).await;
    assert_eq!(reply.status, 500, "{reply:?}");
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert!(server.tus_staging().join(format!("{id}.bin")).exists(), "the bytes stay staged");
    let status = status(&server, &token).await;
    assert_eq!(status["uploads"]["failed"], 1, "{status}");
    let failure = &status["failures"][0];
    assert_eq!(
        (failure["upload"].as_str(), failure["sha256"].as_str()),
        (Some(id.as_str()), Some(sha256_hex(b"hello").as_str()))
    );
    assert!(failure["reason"].as_str().unwrap().contains("retried"), "{failure}");
    // What the client reads names no server path, key file or operator's
    // remedy (the server's log has them).
    let shown = format!("{} {failure}", String::from_utf8_lossy(&reply.body));
    let server_dir = server.dir.path().display().to_string();
    for secret in [server_dir.as_str(), "introduce-key", "key_file", "ed25519", "signing key"] {
        assert!(!shown.contains(secret), "{secret:?} shown to the client: {shown}");
    }
    assert!(shown.contains(&format!("server's log under upload {id}")), "{shown}");

    let dir = server.restart_introducing_key().await;
    assert_eq!(dir.tus.hand_over_pending().await.unwrap(), 1);
    let status = crate::uploads::status(&dir, &token).await;
    assert_eq!(status["uploads"]["done"], 1, "{status}");
    assert!(!dir.tus_staging().join(format!("{id}.bin")).exists());
}

/// Starts a tus upload of `data` into `case` and sends all but its last
/// byte; returns the location, for the last byte to be sent later.
async fn all_but_the_last_byte(server: &Server, token: &str, case: &str, filename: &str, data: &[u8]) -> String {
    let created = tus_create(server, token, data.len(), &metadata(case, "JS/1", filename)).await;
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let location = created.header("location").unwrap().to_owned();
    let head = tus_patch(server, token, &location, 0, &data[..data.len() - 1], None).await;
    assert_eq!(head.status, 204, "{}", String::from_utf8_lossy(&head.body));
    location
}

/// Two organisations' uploads that finish at the same moment are each
/// ingested into their own case, as their own user (the attacker saw both
/// hang, and each file land in the other force's case: the ingests shared
/// one queue in the process and took each other's jobs).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uploads_finishing_at_once_each_land_in_their_own_case_as_their_own_user() {
    const OTHER: &str = "2024/00999/POL";
    let server = Server::start().await;
    let alice = force_case(&server).await;
    let bob = server.token("Force B", "bob", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &bob, json!({"case": OTHER})).await.status, 201);
    let (a_data, b_data) = (b"force A's statement\n".repeat(50), b"force B's statement\n".repeat(70));
    for round in 0..3 {
        let a = all_but_the_last_byte(&server, &alice, CASE, &format!("a{round}.txt"), &a_data).await;
        let b = all_but_the_last_byte(&server, &bob, OTHER, &format!("b{round}.txt"), &b_data).await;
        let (a_last, b_last) = (a_data.len() as u64 - 1, b_data.len() as u64 - 1);
        let both = async {
            tokio::join!(
                tus_patch(&server, &alice, &a, a_last, &a_data[a_data.len() - 1..], None),
                tus_patch(&server, &bob, &b, b_last, &b_data[b_data.len() - 1..], None)
            )
        };
        let (a_done, b_done) =
            tokio::time::timeout(std::time::Duration::from_secs(120), both).await.expect("both uploads are answered");
        assert_eq!((a_done.status, b_done.status), (204, 204), "round {round}");
    }
    for (case, operator, data, other) in
        [(CASE, "alice (Force A)", &a_data, &b_data), (OTHER, "bob (Force B)", &b_data, &a_data)]
    {
        let events = server.events(case).await;
        let acquired: Vec<_> = events.iter().filter(|e| e.action == Action::Acquired).collect();
        assert_eq!(acquired.len(), 3, "{case}: one original per round");
        for e in &acquired {
            assert_eq!(e.actor.operator, operator, "{case}");
            let sha = e.artefact.as_ref().unwrap().sha256.to_hex();
            assert_eq!(sha, sha256_hex(data), "{case} holds its own bytes");
            assert_ne!(sha, sha256_hex(other));
        }
        assert!(events.iter().all(|e| e.actor.operator == operator), "{case}: no event by the other force's user");
    }
}

/// An upload not whole yet is `receiving`, with the bytes kept so far, to
/// its organisation; another force gets the same 404 as for no upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_upload_is_receiving_with_its_offset() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let data = b"half an exhibit\n".repeat(100);
    let location = all_but_the_last_byte(&server, &token, CASE, "half.txt", &data).await;
    let id = location.rsplit('/').next().unwrap();
    let path = format!("/v1/cases/{}/uploads/{id}", seg(CASE));
    let shown = get(&server, &path, &token).await;
    assert_eq!(shown.status, 200, "{shown:?}");
    let shown = shown.json();
    assert_eq!((shown["state"].as_str(), shown["filename"].as_str()), (Some("receiving"), Some("half.txt")));
    assert_eq!((shown["size"].as_u64(), shown["received"].as_u64()), (Some(1600), Some(1599)));
    assert_eq!((shown["sha256"].is_null(), shown["operator"].as_str()), (true, Some("alice (Force A)")));
    let bob = server.token("Force B", "bob", Role::Admin).await;
    assert_eq!(get(&server, &path, &bob).await.status, 404);
    let unknown = format!("/v1/cases/{}/uploads/{}", seg(CASE), "0".repeat(32));
    assert_eq!(get(&server, &unknown, &token).await.status, 404);
}
