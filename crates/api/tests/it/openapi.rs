//! `/openapi.json` is an OpenAPI 3.1 document that matches the server: its
//! operations are exactly the routes served, each documented operation is
//! answered by a route (not the fallback), and schemathesis, run bounded
//! with a token, finds no server error and no response outside the schema.

use std::collections::BTreeSet;
use std::process::Command;

use exhibit_app::access::Role;
use serde_json::json;

use crate::common::{Server, get, post_json, request, seg};

/// The routes the router serves, as (method, path).
const ROUTES: [(&str, &str); 18] = [
    ("get", "/v1/cases"),
    ("post", "/v1/cases"),
    ("get", "/v1/cases/{case}"),
    ("post", "/v1/cases/{case}/shares"),
    ("delete", "/v1/cases/{case}/shares/{org}"),
    ("get", "/v1/cases/{case}/artefacts"),
    ("get", "/v1/cases/{case}/artefacts/{id}/content"),
    ("get", "/v1/cases/{case}/status"),
    ("get", "/v1/cases/{case}/uploads/{id}"),
    ("post", "/v1/cases/{case}/submissions"),
    ("get", "/v1/cases/{case}/submissions/{id}"),
    ("put", "/v1/cases/{case}/exhibits/{exhibit}/files/{filename}"),
    ("post", "/v1/uploads"),
    ("options", "/v1/uploads"),
    ("head", "/v1/uploads/{id}"),
    ("patch", "/v1/uploads/{id}"),
    ("delete", "/v1/uploads/{id}"),
    ("options", "/v1/uploads/{id}"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_exactly_the_routes_served() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Admin).await;
    let doc = get(&server, "/openapi.json", &token).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).into(), (*p).into())).collect();
    assert_eq!(documented, served);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // Every documented operation reaches a handler: a made-up case is the
    // handler's 404, never the router's "no such endpoint".
    for (method, path) in ROUTES {
        let path = path
            .replace("{case}", "NOSUCH")
            .replace("{org}", "X")
            .replace("{id}", &"0".repeat(32))
            .replace("{exhibit}", "JS1")
            .replace("{filename}", "a");
        let body = (method == "post").then(|| serde_json::to_vec(&json!({"org": "X", "case": "Y1"})).unwrap());
        let reply = request(
            &method.to_uppercase(),
            &server.url(&path),
            Some(&token),
            &[("Content-Type", "application/json")],
            body,
        )
        .await;
        if !reply.body.is_empty() {
            assert_ne!(reply.json()["error"], "no such endpoint", "{method} {path}");
        }
        assert!(reply.status != 405, "{method} {path}");
    }
}

/// Past its token's rate, every route answers 429 with `Retry-After`,
/// and the document says so for every operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_documents_the_429_every_route_can_answer() {
    let limits = exhibit_api::limits::TokenLimitConfig { requests_per_minute: 1, burst: 1, concurrent_uploads: 4 };
    let server = Server::start_limited(limits).await;
    let token = server.token("Force A", "alice", Role::Admin).await;
    let doc = get(&server, "/openapi.json", &token).await.json();
    for (method, path) in ROUTES {
        let documented = &doc["paths"][path][method]["responses"]["429"];
        assert!(documented.is_object(), "{method} {path} does not document 429");
        let concrete = path.replace("{case}", "C1").replace("{org}", "X").replace("{id}", &"0".repeat(32));
        let concrete = concrete.replace("{exhibit}", "JS1").replace("{filename}", "a");
        let reply = request(&method.to_uppercase(), &server.url(&concrete), Some(&token), &[], None).await;
        assert_eq!(reply.status, 429, "{method} {path}: {reply:?}");
        assert!(reply.header("retry-after").is_some(), "{method} {path}");
    }
}

/// schemathesis from `$EXHIBIT_PYTHON_TOOLS/bin` (scripts/setup-debian.sh).
fn schemathesis() -> Option<std::path::PathBuf> {
    let root = std::env::var_os("EXHIBIT_PYTHON_TOOLS").unwrap_or_else(|| "/opt/exhibit-python".into());
    let path = std::path::Path::new(&root).join("bin/schemathesis");
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("no {}: run bash scripts/setup-debian.sh", path.display());
    }
    eprintln!("skipped: no {} (bash scripts/setup-debian.sh installs it)", path.display());
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_response_outside_the_schema() {
    let Some(tool) = schemathesis() else { return };
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Admin).await;
    server.token("Defence LLP", "dave", Role::Reviewer).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": "42AB1234520"})).await.status, 201);
    server.ingest("42AB1234520", 2).await;
    let doc = get(&server, "/openapi.json", &token).await;
    let schema = server.dir.path().join("openapi.json");
    std::fs::write(&schema, &doc.body).unwrap();
    let artefacts = get(&server, &format!("/v1/cases/{}/artefacts", seg("42AB1234520")), &token).await;
    assert_eq!(artefacts.status, 200);
    let (base, dir) = (server.base.clone(), server.dir.path().to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(tool)
            .args(["run", schema.to_str().unwrap(), "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"])
            .args(["--max-examples", "25", "--seed", "16", "--workers", "1", "--no-color"])
            .args(["--phases", "examples,coverage,fuzzing", "--generation-database", "none"])
            .args(["--report-dir", dir.join("schemathesis-report").to_str().unwrap()])
            .env("SCHEMATHESIS_HOOKS", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis_hooks.py"))
            .current_dir(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    eprintln!("{text}");
    assert!(output.status.success(), "schemathesis found problems:\n{text}");
    assert!(text.contains("passed") || text.contains("PASSED"), "{text}");
}

/// Every path parameter of an ID the server checks carries the pattern it
/// accepts, so clients and schemathesis know them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_parameters_of_ids_carry_their_patterns() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Admin).await;
    let doc = get(&server, "/openapi.json", &token).await.json();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
                let name = p["name"].as_str().unwrap();
                if matches!(name, "org" | "filename") {
                    continue;
                }
                let pattern = p["schema"]["pattern"].as_str().unwrap_or_default();
                assert!(pattern.starts_with('^') && pattern.ends_with('$'), "{method} {path} {name}: {p}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "{checked}");
}
