//! The server holds each case's ledger to what it read before: an entry
//! removed or rewritten under a running server (or found missing or
//! altered by a fresh one) is listed among the case's problems by the
//! case, its status and the dashboard, and nothing more is recorded in the
//! case (409 `corrupt`), so no sequence number is reused. A download cut
//! short is recorded as cut.

use std::path::PathBuf;
use std::time::Duration;

use exhibit_api::dashboard::ReadModelData;
use exhibit_app::access::Role;
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ledger_key;
use exhibit_dashboard::{DashboardData, Principal};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{Server, get, request, seg, sha256_hex};
use crate::uploads::{CASE, force_case, status, tus_upload};

fn entry_path(server: &Server, case: &CaseId, seq: u64) -> PathBuf {
    server.dir.path().join("store").join(ledger_key(case, seq).as_str())
}

fn texts(answer: &Value) -> Vec<String> {
    answer["problems"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap().to_owned()).collect()
}

async fn case_problems(server: &Server, token: &str) -> Vec<String> {
    let shown = get(server, &format!("/v1/cases/{}", seg(CASE)), token).await;
    assert_eq!(shown.status, 200, "{shown:?}");
    texts(&shown.json())
}

async fn first_artefact(server: &Server, token: &str) -> String {
    let listed = get(server, &format!("/v1/cases/{}/artefacts", seg(CASE)), token).await;
    listed.json()["artefacts"][0]["id"].as_str().unwrap().to_owned()
}

fn content_path(artefact: &str) -> String {
    format!("/v1/cases/{}/artefacts/{artefact}/content", seg(CASE))
}

async fn put_file(server: &Server, token: &str, body: &[u8]) -> crate::common::Reply {
    let digest = format!("sha-256=:{}:", base64_of(body));
    let path = format!("/v1/cases/{}/exhibits/JS%2F9/files/late.txt", seg(CASE));
    request("PUT", &server.url(&path), Some(token), &[("Content-Digest", digest.as_str())], Some(body.to_vec())).await
}

fn base64_of(body: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(exhibit_core::digest::Sha256Digest::of(body).as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_newest_entry_under_a_running_server_is_listed_and_no_number_is_reused() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    server.ingest(CASE, 1).await;
    let case = server.stored(CASE).await;
    let artefact = first_artefact(&server, &token).await;
    assert_eq!(get(&server, &content_path(&artefact), &token).await.status, 200);
    assert_eq!(server.accessed(CASE).await.len(), 1);
    let head = server.ledger_len(CASE).await as u64;

    // An insider erases the record of that download.
    std::fs::remove_file(entry_path(&server, &case, head)).unwrap();

    let problems = case_problems(&server, &token).await;
    let lost = format!("lost or rewrote history: entry {head}, which");
    assert!(problems.iter().any(|t| t.contains(&lost) && t.contains("is gone")), "{problems:?}");
    assert_eq!(texts(&status(&server, &token).await), problems, "one list of problems");
    assert!(problems.iter().all(|t| !t.contains(case.as_str())), "no storage ID: {problems:?}");
    let again = get(&server, &content_path(&artefact), &token).await;
    assert_eq!((again.status, again.kind()), (409, "corrupt".to_owned()), "{again:?}");
    let put = put_file(&server, &token, b"late evidence").await;
    assert_eq!((put.status, put.kind()), (409, "corrupt".to_owned()), "{put:?}");
    assert_eq!(server.ledger_len(CASE).await as u64, head - 1, "nothing was recorded over the gap");
    assert!(server.store.head(&ledger_key(&case, head)).await.is_err(), "entry {head} was not written again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_middle_entry_removed_before_the_server_read_the_case_is_listed_not_hidden() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    server.ingest(CASE, 2).await;
    server.ingest(CASE, 1).await;
    let case = server.stored(CASE).await;
    let head = server.ledger_len(CASE).await as u64;
    assert!(head >= 3, "{head} entries");
    std::fs::remove_file(entry_path(&server, &case, 2)).unwrap();

    let problems = case_problems(&server, &token).await;
    assert!(
        problems.iter().any(|t| t.contains("ledger entry 2 is missing while entry") || t.contains("entry 2: missing")),
        "{problems:?}"
    );
    let put = put_file(&server, &token, b"late evidence").await;
    assert_eq!((put.status, put.kind()), (409, "corrupt".to_owned()), "{put:?}");
    assert!(!put.json()["error"].as_str().unwrap().contains("send the file again"), "{put:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_altered_below_the_head_is_listed_by_the_case_its_status_and_the_dashboard() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    server.ingest(CASE, 2).await;
    let case = server.stored(CASE).await;
    assert!(case_problems(&server, &token).await.is_empty(), "clean before");
    let path = entry_path(&server, &case, 2);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("DC Test"), "{text}");
    std::fs::write(&path, text.replace("DC Test", "DC Best")).unwrap();

    let problems = case_problems(&server, &token).await;
    assert!(problems.iter().any(|t| t.contains("the ledger fails its check") && t.contains("entry 2")), "{problems:?}");
    assert_eq!(texts(&status(&server, &token).await), problems);
    let data = ReadModelData::new(server.state.clone());
    let alice =
        Principal { org: "Force A".into(), user: "alice".into(), role: "submitter".into(), credential: String::new() };
    let detail = data.case(&alice, &CASE.parse().unwrap(), None).await.unwrap().unwrap();
    assert!(
        detail.failures.iter().any(|f| f.stage == "ledger" && f.problem.contains("entry 2")),
        "{:?}",
        detail.failures
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_the_client_drops_is_recorded_as_cut_not_whole() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(
        crate::common::post_json(&server, "/v1/cases", &token, serde_json::json!({"case": CASE})).await.status,
        201
    );
    // Larger than the socket buffers, so most of it is still to send.
    let data: Vec<u8> = (0..48u32 << 20).map(|i| (i % 251) as u8).collect();
    tus_upload(&server, &token, "JS/1", "big.bin", &data).await;
    let listed = get(&server, &format!("/v1/cases/{}/artefacts", seg(CASE)), &token).await.json();
    let artefact = listed["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["sha256"] == sha256_hex(&data))
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .unwrap();

    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let ask = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        content_path(&artefact)
    );
    stream.write_all(ask.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 4096];
    let n = stream.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&head[..n]));
    drop(stream);

    // The server records the cut once it drops the body: wait for that
    // record (the counter of work left after responses), not for a time.
    let recorded = tokio::time::timeout(Duration::from_secs(60), server.state.after_response.finished(1)).await;
    assert!(recorded.is_ok(), "no record of the cut download within 60 s");
    let outputs: Vec<String> =
        server.accessed(CASE).await.iter().filter_map(|e| e.accessed_params().and_then(|p| p.output)).collect();
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    assert_eq!(outputs[0], "HTTP download, whole");
    assert!(outputs[1].starts_with("HTTP download of the whole artefact cut: at most"), "{outputs:?}");
    assert!(outputs[1].contains(&format!("of {} bytes", data.len())), "{outputs:?}");
}
