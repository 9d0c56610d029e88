//! `exhibit serve` taking evidence from the real tus client: tuspy
//! (crates/tus/tests/tuspy/upload.py) uploads a file with SHA-256 chunk
//! checksums; the server ingests it as the user; the artefact is listed
//! and downloads with the same SHA-256. Another force's token gets 404 on
//! create, PATCH and HEAD of the upload; a wrong checksum is 460 and shows
//! in the case's status.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Sandbox, stderr};
use crate::serve::{curl, serve};

const CASE: &str = "2024/00123/POL";
const CASE_SEG: &str = "2024%2F00123%2FPOL";

fn python() -> PathBuf {
    let tools = std::env::var_os("EXHIBIT_PYTHON_TOOLS").map_or_else(|| "/opt/exhibit-python".into(), PathBuf::from);
    tools.join("bin/python")
}

fn upload_py() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tus/tests/tuspy/upload.py")
}

/// Runs tuspy; returns (exit code, stdout).
fn tuspy(base: &str, token: &str, file: &Path, store: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(python())
        .arg(upload_py())
        .args(["--endpoint", &format!("{base}/v1/uploads"), "--token", token])
        .args(["--file".as_ref(), file.as_os_str(), "--store".as_ref(), store.as_os_str()])
        .args(["--chunk-size", &(256 << 10).to_string(), "--case", CASE, "--exhibit", "JS/1"])
        .args(["--filename", "disk 1.img"])
        .args(extra)
        .output()
        .expect("run tuspy");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn token(sb: &Sandbox, org: &str, user: &str, role: &str) -> String {
    let out = sb.run(&["admin", "token", "add", "--org", org, "--role", role, "--user", user]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `curl` with a method and headers; returns the status.
fn curl_status(method: &str, url: &str, token: &str, headers: &[&str]) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, url]);
    cmd.args(["-H", &format!("Authorization: Bearer {token}"), "-H", "Tus-Resumable: 1.0.0"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if method == "HEAD" {
        cmd.arg("-I");
    }
    String::from_utf8(cmd.output().unwrap().stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn tuspy_uploads_through_exhibit_serve_and_the_file_is_ingested_listed_and_downloadable() {
    let sb = Sandbox::new();
    for org in ["Force A", "Force B"] {
        assert!(sb.run(&["admin", "org", "add", org]).status.success());
    }
    let alice = token(&sb, "Force A", "alice", "submitter");
    let bob = token(&sb, "Force B", "bob", "admin");
    let server = serve(&sb);
    let created = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json"])
        .args(["-H", &format!("Authorization: Bearer {alice}"), "-d", &format!("{{\"case\":\"{CASE}\"}}")])
        .arg(format!("{}/v1/cases", server.base))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("disk.img");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(&file, &data).unwrap();
    let sha256 = exhibit_core::Sha256Digest::of(&data).to_hex();

    // Another force: 404 at creation, as for a case that does not exist.
    let (code, out) = tuspy(&server.base, &bob, &file, &dir.path().join("bob.json"), &[]);
    assert_ne!(code, 0, "bob may not upload: {out}");
    let (code, out) = tuspy(&server.base, &alice, &file, &dir.path().join("alice.json"), &[]);
    assert_eq!(code, 0, "tuspy: {out}");
    assert!(out.contains("done"), "{out}");
    let url = out.lines().find_map(|l| l.strip_prefix("url ")).unwrap().to_owned();
    assert_eq!(curl_status("HEAD", &url, &bob, &[]), 404, "another force's HEAD");
    let patch = ["Upload-Offset: 0", "Content-Type: application/offset+octet-stream"];
    assert_eq!(curl_status("PATCH", &url, &bob, &patch), 404, "another force's PATCH");
    assert_eq!(curl_status("HEAD", &url, &alice, &[]), 200);

    let (status, body) = curl(&alice, &format!("{}/v1/cases/{CASE_SEG}/artefacts", server.base));
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let original = listed["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "original")
        .unwrap_or_else(|| panic!("no original: {body}"))
        .clone();
    assert_eq!(original["sha256"], sha256);
    let id = original["id"].as_str().unwrap();
    let downloaded = dir.path().join("downloaded");
    let out = Command::new("curl")
        .args(["-sS", "-o", downloaded.to_str().unwrap(), "-H", &format!("Authorization: Bearer {alice}")])
        .arg(format!("{}/v1/cases/{CASE_SEG}/artefacts/{id}/content", server.base))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(exhibit_core::Sha256Digest::of(&std::fs::read(&downloaded).unwrap()).to_hex(), sha256);

    // A wrong checksum: refused (460) and in the case's status.
    let (code, out) = tuspy(&server.base, &alice, &file, &dir.path().join("wrong.json"), &["--wrong-checksum"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("failed 460"), "{out}");
    let (status, body) = curl(&alice, &format!("{}/v1/cases/{CASE_SEG}/status", server.base));
    assert_eq!(status, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["uploads"]["done"], 1, "{status}");
    assert_eq!(status["refusals"].as_array().unwrap().len(), 1, "{status}");
    assert!(status["refusals"][0]["reason"].as_str().unwrap().contains("Upload-Checksum"), "{status}");

    // The ledger names the user beside the server's key.
    let ledger = sb.ledger(&sb.stored_segment(CASE));
    assert!(ledger.iter().any(|(_, e)| e["actor"]["operator"] == "alice (Force A)"), "the user is the actor");
}

/// curl with `-T` (PUT) or `--data-binary` (POST); returns (status, body).
pub fn curl_send(method: &str, url: &str, token: &str, headers: &[&str], file: &Path) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-H", &format!("Authorization: Bearer {token}")]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    match method {
        "PUT" => cmd.arg("-T").arg(file),
        _ => cmd.arg("--data-binary").arg(format!("@{}", file.display())),
    };
    let out = cmd.arg(url).output().expect("run curl");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn curl_puts_a_file_with_its_digest_and_submits_a_csv_naming_it() {
    let sb = Sandbox::new();
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let alice = token(&sb, "Force A", "alice", "submitter");
    let server = serve(&sb);
    let created = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json"])
        .args(["-H", &format!("Authorization: Bearer {alice}"), "-d", &format!("{{\"case\":\"{CASE}\"}}")])
        .arg(format!("{}/v1/cases", server.base))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");
    let dir = tempfile::tempdir().unwrap();
    let scan = dir.path().join("scan1.tif");
    let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(40_503) >> 8) as u8).collect();
    std::fs::write(&scan, &data).unwrap();
    let digest = exhibit_tus::content_digest::header_value(&exhibit_core::Sha256Digest::of(&data));
    let url = format!("{}/v1/cases/{CASE_SEG}/exhibits/JS%2F1/files/scan1.tif", server.base);

    let wrong = exhibit_tus::content_digest::header_value(&exhibit_core::Sha256Digest::of(b"else"));
    // Refused for another exhibit: a refusal of this one would be resolved
    // by the good PUT below once it lands in a later second.
    let other = format!("{}/v1/cases/{CASE_SEG}/exhibits/JS%2F2/files/scan1.tif", server.base);
    let (status, body) = curl_send("PUT", &other, &alice, &[&format!("Content-Digest: {wrong}")], &scan);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("digest_mismatch"), "{body}");
    let (status, body) = curl_send("PUT", &url, &alice, &[], &scan);
    assert_eq!(status, 400, "no digest: {body}");
    let (status, body) = curl_send("PUT", &url, &alice, &[&format!("Content-Digest: {digest}")], &scan);
    assert_eq!(status, 201, "{body}");
    let put: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(put["sha256"], exhibit_core::Sha256Digest::of(&data).to_hex());
    let upload = put["upload"].as_str().unwrap().to_owned();

    let csv = dir.path().join("rows.csv");
    std::fs::write(
        &csv,
        format!("exhibit,upload,description\nJS/1,{upload},Statement page 1\nJS/9,{upload},wrong exhibit\n"),
    )
    .unwrap();
    let submissions = format!("{}/v1/cases/{CASE_SEG}/submissions", server.base);
    let (status, body) = curl_send("POST", &submissions, &alice, &["Content-Type: text/csv"], &csv);
    assert_eq!(status, 207, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let results: Vec<&str> = answer["rows"].as_array().unwrap().iter().map(|r| r["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["accepted", "rejected"], "{answer}");
    assert_eq!(answer["rows"][0]["state"], "done");

    let (status, body) = curl(&alice, &format!("{}/v1/cases/{CASE_SEG}/status", server.base));
    assert_eq!(status, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["uploads"]["done"], 1, "{status}");
    assert_eq!(status["refusals"].as_array().unwrap().len(), 1, "the mismatch is recorded: {status}");
    let ledger = sb.ledger(&sb.stored_segment(CASE));
    let described: Vec<_> = ledger.iter().filter(|(_, e)| e["action"] == "described").collect();
    assert_eq!(described.len(), 1);
    assert_eq!(described[0].1["actor"]["operator"], "alice (Force A)");
}
