//! Each organisation names its cases in a namespace of its own: creating a
//! name another organisation (or a CLI ingest) already holds succeeds like
//! any other create, and the new case is a case of its own, stored under
//! another ID that no client ever sees.

use exhibit_app::access::Role;
use serde_json::json;

use crate::common::{Server, get, post_json, seg};
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

fn artefact_ids(reply: &crate::common::Reply) -> Vec<String> {
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
    assert_eq!(server.ledger_len(CLI_CASE).await, server.events(CLI_CASE).await.len());
    assert!(server.events(CLI_CASE).await.iter().all(|e| !e.actor.operator.contains("bob")), "the CLI case untouched");
    assert!(server.events(NAME).await.iter().all(|e| !e.actor.operator.contains("bob")), "Alice's ledger untouched");

    // Bob reaches none of Alice's artefacts through his case of that name.
    for id in &a_before {
        let path = format!("/v1/cases/{}/artefacts/{id}/content", seg(NAME));
        assert_eq!(get(&server, &path, &bob).await.status, 404);
    }
    let a_case = get(&server, &format!("/v1/cases/{}", seg(NAME)), &alice).await.json();
    assert_eq!((a_case["owner"].as_str(), a_case["artefacts"].as_u64()), (Some("Force A"), Some(3)));
}
