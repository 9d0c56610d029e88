//! One end-to-end case with the access state in PostgreSQL (a fresh schema
//! at 127.0.0.1:5432, dropped afterwards): ownership, 404 for another
//! organisation, a share, a recorded download. Skips without a server,
//! fails without one under `CI=true`.

use std::sync::Arc;

use exhibit_api::ApiOptions;
use exhibit_app::access::{AccessState, PostgresAccessState, Role};
use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::common::{Server, get, post_json, seg};

async fn server_uri() -> Option<String> {
    let candidates: Vec<String> = match std::env::var("EXHIBIT_TEST_POSTGRES") {
        Ok(uri) => vec![uri],
        Err(_) => ["postgres", "root"].iter().map(|u| format!("postgres://{u}@127.0.0.1:5432/test")).collect(),
    };
    for uri in candidates {
        if let Ok(conn) = PgConnection::connect(&uri).await {
            conn.close().await.ok();
            return Some(uri);
        }
    }
    assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "no PostgreSQL at 127.0.0.1:5432");
    eprintln!("skipped: no PostgreSQL at 127.0.0.1:5432");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keeps_organisations_apart_with_its_state_in_postgres() {
    let Some(base) = server_uri().await else { return };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let schema = format!("api_test_{}_{nanos}", std::process::id());
    let uri = format!("{base}?options[search_path]={schema}");
    // The schema does not exist yet: opening makes it and runs the migrations.
    let access: Arc<dyn AccessState> = Arc::new(PostgresAccessState::open(&uri).await.unwrap());
    let result = tokio::spawn(scenario(access)).await;
    let mut conn = PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&mut conn).await.unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn scenario(access: Arc<dyn AccessState>) {
    let server = Server::start_with(tempfile::tempdir().unwrap(), access, ApiOptions::default()).await;
    let alice = server.token("Force A", "alice", Role::Admin).await;
    let bob = server.token("Force B", "bob", Role::Submitter).await;
    let dave = server.token("Defence LLP", "dave", Role::Reviewer).await;
    let case = "2024/00999/POL";
    assert_eq!(post_json(&server, "/v1/cases", &alice, json!({"case": case})).await.status, 201);
    server.ingest(case, 2).await;
    let artefacts = get(&server, &format!("/v1/cases/{}/artefacts", seg(case)), &alice).await.json();
    let id = artefacts["artefacts"][0]["id"].as_str().unwrap().to_owned();
    let content = format!("/v1/cases/{}/artefacts/{id}/content", seg(case));
    assert_eq!(get(&server, &content, &bob).await.status, 404);
    assert_eq!(get(&server, &content, &dave).await.status, 404);
    let shared =
        post_json(&server, &format!("/v1/cases/{}/shares", seg(case)), &alice, json!({"org": "Defence LLP"})).await;
    assert_eq!(shared.status, 201);
    assert_eq!(get(&server, &content, &dave).await.status, 200);
    assert_eq!(get(&server, &content, &bob).await.status, 404);
    let accessed = server.accessed(case).await;
    assert_eq!(accessed.iter().map(|e| e.actor.operator.as_str()).collect::<Vec<_>>(), ["dave (Defence LLP)"]);
}
