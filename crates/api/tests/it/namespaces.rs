//! Each organisation names its cases in a namespace of its own: creating a
//! name another organisation (or a CLI ingest) already holds succeeds like
//! any other create, and the new case is a case of its own, stored under
//! another ID that no client ever sees.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use exhibit_app::access::Role;
use exhibit_core::Sha256Digest;
use exhibit_tus::content_digest::header_value;
use serde_json::json;

use crate::common::{Reply, Server, get, post_json, request, seg};
use crate::uploads::{metadata, tus_create, tus_patch};

const NAME: &str = "2024/00123/POL";
const CLI_CASE: &str = "CLI-2024-7";

/// Uploads `data` by tus into the uploader's case `case`.
async fn upload(server: &Server, token: &str, case: &str, filename: &str, data: &[u8]) {
    let created = tus_create(server, token, data.len(), &metadata(case, "JS/1", filename)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let location = created.header("location").unwrap().to_owned();
    let done = tus_patch(server, token, &location, 0, data, None).await;
    assert_eq!(done.status, 204, "{}", String::from_utf8_lossy(&done.body));
}

fn artefact_ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()["artefacts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_another_force_or_a_cli_ingest_holds_is_created_as_a_case_of_its_own() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Submitter).await;
    let bob = server.token("Force B", "bob", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &alice, json!({"case": NAME})).await.status, 201);
    server.ingest(NAME, 3).await;
    server.ingest(CLI_CASE, 2).await;
    let alices = server.stored(NAME).await.to_string();
    let (a_len, cli_len) = (server.ledger_len(&alices).await, server.ledger_len(CLI_CASE).await);
    let a_before = artefact_ids(&get(&server, &format!("/v1/cases/{}/artefacts", seg(NAME)), &alice).await);
    assert_eq!(a_before.len(), 3);

    for name in [NAME, CLI_CASE] {
        let created = post_json(&server, "/v1/cases", &bob, json!({"case": name})).await;
        assert_eq!(created.status, 201, "{created:?}");
        assert_eq!(created.json(), json!({"case": name, "owner": "Force B", "access": "owner"}));
        let again = post_json(&server, "/v1/cases", &bob, json!({"case": name})).await;
        assert_eq!((again.status, again.json()), (200, created.json()), "the same case again");
        let shown = get(&server, &format!("/v1/cases/{}", seg(name)), &bob).await;
        assert_eq!(shown.status, 200, "{shown:?}");
        assert_eq!((shown.json()["case"].as_str(), shown.json()["artefacts"].as_u64()), (Some(name), Some(0)));
    }

    // Bob's upload lands in Bob's case, not Alice's nor the CLI's.
    upload(&server, &bob, NAME, "bob.txt", b"Force B's own evidence\n").await;
    upload(&server, &bob, CLI_CASE, "bob2.txt", b"more of Force B's evidence\n").await;
    let b_ids = artefact_ids(&get(&server, &format!("/v1/cases/{}/artefacts", seg(NAME)), &bob).await);
    assert_eq!(b_ids.len(), 1, "{b_ids:?}");
    let a_after = artefact_ids(&get(&server, &format!("/v1/cases/{}/artefacts", seg(NAME)), &alice).await);
    assert_eq!(a_after, a_before, "Alice's case is untouched");
    assert_eq!(
        (server.ledger_len(&alices).await, server.ledger_len(CLI_CASE).await),
        (a_len, cli_len),
        "ledgers untouched"
    );
    assert!(server.events(CLI_CASE).await.iter().all(|e| !e.actor.operator.contains("bob")), "the CLI case untouched");
    assert!(server.events(&alices).await.iter().all(|e| !e.actor.operator.contains("bob")), "Alice's ledger untouched");

    // Bob reaches none of Alice's artefacts through his case of that name.
    for id in &a_before {
        let path = format!("/v1/cases/{}/artefacts/{id}/content", seg(NAME));
        assert_eq!(get(&server, &path, &bob).await.status, 404);
    }
    let a_case = get(&server, &format!("/v1/cases/{}", seg(NAME)), &alice).await.json();
    assert_eq!((a_case["owner"].as_str(), a_case["artefacts"].as_u64()), (Some("Force A"), Some(3)));
}

/// Force B's case named [`NAME`], stored under another ID because Force
/// A's holds that one, and that storage ID.
async fn second_case_of_the_name(server: &Server, bob: &str) -> String {
    assert_eq!(post_json(server, "/v1/cases", bob, json!({"case": NAME})).await.status, 201);
    let org = server.access.org("Force B").await.unwrap().unwrap();
    let stored = server.access.visible_cases(org.id).await.unwrap().remove(0).case.to_string();
    assert_ne!(stored.to_lowercase(), NAME.to_lowercase());
    assert!(stored.starts_with(&format!("{NAME}-")), "{stored}");
    stored
}

async fn put(server: &Server, token: &str, filename: &str, body: &[u8], digest: &str) -> Reply {
    let path = format!("/v1/cases/{}/exhibits/JS%2F1/files/{filename}", seg(NAME));
    let headers = [("Content-Type", "application/octet-stream"), ("Content-Digest", digest)];
    request("PUT", &server.url(&path), Some(token), &headers, Some(body.to_vec())).await
}

/// Every answer of the main routes for Force B's case, and those the
/// defence gets once it is shared.
async fn answers_about_the_case(server: &Server, bob: &str, dave: &str) -> Vec<(String, Reply)> {
    let c = seg(NAME);
    let mut out = Vec::new();
    let created = tus_create(server, bob, 3, &metadata(NAME, "JS/1", "t.txt")).await;
    let location = created.header("location").unwrap().to_owned();
    let upload_id = location.rsplit('/').next().unwrap().to_owned();
    out.push(("tus create".into(), created));
    let bad = "sha256 ".to_owned() + &STANDARD.encode([0u8; 32]);
    out.push(("tus bad chunk".into(), tus_patch(server, bob, &location, 0, b"abc", Some(&bad)).await));
    let head = [("Tus-Resumable", "1.0.0")];
    out.push(("tus head".into(), request("HEAD", &server.url(&location), Some(bob), &head, None).await));
    out.push(("tus patch".into(), tus_patch(server, bob, &location, 0, b"abc", None).await));
    let good = header_value(&Sha256Digest::of(b"put body"));
    out.push(("put".into(), put(server, bob, "p.txt", b"put body", &good).await));
    out.push(("put refused".into(), put(server, bob, "q.txt", b"other body", &good).await));
    let rows = json!([
        {"exhibit": "JS/1", "upload": upload_id, "case": NAME},
        {"exhibit": "JS/1", "upload": "0".repeat(32)},
        {"exhibit": "JS/1", "upload": upload_id, "case": "ELSEWHERE"},
    ]);
    let submitted = post_json(server, &format!("/v1/cases/{c}/submissions"), bob, rows).await;
    let submission = submitted.json()["submission"].as_str().unwrap().to_owned();
    out.push(("submission".into(), submitted));
    let artefacts = get(server, &format!("/v1/cases/{c}/artefacts"), bob).await;
    let artefact = artefacts.json()["artefacts"][0]["id"].as_str().unwrap().to_owned();
    out.push(("artefacts".into(), artefacts));
    for path in [
        "/v1/cases".to_owned(),
        format!("/v1/cases/{c}"),
        format!("/v1/cases/{c}/status"),
        format!("/v1/cases/{c}/uploads/{upload_id}"),
        format!("/v1/cases/{c}/uploads/{}", "0".repeat(32)),
        format!("/v1/cases/{c}/submissions/{submission}"),
        format!("/v1/cases/{c}/artefacts/{artefact}/content"),
        format!("/v1/cases/{c}/artefacts/{}/content", "0".repeat(32)),
        "/openapi.json".to_owned(),
    ] {
        out.push((path.clone(), get(server, &path, bob).await));
    }
    let ranged = request(
        "GET",
        &server.url(&format!("/v1/cases/{c}/artefacts/{artefact}/content")),
        Some(bob),
        &[("Range", "bytes=0-1")],
        None,
    )
    .await;
    out.push(("range".into(), ranged));
    out.push(("create again".into(), post_json(server, "/v1/cases", bob, json!({"case": NAME})).await));
    out.push((
        "share".into(),
        post_json(server, &format!("/v1/cases/{c}/shares"), bob, json!({"org": "Defence"})).await,
    ));
    for path in ["/v1/cases".to_owned(), format!("/v1/cases/{c}"), format!("/v1/cases/{c}/artefacts")] {
        out.push((format!("defence {path}"), get(server, &path, dave).await));
    }
    out.push(("unshare".into(), crate::common::delete(server, &format!("/v1/cases/{c}/shares/Defence"), bob).await));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_or_header_carries_a_storage_id_that_differs_from_the_name() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Submitter).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let dave = server.token("Defence", "dave", Role::Reviewer).await;
    assert_eq!(post_json(&server, "/v1/cases", &alice, json!({"case": NAME})).await.status, 201);
    let stored = second_case_of_the_name(&server, &bob).await;
    let random = stored.rsplit_once('-').unwrap().1.to_lowercase();
    let answers = answers_about_the_case(&server, &bob, &dave).await;
    let statuses: Vec<(&str, u16)> = answers.iter().map(|(what, r)| (what.as_str(), r.status)).collect();
    assert!(answers.iter().all(|(_, r)| r.status < 500), "{statuses:?}");
    assert!(statuses.contains(&("put", 201)) && statuses.contains(&("submission", 207)), "{statuses:?}");
    for (what, reply) in &answers {
        let body = String::from_utf8_lossy(&reply.body).to_lowercase();
        assert!(!body.contains(&random), "{what}: the body names the storage ID {stored}: {body}");
        for (name, value) in &reply.headers {
            assert!(!value.to_lowercase().contains(&random), "{what}: header {name} names {stored}: {value}");
        }
    }
    let mentions = |what: &str| answers.iter().find(|(w, _)| w == what).map(|(_, r)| r.json()).unwrap();
    assert_eq!(mentions(&format!("/v1/cases/{}", seg(NAME)))["case"], NAME, "the name instead");
    let rows = mentions("submission")["rows"].clone();
    assert_eq!(rows[0]["result"], "accepted", "a row naming the case by its name: {rows}");
    assert!(rows[2]["reason"].as_str().unwrap().contains(&format!("this submission is for case {NAME}")), "{rows}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forces_creating_the_same_names_at_once_both_get_their_own_cases() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Submitter).await;
    let bob = server.token("Force B", "bob", Role::Submitter).await;
    for i in 0..6 {
        let name = format!("RACE/{i}");
        let (a, b) = tokio::join!(
            post_json(&server, "/v1/cases", &alice, json!({"case": name})),
            post_json(&server, "/v1/cases", &bob, json!({"case": name})),
        );
        assert_eq!((a.status, b.status), (201, 201), "{a:?} {b:?}");
        assert_eq!((a.json()["owner"].as_str(), b.json()["owner"].as_str()), (Some("Force A"), Some("Force B")));
    }
    let mut stored = std::collections::HashSet::new();
    for org in ["Force A", "Force B"] {
        let org = server.access.org(org).await.unwrap().unwrap();
        for case in server.access.visible_cases(org.id).await.unwrap() {
            assert!(stored.insert(case.case.normalised()), "one storage ID, two cases: {case:?}");
        }
    }
    assert_eq!(stored.len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_cases_of_a_name_are_told_apart_by_owner() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Admin).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let dave = server.token("Defence", "dave", Role::Reviewer).await;
    assert_eq!(post_json(&server, "/v1/cases", &alice, json!({"case": NAME})).await.status, 201);
    server.ingest(NAME, 2).await;
    second_case_of_the_name(&server, &bob).await;
    let c = seg(NAME);
    // Shared with a force that has its own case of the name: both reachable.
    let shared = post_json(&server, &format!("/v1/cases/{c}/shares"), &alice, json!({"org": "Force B"})).await;
    assert_eq!(shared.status, 201, "{shared:?}");
    let own = get(&server, &format!("/v1/cases/{c}"), &bob).await.json();
    assert_eq!((own["owner"].as_str(), own["artefacts"].as_u64()), (Some("Force B"), Some(0)));
    let theirs = get(&server, &format!("/v1/cases/{c}?owner=force%20a"), &bob).await.json();
    assert_eq!((theirs["owner"].as_str(), theirs["access"].as_str()), (Some("Force A"), Some("shared")));
    assert_eq!(theirs["artefacts"], 2);
    let write =
        post_json(&server, &format!("/v1/cases/{c}/shares?owner=Force%20A"), &bob, json!({"org": "Defence"})).await;
    assert_eq!(write.status, 404, "a shared case is not B's to share");
    let listed = get(&server, "/v1/cases", &bob).await.json();
    assert_eq!(listed["cases"].as_array().unwrap().len(), 2, "{listed}");

    // Two shared cases of one name, none of the defence's own: say which.
    for token in [&alice, &bob] {
        let reply = post_json(&server, &format!("/v1/cases/{c}/shares"), token, json!({"org": "Defence"})).await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let ambiguous = get(&server, &format!("/v1/cases/{c}/artefacts"), &dave).await;
    assert_eq!((ambiguous.status, ambiguous.kind().as_str()), (409, "ambiguous_case"), "{ambiguous:?}");
    let text = ambiguous.json()["error"].as_str().unwrap().to_owned();
    assert!(text.contains("Force A, Force B") && text.contains("?owner="), "{text}");
    let picked = get(&server, &format!("/v1/cases/{c}/artefacts?owner=Force%20A"), &dave).await;
    assert_eq!(picked.json()["artefacts"].as_array().unwrap().len(), 2);
    let unknown = get(&server, &format!("/v1/cases/{c}?owner=Nobody"), &dave).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(crate::common::delete(&server, &format!("/v1/cases/{c}/shares/Defence"), &bob).await.status, 204);
    assert_eq!(get(&server, &format!("/v1/cases/{c}"), &dave).await.json()["owner"], "Force A", "one left");
}

/// A free name is stored under a fresh ID too (attack pass on the
/// namespaces): an ID that were the name when free showed, through the
/// artefact IDs derived from it (case, exhibit, locator, content), whether
/// another organisation held the name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_name_is_stored_under_a_fresh_id_too() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &alice, json!({"case": "2024/99999/POL"})).await.status, 201);
    let org = server.access.org("Force A").await.unwrap().unwrap();
    let stored = server.access.visible_cases(org.id).await.unwrap().remove(0).case.to_string();
    assert!(stored.starts_with("2024/99999/POL-") && stored.len() == "2024/99999/POL-".len() + 16, "{stored}");
}
