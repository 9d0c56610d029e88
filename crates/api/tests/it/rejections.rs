//! Every refusal is the API's JSON error with a stable kind: a body over a
//! limit on any endpoint (a manifest, a case, a share, a PUT, a tus
//! PATCH), a wrong content type, a path segment that does not decode, a
//! method a route does not take, an unknown route.

use serde_json::json;

use crate::common::{Reply, Server, request, seg};
use crate::uploads::{CASE, force_case, metadata, tus_create, tus_patch};

fn json_error(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status, status, "{reply:?}");
    assert_eq!(reply.header("content-type"), Some("application/json"), "{reply:?}");
    let body = reply.json();
    assert_eq!(body["kind"], kind, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
}

async fn send(server: &Server, method: &str, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Reply {
    request(method, &server.url(path), Some(token), &[("Content-Type", content_type)], Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_a_limit_get_the_json_error_too_large_on_every_endpoint() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let submissions = format!("/v1/cases/{}/submissions", seg(CASE));
    let limit = usize::try_from(exhibit_app::item_manifest::MANIFEST_LIMIT).unwrap();
    let mut manifest = b"exhibit,upload,notes\nJS/1,u1,".to_vec();
    manifest.resize(limit + 1, b'a');
    json_error(&send(&server, "POST", &submissions, &token, "text/csv", manifest).await, 413, "too_large");
    let shares = format!("/v1/cases/{}/shares", seg(CASE));
    let big = serde_json::to_vec(&json!({"org": "x".repeat(200_000)})).unwrap();
    json_error(&send(&server, "POST", &shares, &token, "application/json", big.clone()).await, 413, "too_large");
    json_error(&send(&server, "POST", "/v1/cases", &token, "application/json", big).await, 413, "too_large");

    let created = tus_create(&server, &token, 4, &metadata(CASE, "JS/1", "a.txt")).await;
    assert_eq!(created.status, 201, "{created:?}");
    let location = created.header("location").unwrap().to_owned();
    json_error(&tus_patch(&server, &token, &location, 0, b"too long", None).await, 413, "too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axums_own_rejections_are_the_apis_json_error() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let shares = format!("/v1/cases/{}/shares", seg(CASE));
    json_error(
        &send(&server, "POST", &shares, &token, "application/json", b"{\"org\": ".to_vec()).await,
        400,
        "malformed_json",
    );
    json_error(
        &send(&server, "POST", &shares, &token, "text/plain", b"{}".to_vec()).await,
        415,
        "unsupported_media_type",
    );
    json_error(&request("GET", &server.url("/v1/cases/%FF%FE"), Some(&token), &[], None).await, 400, "invalid");
    let tus = [("Tus-Resumable", "1.0.0"), ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream")];
    json_error(
        &request("PATCH", &server.url("/v1/uploads/%FF"), Some(&token), &tus, Some(b"x".to_vec())).await,
        400,
        "invalid",
    );
    json_error(&request("DELETE", &server.url("/v1/cases"), Some(&token), &[], None).await, 405, "method_not_allowed");
    json_error(
        &request("PUT", &server.url("/v1/uploads/abc"), Some(&token), &[], Some(b"x".to_vec())).await,
        405,
        "method_not_allowed",
    );
    json_error(&request("GET", &server.url("/v1/uploads"), Some(&token), &[], None).await, 405, "method_not_allowed");
    json_error(&request("GET", &server.url("/v1/nothing/here"), Some(&token), &[], None).await, 404, "not_found");
}

/// tus answers an expired or revoked token with the kinds the rest of the
/// API gives them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_names_expired_and_revoked_tokens_as_the_api_does() {
    let server = Server::start().await;
    force_case(&server).await;
    let (expired, revoked) = server.spoiled_tokens("Force A", "eve").await;
    let meta = metadata(CASE, "JS/1", "a.txt");
    json_error(&tus_create(&server, &expired, 3, &meta).await, 401, "token_expired");
    json_error(&tus_create(&server, &revoked, 3, &meta).await, 401, "token_revoked");
    json_error(&tus_create(&server, "exh_unknown", 3, &meta).await, 401, "unauthenticated");
    let limited = Server::start_limited(Default::default()).await;
    force_case(&limited).await;
    let (expired, revoked) = limited.spoiled_tokens("Force A", "eve").await;
    json_error(&tus_create(&limited, &expired, 3, &meta).await, 401, "token_expired");
    json_error(&tus_create(&limited, &revoked, 3, &meta).await, 401, "token_revoked");
}
