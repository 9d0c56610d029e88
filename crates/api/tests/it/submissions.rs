//! Bulk submissions: a CSV or JSON manifest whose rows name uploads; each
//! row accepted (its metadata recorded as a `described` event naming the
//! user) or rejected with its line and reason, the good rows going ahead;
//! the submission read back by ID; whole-request errors for a manifest
//! that is not one, another organisation's case, the wrong media type.

use exhibit_app::access::Role;
use exhibit_core::event::Action;

use crate::common::{Reply, Server, get, request, seg, sha256_hex};
use crate::uploads::{CASE, force_case, tus_upload};

/// Sends a POST of `length` bytes from another thread (the server may stop
/// reading and close once past its limit); returns the status it answers.
async fn announce_body(server: &Server, token: &str, path: &str, length: u64) -> u16 {
    use std::io::{Read, Write};
    let (addr, head) = (
        server.base.trim_start_matches("http://").to_owned(),
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\nContent-Length: {length}\r\n\r\n"
        ),
    );
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let mut writer = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = writer.write_all(head.as_bytes());
            let chunk = vec![b'a'; 1 << 20];
            let mut left = length;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                if writer.write_all(&chunk[..n]).is_err() {
                    break;
                }
                left -= n as u64;
            }
        });
        let mut reply = [0u8; 12];
        stream.read_exact(&mut reply).unwrap();
        String::from_utf8_lossy(&reply[9..12]).parse().unwrap()
    })
    .await
    .unwrap()
}

async fn submit(server: &Server, token: &str, content_type: &str, body: &str) -> Reply {
    let path = format!("/v1/cases/{}/submissions", seg(CASE));
    request("POST", &server.url(&path), Some(token), &[("Content-Type", content_type)], Some(body.as_bytes().to_vec()))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_row_gets_its_own_result_and_the_good_rows_go_ahead() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let first = tus_upload(&server, &token, "JS/1", "a.txt", b"first file\n").await;
    let first = first.rsplit('/').next().unwrap().to_owned();
    tus_upload(&server, &token, "JS/2", "b.txt", b"second file\n").await;
    let csv = format!(
        "exhibit,upload,sha256,description,pages\n\
         JS/1,{first},,Laptop in a bag,\n\
         JS/2,,{},\"Notebook, blue\",12\n\
         JS/3,ffffffffffffffffffffffffffffffff,,unknown upload,\n\
         ../../etc,{first},,traversal,\n\
         JS/1,{first},,named twice,\n\
         JS/9,,{},wrong exhibit,\n\
         JS/4,only,three\n\
         JS/5,,nothex,bad hash,\n\
         JS/6,,,no upload,\n",
        sha256_hex(b"second file\n"),
        sha256_hex(b"first file\n"),
    );
    let reply = submit(&server, &token, "text/csv", &csv).await;
    assert_eq!(reply.status, 207, "{reply:?}");
    let body = reply.json();
    let results: Vec<(String, String)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["place"].as_str().unwrap().to_owned(), r["result"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("line 2", "accepted"),
        ("line 3", "accepted"),
        ("line 4", "rejected"),
        ("line 5", "rejected"),
        ("line 6", "rejected"),
        ("line 7", "rejected"),
        ("line 8", "rejected"),
        ("line 9", "rejected"),
        ("line 10", "rejected"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(p, r)| ((*p).into(), (*r).into())).collect();
    assert_eq!(results, expected, "{body}");
    assert_eq!((body["accepted"].as_u64(), body["rejected"].as_u64()), (Some(2), Some(7)));
    let reason = |n: usize| body["rows"][n]["reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason(2).contains("upload the file first"), "{}", reason(2));
    assert!(reason(4).contains("already named on line 2"), "{}", reason(4));
    assert!(reason(5).contains("was sent for exhibit JS/1"), "{}", reason(5));
    assert_eq!(body["rows"][0]["state"], "done");

    let described: Vec<_> = server.events(CASE).await.into_iter().filter(|e| e.action == Action::Described).collect();
    assert_eq!(described.len(), 2, "one described event per accepted row");
    assert!(described.iter().all(|e| e.actor.operator == "alice (Force A)"));

    let id = body["submission"].as_str().unwrap();
    let again = get(&server, &format!("/v1/cases/{}/submissions/{id}", seg(CASE)), &token).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["rows"], body["rows"], "read back as submitted");

    // The same manifest again changes no description (nothing new).
    assert_eq!(submit(&server, &token, "text/csv", &csv).await.status, 207);
    let described = server.events(CASE).await.into_iter().filter(|e| e.action == Action::Described).count();
    assert_eq!(described, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_manifests_take_the_same_rows() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    tus_upload(&server, &token, "JS/1", "a.txt", b"first file\n").await;
    let json = format!(
        r#"[{{"exhibit": "JS/1", "sha256": "{}", "pages": 3, "ocr": true}}, 7, {{"exhibit": "JS/2", "upload": "x", "upload": "y"}}]"#,
        sha256_hex(b"first file\n")
    );
    let body = submit(&server, &token, "application/json", &json).await.json();
    let results: Vec<&str> = body["rows"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["accepted", "rejected", "rejected"], "{body}");
    assert_eq!(body["rows"][1]["place"], "item 2");
}

/// The same bytes sent for two exhibits: each `sha256` row takes its own
/// exhibit's upload (the newest upload was taken, whatever its exhibit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sha256_row_takes_its_own_exhibits_upload_of_the_same_bytes() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    tus_upload(&server, &token, "JS/1", "a.txt", b"the same bytes\n").await;
    tus_upload(&server, &token, "JS/2", "b.txt", b"the same bytes\n").await;
    let sha = sha256_hex(b"the same bytes\n");
    let csv = format!("exhibit,sha256\nJS/1,{sha}\nJS/2,{sha}\n");
    let body = submit(&server, &token, "text/csv", &csv).await.json();
    let results: Vec<&str> = body["rows"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["accepted", "accepted"], "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_request_errors_change_nothing() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let (expired, revoked) = server.spoiled_tokens("Force A", "eve").await;
    let before = server.ledger_len(CASE).await;
    for (token, content_type, body, status) in [
        (&token, "text/csv", "exhibit,colour\nJS/1,red\n", 400),
        (&token, "text/csv", "description\nno exhibit column\n", 400),
        (&token, "text/csv", "exhibit,description\nJS/1,no source column\n", 400),
        (&token, "text/csv", "", 400),
        (&token, "text/csv", "\"exhibit,upload\nJS/1,x\n", 400),
        (&token, "application/json", "{\"not\": \"an array\"}", 400),
        (&token, "application/json", "[{", 400),
        (&token, "application/json", "[{\"exhibit\": \"JS/1\", \"upload\": \"x\", \"colour\": \"red\"}]", 400),
        (&token, "text/plain", "exhibit,upload\n", 415),
        (&bob, "text/csv", "exhibit,upload\nJS/1,x\n", 404),
        (&expired, "text/csv", "exhibit,upload\nJS/1,x\n", 401),
        (&revoked, "text/csv", "exhibit,upload\nJS/1,x\n", 401),
    ] {
        let reply = submit(&server, token, content_type, body).await;
        assert_eq!(reply.status, status, "{body:?}: {reply:?}");
        assert!(!reply.kind().is_empty());
    }
    let unknown = request(
        "POST",
        &server.url("/v1/cases/NOSUCH1/submissions"),
        Some(&token),
        &[("Content-Type", "text/csv")],
        Some(b"exhibit,upload\nJS/1,x\n".to_vec()),
    )
    .await;
    assert_eq!(unknown.status, 404);
    let path = format!("/v1/cases/{}/submissions", seg(CASE));
    let over = exhibit_app::item_manifest::MANIFEST_LIMIT + 1;
    assert_eq!(announce_body(&server, &token, &path, over).await, 413, "refused from Content-Length alone");
    assert_eq!(server.ledger_len(CASE).await, before);
    let missing = get(&server, &format!("/v1/cases/{}/submissions/{}", seg(CASE), "0".repeat(32)), &token).await;
    assert_eq!(missing.status, 404);
}

/// A row naming another case (one that does not exist, or another
/// force's) is rejected alone, in the same words either way, and records
/// nothing; the case's own rows go ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_of_another_or_unknown_case_is_rejected_alone() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    let created =
        crate::common::post_json(&server, "/v1/cases", &bob, serde_json::json!({"case": "42BB0000002"})).await;
    assert_eq!(created.status, 201);
    let first = tus_upload(&server, &token, "JS/1", "a.txt", b"first file\n").await;
    let first = first.rsplit('/').next().unwrap().to_owned();
    let csv = format!(
        "exhibit,case,upload,description\n\
         JS/1,{},{first},ours\n\
         JS/1,NOSUCH1,{first},unknown case\n\
         JS/1,42BB0000002,{first},bob's case\n",
        CASE.to_lowercase()
    );
    let body = submit(&server, &token, "text/csv", &csv).await.json();
    let results: Vec<&str> = body["rows"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["accepted", "rejected", "rejected"], "{body}");
    let reason =
        |n: usize| body["rows"][n]["reason"].as_str().unwrap().replace("NOSUCH1", "X").replace("42BB0000002", "X");
    assert_eq!(reason(1), reason(2), "nothing tells an unknown case from another force's");
    assert!(reason(1).contains("this submission is for case"), "{}", reason(1));
    let described: Vec<_> = server.events(CASE).await.into_iter().filter(|e| e.action == Action::Described).collect();
    assert_eq!(described.len(), 1, "only the case's own row");
    assert_eq!(server.ledger_len("42BB0000002").await, 0);
}

/// Rows of one manifest naming one exhibit: the first row's item metadata
/// registers it; a later row giving another description is rejected,
/// naming the first line, and changes nothing; rows repeating it or
/// leaving it empty go ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_contradicting_an_earlier_rows_item_metadata_is_rejected_naming_its_line() {
    let server = Server::start().await;
    let token = force_case(&server).await;
    let mut ids = Vec::new();
    for (name, data) in [("a.txt", "one\n"), ("b.txt", "two\n"), ("c.txt", "three\n"), ("d.txt", "four\n")] {
        let location = tus_upload(&server, &token, "JS/1", name, data.as_bytes()).await;
        ids.push(location.rsplit('/').next().unwrap().to_owned());
    }
    let csv = format!(
        "exhibit,upload,description\n\
         JS/1,{},Laptop in a bag\n\
         JS/1,{},Laptop in a bag\n\
         JS/1,{},\n\
         JS/1,{},Phone in a box\n",
        ids[0], ids[1], ids[2], ids[3]
    );
    let body = submit(&server, &token, "text/csv", &csv).await.json();
    let results: Vec<&str> = body["rows"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["accepted", "accepted", "accepted", "rejected"], "{body}");
    let reason = body["rows"][3]["reason"].as_str().unwrap();
    assert!(
        reason.contains("line 2") && reason.contains("Laptop in a bag") && reason.contains("Phone in a box"),
        "{reason}"
    );
    let described: Vec<_> = server.events(CASE).await.into_iter().filter(|e| e.action == Action::Described).collect();
    assert_eq!(described.len(), 1, "one description, the first row's");
    let item = described[0].described_params().unwrap().item.unwrap();
    assert_eq!(item["description"], "Laptop in a bag");
}
