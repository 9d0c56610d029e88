//! Two forces and a defence firm, end to end: each force's case is its
//! own; neither can list, read, download or guess the other's (404 per
//! endpoint, the same 404 as for a case that does not exist); a case shared
//! with the defence is readable there and not writable; revoking the share
//! gives 404 again; every download is an `accessed` event naming the user.

use exhibit_app::access::Role;
use serde_json::json;

use crate::common::{Reply, Server, delete, get, post_json, request, seg, sha256_hex};

const CASE_A: &str = "2024/00123/POL";
const CASE_B: &str = "42BB0000002";

struct World {
    server: Server,
    alice: String,
    bob: String,
    dave: String,
    /// One artefact ID of each case.
    artefact_a: String,
    artefact_b: String,
    /// Each case's storage ID (API creates store under a fresh one).
    stored_a: String,
    stored_b: String,
}

async fn world() -> World {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Admin).await;
    let bob = server.token("Force B", "bob", Role::Submitter).await;
    let dave = server.token("Defence LLP", "dave", Role::Reviewer).await;
    for (token, case) in [(&alice, CASE_A), (&bob, CASE_B)] {
        let created = post_json(&server, "/v1/cases", token, json!({"case": case})).await;
        assert_eq!(created.status, 201, "{created:?}");
        server.ingest(case, 3).await;
    }
    let first = |reply: Reply| reply.json()["artefacts"][0]["id"].as_str().unwrap().to_owned();
    let artefact_a = first(get(&server, &format!("/v1/cases/{}/artefacts", seg(CASE_A)), &alice).await);
    let artefact_b = first(get(&server, &format!("/v1/cases/{}/artefacts", seg(CASE_B)), &bob).await);
    let (stored_a, stored_b) = (server.stored(CASE_A).await.to_string(), server.stored(CASE_B).await.to_string());
    World { server, alice, bob, dave, artefact_a, artefact_b, stored_a, stored_b }
}

/// Every read and write endpoint of `case`, as (method, path, JSON body).
fn endpoints(case: &str, artefact: &str) -> Vec<(&'static str, String, Option<serde_json::Value>)> {
    let c = seg(case);
    vec![
        ("GET", format!("/v1/cases/{c}"), None),
        ("GET", format!("/v1/cases/{c}/artefacts"), None),
        ("GET", format!("/v1/cases/{c}/artefacts/{artefact}/content"), None),
        ("POST", format!("/v1/cases/{c}/shares"), Some(json!({"org": "Defence LLP"}))),
        ("DELETE", format!("/v1/cases/{c}/shares/Defence%20LLP"), None),
        ("GET", format!("/v1/cases/{c}/status"), None),
        ("GET", format!("/v1/cases/{c}/uploads/{}", "0".repeat(32)), None),
        ("POST", format!("/v1/cases/{c}/submissions"), Some(json!([{"exhibit": "JS/1", "upload": "0".repeat(32)}]))),
        ("GET", format!("/v1/cases/{c}/submissions/{}", "0".repeat(32)), None),
        ("PUT", format!("/v1/cases/{c}/exhibits/JS%2F1/files/a.txt"), None),
    ]
}

async fn call(server: &Server, token: &str, (method, path, body): &(&str, String, Option<serde_json::Value>)) -> Reply {
    match body {
        Some(body) => post_json(server, path, token, body.clone()).await,
        None => request(method, &server.url(path), Some(token), &[], None).await,
    }
}

fn listed(reply: &Reply) -> Vec<String> {
    reply.json()["cases"].as_array().unwrap().iter().map(|c| c["case"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_force_sees_its_own_case_only() {
    let w = world().await;
    assert_eq!(listed(&get(&w.server, "/v1/cases", &w.alice).await), [CASE_A]);
    assert_eq!(listed(&get(&w.server, "/v1/cases", &w.bob).await), [CASE_B]);
    assert!(listed(&get(&w.server, "/v1/cases", &w.dave).await).is_empty());
    let own = get(&w.server, &format!("/v1/cases/{}", seg(CASE_A)), &w.alice).await.json();
    assert_eq!((own["owner"].as_str(), own["access"].as_str()), (Some("Force A"), Some("owner")));
    assert_eq!(own["artefacts"], 3, "{own}");
    assert!(own["head_seq"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_forces_case_is_404_on_every_endpoint_as_if_it_did_not_exist() {
    let w = world().await;
    let before = (w.server.ledger_len(&w.stored_a).await, w.server.ledger_len(&w.stored_b).await);
    // Bob against Alice's case, Alice against Bob's, and both against a
    // case no one has: the same status and the same body, so the answers
    // cannot tell a case that exists from one that does not.
    for (token, case, artefact) in [
        (&w.bob, CASE_A, &w.artefact_a),
        (&w.alice, CASE_B, &w.artefact_b),
        (&w.alice, "NO/SUCH/CASE", &w.artefact_a),
        (&w.dave, CASE_A, &w.artefact_a),
    ] {
        for endpoint in endpoints(case, artefact) {
            let reply = call(&w.server, token, &endpoint).await;
            assert_eq!(reply.status, 404, "{endpoint:?}: {reply:?}");
            assert_eq!(
                reply.json(),
                json!({"error": "not found, or not shared with your organisation", "kind": "not_found"})
            );
        }
    }
    // Guessing an artefact ID of the other case under one's own case finds nothing either.
    let guess =
        get(&w.server, &format!("/v1/cases/{}/artefacts/{}/content", seg(CASE_A), w.artefact_b), &w.alice).await;
    assert_eq!(guess.status, 404);
    // The other force's case ID names a new case of Bob's own (as any
    // new name does: nothing tells that Alice has one), and Alice's case
    // is untouched.
    let claim = post_json(&w.server, "/v1/cases", &w.bob, json!({"case": CASE_A.to_lowercase()})).await;
    assert_eq!((claim.status, claim.json()["owner"].as_str()), (201, Some("Force B")));
    assert_eq!(listed(&get(&w.server, "/v1/cases", &w.bob).await), [CASE_A.to_lowercase().as_str(), CASE_B]);
    let own = get(&w.server, &format!("/v1/cases/{}", seg(CASE_A)), &w.bob).await.json();
    assert_eq!((own["owner"].as_str(), own["artefacts"].as_u64()), (Some("Force B"), Some(0)));
    let after = (w.server.ledger_len(&w.stored_a).await, w.server.ledger_len(&w.stored_b).await);
    assert_eq!(before, after, "no refused request recorded anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_is_hashed_ranged_and_recorded_naming_the_user() {
    let w = world().await;
    let path = format!("/v1/cases/{}/artefacts/{}/content", seg(CASE_A), w.artefact_a);
    let whole = get(&w.server, &path, &w.alice).await;
    assert_eq!(whole.status, 200, "{whole:?}");
    let listed = get(&w.server, &format!("/v1/cases/{}/artefacts", seg(CASE_A)), &w.alice).await.json();
    let sha = listed["artefacts"][0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(sha256_hex(&whole.body), sha);
    let digest = base64_of_hex(&sha);
    assert_eq!(whole.header("repr-digest"), Some(format!("sha-256=:{digest}:").as_str()));
    assert_eq!(whole.header("content-digest"), Some(format!("sha-256=:{digest}:").as_str()));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let saved_as = whole.header("content-disposition").unwrap();
    assert!(saved_as.starts_with("attachment; filename=\"file0.txt\"; filename*=UTF-8''file0.txt"), "{saved_as}");
    // An If-Range that is not this content's ETag gets the whole (RFC 9110).
    let etag = whole.header("etag").unwrap().to_owned();
    let stale = [("Range", "bytes=2-5"), ("If-Range", "\"0000\"")];
    let all = request("GET", &w.server.url(&path), Some(&w.alice), &stale, None).await;
    assert_eq!((all.status, all.body.len()), (200, whole.body.len()));
    let fresh = [("Range", "bytes=2-5"), ("If-Range", etag.as_str())];
    let part = request("GET", &w.server.url(&path), Some(&w.alice), &fresh, None).await;
    assert_eq!(part.status, 206);

    let part = request("GET", &w.server.url(&path), Some(&w.alice), &[("Range", "bytes=2-5")], None).await;
    assert_eq!(part.status, 206, "{part:?}");
    assert_eq!(part.body, whole.body[2..=5]);
    let size = whole.body.len();
    assert_eq!(part.header("content-range"), Some(format!("bytes 2-5/{size}").as_str()));
    assert_eq!(part.header("repr-digest"), Some(format!("sha-256=:{digest}:").as_str()), "the whole's digest");
    let tail = request("GET", &w.server.url(&path), Some(&w.alice), &[("Range", "bytes=-3")], None).await;
    assert_eq!(tail.body, whole.body[size - 3..]);
    let past =
        request("GET", &w.server.url(&path), Some(&w.alice), &[("Range", &format!("bytes={size}-"))], None).await;
    assert_eq!((past.status, past.kind().as_str()), (416, "range_not_satisfiable"));
    assert_eq!(past.header("content-range"), Some(format!("bytes */{size}").as_str()));

    // A HEAD sends no byte: it is answered with the headers, not recorded.
    let head = request("HEAD", &w.server.url(&path), Some(&w.alice), &[], None).await;
    assert_eq!((head.status, head.body.len()), (200, 0), "{head:?}");
    assert_eq!(head.header("repr-digest"), Some(format!("sha-256=:{digest}:").as_str()));
    // The scheme's name is case-insensitive (RFC 9110).
    let scheme = format!("bEaReR {}", w.alice);
    let mixed = request("GET", &w.server.url("/v1/cases"), None, &[("Authorization", scheme.as_str())], None).await;
    assert_eq!(mixed.status, 200, "{mixed:?}");

    // A whole download is always recorded; a user's further ranges within ten minutes are
    // part of their first range's access.
    let again = request("GET", &w.server.url(&path), Some(&w.alice), &[("Range", "bytes=0-1")], None).await;
    assert_eq!(again.status, 206);
    let accessed = w.server.accessed(&w.stored_a).await;
    assert_eq!(
        accessed.len(),
        3,
        "two wholes, and one for the ranges; the refused range and the HEAD are not accesses"
    );
    for event in &accessed {
        assert_eq!(event.actor.operator, "alice (Force A)");
        assert_eq!(
            event.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.to_string()),
            Some(w.artefact_a.clone())
        );
    }
    let outputs: Vec<_> = accessed.iter().map(|e| e.params["output"].as_str().unwrap().to_owned()).collect();
    assert_eq!(outputs[0], "HTTP download, whole");
    assert_eq!(outputs[1], "HTTP download, whole");
    assert!(outputs[2].starts_with("HTTP download, bytes 2-5; this user's further ranges"), "{}", outputs[2]);
    let whole_again = get(&w.server, &path, &w.alice).await;
    assert_eq!(whole_again.status, 200);
    assert_eq!(w.server.accessed(&w.stored_a).await.len(), 4, "every whole download is recorded");
    // The server's key signed them, and the chain still verifies.
    let case = w.server.stored(&w.stored_a).await;
    let checked = exhibit_custody::check_ledger(w.server.store.as_ref(), &case, None).await.unwrap();
    assert!(checked.problems.is_empty(), "{:?}", checked.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_case_is_readable_not_writable_and_unsharing_gives_404_again() {
    let w = world().await;
    let case = seg(CASE_A);
    // Only an admin of the owner shares; Bob's submitter role is not enough for his own case.
    let refused =
        post_json(&w.server, &format!("/v1/cases/{}/shares", seg(CASE_B)), &w.bob, json!({"org": "Defence LLP"})).await;
    assert_eq!((refused.status, refused.kind().as_str()), (403, "forbidden"));
    let unknown = post_json(&w.server, &format!("/v1/cases/{case}/shares"), &w.alice, json!({"org": "Nobody"})).await;
    assert_eq!((unknown.status, unknown.kind().as_str()), (422, "unknown_org"));
    let shared =
        post_json(&w.server, &format!("/v1/cases/{case}/shares"), &w.alice, json!({"org": "defence llp"})).await;
    assert_eq!(shared.status, 201, "{shared:?}");
    assert_eq!(shared.json(), json!({"case": CASE_A, "org": "Defence LLP"}));

    let seen = get(&w.server, "/v1/cases", &w.dave).await.json();
    assert_eq!(seen["cases"], json!([{"case": CASE_A, "owner": "Force A", "access": "shared"}]));
    assert_eq!(get(&w.server, &format!("/v1/cases/{case}"), &w.dave).await.json()["access"], "shared");
    assert_eq!(get(&w.server, &format!("/v1/cases/{case}/artefacts"), &w.dave).await.status, 200);
    let download = get(&w.server, &format!("/v1/cases/{case}/artefacts/{}/content", w.artefact_a), &w.dave).await;
    assert_eq!(download.status, 200);
    let accessed = w.server.accessed(&w.stored_a).await;
    assert_eq!(accessed.last().unwrap().actor.operator, "dave (Defence LLP)");

    assert_eq!(get(&w.server, &format!("/v1/cases/{case}/status"), &w.dave).await.status, 200);
    // Read only: every write is 404, as for a case the firm cannot see.
    let submission = json!([{"exhibit": "JS/1", "upload": "0".repeat(32)}]);
    let submitted = post_json(&w.server, &format!("/v1/cases/{case}/submissions"), &w.dave, submission).await;
    assert_eq!(submitted.status, 404, "{submitted:?}");
    let put = request(
        "PUT",
        &w.server.url(&format!("/v1/cases/{case}/exhibits/JS%2F1/files/a.txt")),
        Some(&w.dave),
        &[],
        None,
    )
    .await;
    assert_eq!(put.status, 404, "{put:?}");
    let reshare = post_json(&w.server, &format!("/v1/cases/{case}/shares"), &w.dave, json!({"org": "Force B"})).await;
    assert_eq!(reshare.status, 404);
    assert_eq!(delete(&w.server, &format!("/v1/cases/{case}/shares/Defence%20LLP"), &w.dave).await.status, 404);
    assert!(listed(&get(&w.server, "/v1/cases", &w.bob).await).iter().all(|c| c != CASE_A));

    assert_eq!(delete(&w.server, &format!("/v1/cases/{case}/shares/Defence%20LLP"), &w.alice).await.status, 204);
    assert!(listed(&get(&w.server, "/v1/cases", &w.dave).await).is_empty());
    for endpoint in endpoints(CASE_A, &w.artefact_a) {
        assert_eq!(call(&w.server, &w.dave, &endpoint).await.status, 404, "{endpoint:?} after unsharing");
    }
    assert_eq!(w.server.accessed(&w.stored_a).await.len(), 1, "only the download while shared");
}

fn base64_of_hex(hex_text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_text).unwrap())
}
