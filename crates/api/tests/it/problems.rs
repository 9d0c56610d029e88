//! A case's problems are one list: `GET /v1/cases/{case}` and its
//! `/status` both name every failed job still open (a failure whose job
//! later completed is resolved and not listed), worded with the case's
//! name. The status counts tus uploads still `receiving`.

use std::sync::Arc;

use exhibit_app::readmodel::conformance::event;
use exhibit_core::event::{Action, Actor, CustodyEvent, Outcome};
use exhibit_custody::{Ledger, Signer};
use serde_json::{Value, json};

use crate::common::{Server, get, seg};
use crate::uploads::{CASE, force_case, metadata, status, tus_create, tus_patch};

/// A job event of the server's key on the case's ledger.
fn job_event(server_key: &str, case: &exhibit_core::ids::CaseId, action: Action, job: &str, ok: bool) -> CustodyEvent {
    let outcome = if ok { Outcome::Ok } else { Outcome::Failed { reason: format!("job {job} could not read it") } };
    let mut e = event(case, Some("JS/1"), action, outcome);
    e.at = time::OffsetDateTime::now_utc();
    e.actor = Actor { operator: "DC Test".into(), host: "test".into(), process: 1, public_key: server_key.into() };
    e.params.insert("job_id".into(), json!(job));
    if !ok {
        e.params.insert("stage".into(), json!("ocr"));
    }
    e
}

fn texts(answer: &Value) -> Vec<String> {
    answer["problems"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_case_and_its_status_list_the_same_open_failures_and_not_resolved_ones() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    server.ingest(CASE, 1).await;
    let case = server.stored(CASE).await;
    let signer = Arc::new(Signer::load_or_create(&server.key).unwrap());
    let key = signer.public_key_openssh();
    let ledger = Ledger::open(server.store.clone(), case.clone(), signer).await.unwrap();
    for e in [
        job_event(&key, &case, Action::Failed, "job-open", false),
        job_event(&key, &case, Action::Failed, "job-redone", false),
        job_event(&key, &case, Action::Identified, "job-redone", true),
    ] {
        ledger.append(e).await.unwrap();
    }
    let shown = get(&server, &format!("/v1/cases/{}", seg(CASE)), &token).await;
    assert_eq!(shown.status, 200, "{shown:?}");
    let (shown, status) = (texts(&shown.json()), texts(&status(&server, &token).await));
    assert_eq!(shown, status, "one list of problems");
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].starts_with("ocr of exhibit JS/1 failed: job job-open"), "{shown:?}");
    assert!(shown.iter().all(|t| !t.contains(case.as_str())), "no storage ID: {shown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_counts_tus_uploads_still_receiving() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    assert_eq!(status(&server, &token).await["uploads"]["receiving"], 0);
    let created = tus_create(&server, &token, 10, &metadata(CASE, "JS/1", "half.txt")).await;
    assert_eq!(created.status, 201, "{created:?}");
    let location = created.header("location").unwrap().to_owned();
    assert_eq!(tus_patch(&server, &token, &location, 0, b"12345", None).await.status, 204);
    let other = tus_create(&server, &token, 4, &metadata(CASE, "JS/2", "whole.txt")).await;
    let other = other.header("location").unwrap().to_owned();
    assert_eq!(tus_patch(&server, &token, &other, 0, b"abcd", None).await.status, 204);
    let answer = status(&server, &token).await;
    assert_eq!(answer["uploads"]["receiving"], 1, "{answer}");
    // Times are one shape everywhere: whole seconds, UTC, `Z`.
    let id = location.rsplit('/').next().unwrap();
    let shown = get(&server, &format!("/v1/cases/{}/uploads/{id}", seg(CASE)), &token).await.json();
    assert_eq!(shown["state"], "receiving", "{shown}");
    let whole = other.rsplit('/').next().unwrap();
    let done = get(&server, &format!("/v1/cases/{}/uploads/{whole}", seg(CASE)), &token).await.json();
    for at in [&shown["updated_at"], &done["updated_at"]] {
        let at = at.as_str().unwrap();
        assert!(at.len() == 20 && at.ends_with('Z') && !at.contains('.'), "{at}");
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).unwrap();
    }
}
