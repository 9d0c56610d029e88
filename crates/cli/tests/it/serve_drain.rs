//! SIGTERM during a large bulk submission: the server stops taking rows,
//! finishes the row in flight, records the rows it did not reach as not
//! processed (each with its line and what to do), answers the client, and
//! exits within its drain time. The submission reads back the same after a
//! restart: nothing is half recorded.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::Sandbox;
use crate::serve::{curl, serve};
use crate::serve_uploads::{curl_send, token};

const CASE: &str = "2024/00123/POL";
const CASE_SEG: &str = "2024%2F00123%2FPOL";
/// Enough rows that a debug server on a loaded machine is still taking
/// them (seconds of work) when the signal arrives, milliseconds after its
/// log says the submission started.
const ROWS: usize = 100_000;

/// A manifest whose first row names a real upload and the rest unknown ones.
fn manifest(dir: &std::path::Path, upload: &str) -> std::path::PathBuf {
    let mut csv = format!("exhibit,upload,description\nJS/1,{upload},Statement\n");
    for i in 1..ROWS {
        csv.push_str(&format!("JS/1,{i:032x},\n"));
    }
    let path = dir.join("rows.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn put_one_file(base: &str, token: &str, dir: &std::path::Path) -> String {
    let file = dir.join("scan1.tif");
    std::fs::write(&file, b"a page of a statement").unwrap();
    let digest = exhibit_tus::content_digest::header_value(&exhibit_core::Sha256Digest::of(b"a page of a statement"));
    let url = format!("{base}/v1/cases/{CASE_SEG}/exhibits/JS%2F1/files/scan1.tif");
    let (status, body) = curl_send("PUT", &url, token, &[&format!("Content-Digest: {digest}")], &file);
    assert_eq!(status, 201, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["upload"].as_str().unwrap().to_owned()
}

#[test]
fn sigterm_during_a_large_submission_records_the_rest_as_not_processed_and_exits_in_bounded_time() {
    let sb = Sandbox::new();
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let alice = token(&sb, "Force A", "alice", "submitter");
    let first = serve(&sb);
    let created = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json"])
        .args(["-H", &format!("Authorization: Bearer {alice}"), "-d", &format!("{{\"case\":\"{CASE}\"}}")])
        .arg(format!("{}/v1/cases", first.base))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");
    let dir = tempfile::tempdir().unwrap();
    let upload = put_one_file(&first.base, &alice, dir.path());
    drop(first);

    // A server whose log says when the submission starts.
    let mut child = sb
        .exhibit()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("EXHIBIT__LOG__LEVEL", "info,exhibit_api=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<String>();
    let reader = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |needle: &str| loop {
        let line = lines.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no {needle:?} line"));
        if line.contains(needle) {
            break line;
        }
    };
    let base = wait_for("listening on ").rsplit(' ').next().unwrap().to_owned();
    let csv = manifest(dir.path(), &upload);
    let submissions = format!("{base}/v1/cases/{CASE_SEG}/submissions");
    let token = alice.clone();
    let client = std::thread::spawn(move || curl_send("POST", &submissions, &token, &["Content-Type: text/csv"], &csv));
    wait_for("submission started");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let (exited_tx, exited) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait());
    });
    let code = exited.recv_timeout(Duration::from_secs(60)).expect("serve exits within its drain time").unwrap();
    assert_eq!(code.code(), Some(0));

    let (status, body) = client.join().unwrap();
    let mut log = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
        log.push(line);
    }
    assert_eq!(status, 207, "the client gets every row's result: {} {log:#?}", &body[..body.len().min(500)]);
    assert!(!log.iter().any(|l| l.contains("did not finish")), "{log:#?}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let rows = answer["rows"].as_array().unwrap();
    assert_eq!(rows.len(), ROWS, "every row has a result");
    assert_eq!(rows[0]["place"].as_str(), Some("line 2"));
    // The signal may come before the first row is taken: then it is not
    // processed either, and nothing is described.
    let accepted = usize::from(rows[0]["result"].as_str() == Some("accepted"));
    let not_processed = |r: &serde_json::Value| r["reason"].as_str().is_some_and(|s| s.starts_with("not processed"));
    let last = &rows[ROWS - 1];
    assert_eq!(last["place"], format!("line {}", ROWS + 1));
    assert!(not_processed(last), "{last}");
    assert!(last["reason"].as_str().unwrap().contains("submit it again"), "{last}");
    let skipped = rows.iter().filter(|r| not_processed(r)).count();
    assert!(skipped > ROWS / 2, "the server stopped taking rows: {skipped} of {ROWS} not processed");
    let first_skipped = rows.iter().position(not_processed).unwrap();
    assert!(rows[first_skipped..].iter().all(not_processed), "no row after the stop was taken");

    // After a restart the submission reads back as answered.
    let again = serve(&sb);
    let id = answer["submission"].as_str().unwrap();
    let (status, body) = curl(&alice, &format!("{}/v1/cases/{CASE_SEG}/submissions/{id}", again.base));
    assert_eq!(status, 200, "{}", &body[..body.len().min(500)]);
    let stored: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (stored["accepted"].clone(), stored["rejected"].clone()),
        (answer["accepted"].clone(), answer["rejected"].clone())
    );
    let described = sb.ledger(&sb.stored_segment(CASE)).into_iter().filter(|(_, e)| e["action"] == "described").count();
    assert_eq!(described, accepted, "an accepted row is described once, a row not processed not at all");
}
