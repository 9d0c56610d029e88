//! `exhibit submit` against `exhibit serve`: a manifest of a few files is
//! uploaded by tus and submitted, each row's result printed; killed with
//! SIGKILL while a large file is on its way (a proxy that holds the
//! traffic past a byte budget makes the moment certain), the same command
//! resumes from the offset the server holds and does not send finished
//! files again; a row of an unknown case fails alone, with exit 2.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::common::{Sandbox, bounded, stderr};
use crate::serve::{Running, curl, serve};
use crate::stall_proxy::StallProxy;

const CASE: &str = "2024/00123/POL";
const CASE_SEG: &str = "2024%2F00123%2FPOL";
const CHUNK: u64 = 1 << 20;

fn token(sb: &Sandbox, org: &str, user: &str, role: &str) -> String {
    let out = sb.run(&["admin", "token", "add", "--org", org, "--role", role, "--user", user]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A server with Force A's case and a token file of a submitter of it.
fn world(sb: &Sandbox) -> (Running, String, PathBuf) {
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let alice = token(sb, "Force A", "alice", "submitter");
    let server = serve(sb);
    let created = std::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Type: application/json"])
        .args(["-H", &format!("Authorization: Bearer {alice}"), "-d", &format!("{{\"case\":\"{CASE}\"}}")])
        .arg(format!("{}/v1/cases", server.base))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");
    let token_file = sb.data().join("alice.token");
    std::fs::write(&token_file, format!("{alice}\n")).unwrap();
    std::fs::set_permissions(&token_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (server, alice, token_file)
}

/// Bytes that differ from file to file and are not all zero.
fn content(seed: u32, len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

fn submit(sb: &Sandbox, manifest: &Path, server: &str, token_file: &Path) -> std::process::Command {
    let mut cmd = sb.exhibit();
    cmd.arg("submit").arg(manifest).args(["--server", server]).arg("--token-file").arg(token_file);
    cmd.args(["--chunk-size", &CHUNK.to_string()]);
    cmd
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The originals the server lists for the case, as (path, sha256).
fn originals(server: &Running, token: &str) -> Vec<(String, String)> {
    let (status, body) = curl(token, &format!("{}/v1/cases/{CASE_SEG}/artefacts", server.base));
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut found: Vec<(String, String)> = listed["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "original")
        .map(|a| (a["path"].as_str().unwrap().to_owned(), a["sha256"].as_str().unwrap().to_owned()))
        .collect();
    found.sort();
    found
}

#[test]
fn a_manifest_of_files_is_uploaded_submitted_and_each_row_printed() {
    let sb = Sandbox::new();
    let (server, alice, token_file) = world(&sb);
    let desk = sb.data().join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    let files = [("scan 1.tif", content(1, 300_000)), ("notes.txt", content(2, 5_000)), ("empty.bin", Vec::new())];
    for (name, data) in &files {
        std::fs::write(desk.join(name), data).unwrap();
    }
    let manifest = desk.join("items.csv");
    std::fs::write(
        &manifest,
        format!(
            "exhibit,case,path,description,pages\n\
             JS/1,{CASE},scan 1.tif,Scanned statement,1\n\
             JS/2,{CASE},notes.txt,\"Notebook, blue\",\n\
             JS/2,{CASE},empty.bin,,\n"
        ),
    )
    .unwrap();
    let out = bounded(&mut submit(&sb, &manifest, &server.base, &token_file), Duration::from_secs(120));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    for (line, exhibit) in [("line 2", "JS/1"), ("line 3", "JS/2"), ("line 4", "JS/2")] {
        let printed = text.lines().find(|l| l.starts_with(&format!("{line}:"))).unwrap_or_else(|| panic!("{text}"));
        assert!(printed.contains(&format!("exhibit {exhibit}: accepted")) && printed.ends_with("done"), "{printed}");
    }
    // Stored bit for bit, listed under the file's own name (no server path).
    let stored = originals(&server, &alice);
    for (name, data) in &files {
        let sha = exhibit_core::Sha256Digest::of(data).to_hex();
        assert!(stored.iter().any(|(p, s)| p.as_str() == *name && *s == sha), "{name}: {stored:?}");
    }
    // The ledger names the user; the rows' metadata is recorded.
    let ledger = sb.ledger(&sb.stored_segment(CASE));
    let described: Vec<_> = ledger.iter().filter(|(_, e)| e["action"] == "described").collect();
    assert_eq!(described.len(), 2, "one description per exhibit that has one");
    assert!(described.iter().all(|(_, e)| e["actor"]["operator"] == "alice (Force A)"));
    // Run again: nothing is sent anew, the rows are submitted again and
    // change nothing.
    let again = bounded(&mut submit(&sb, &manifest, &server.base, &token_file), Duration::from_secs(120));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(originals(&server, &alice).len(), stored.len(), "no file ingested twice");
}

#[test]
fn killed_mid_upload_the_same_command_resumes_from_the_servers_offset() {
    let sb = Sandbox::new();
    let (server, alice, token_file) = world(&sb);
    let desk = sb.data().join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    let small = [("a.txt", content(3, 40_000)), ("b.txt", content(4, 70_000))];
    for (name, data) in &small {
        std::fs::write(desk.join(name), data).unwrap();
    }
    let big = content(5, 12 * CHUNK as usize + 12_345);
    std::fs::write(desk.join("disk.img"), &big).unwrap();
    let manifest = desk.join("items.csv");
    std::fs::write(
        &manifest,
        format!(
            "exhibit,case,path\n\
             JS/1,{CASE},a.txt\n\
             JS/2,{CASE},b.txt\n\
             JS/3,NOSUCH1,a.txt\n\
             JS/4,{CASE},disk.img\n"
        ),
    )
    .unwrap();
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    // Past the small files and 5 chunks of the large one, nothing more
    // goes through until the proxy is released.
    let budget = 110_000 + 5 * CHUNK + CHUNK / 2;
    let proxy = StallProxy::start(port, budget);
    let via = format!("http://127.0.0.1:{}", proxy.port);

    let mut child = submit(&sb, &manifest, &via, &token_file).stdout(std::process::Stdio::null()).spawn().unwrap();
    assert!(proxy.wait_stalled(Duration::from_secs(120)), "the upload never reached the budget");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    proxy.release();

    let state_path = desk.join("items.csv.exhibit-submit.json");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    let files = state["files"].as_object().unwrap();
    let big_url = files.iter().find(|(k, _)| k.contains("disk.img")).map(|(_, v)| v.clone()).expect("disk.img begun");
    assert_eq!(big_url["complete"], false);
    assert_eq!(files.values().filter(|v| v["complete"] == true).count(), 2, "the small files were done: {state}");
    let big_url = big_url["url"].as_str().unwrap().to_owned();
    let held = head_offset(&big_url, &alice);
    assert!(held >= CHUNK && held < big.len() as u64, "the server holds part of it: {held}");
    assert_eq!(held % CHUNK, 0, "whole chunks only: a cut chunk is discarded");

    let before = proxy.forwarded();
    let out = bounded(&mut submit(&sb, &manifest, &via, &token_file), Duration::from_secs(180));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "a row failed, so not 0: {text}\n{}", stderr(&out));
    let sent = proxy.forwarded() - before;
    let rest = big.len() as u64 - held;
    assert!(sent >= rest && sent < rest + 256 * 1024, "resumed at {held}: sent {sent} for the {rest} left");

    let line =
        |n: &str| text.lines().find(|l| l.starts_with(&format!("{n}:"))).unwrap_or_else(|| panic!("{text}")).to_owned();
    assert!(line("line 2").contains("accepted") && line("line 3").contains("accepted"), "{text}");
    assert!(line("line 4").contains("failed") && line("line 4").contains("HTTP 404"), "{}", line("line 4"));
    assert!(line("line 4").contains("no such case, or not your organisation's"), "{}", line("line 4"));
    assert!(line("line 5").contains("accepted"), "{text}");
    assert!(
        line("line 5").contains(big_url.rsplit('/').next().unwrap()),
        "the same upload, resumed: {}",
        line("line 5")
    );
    let stored = originals(&server, &alice);
    assert_eq!(stored.len(), 3, "each file once: {stored:?}");
    let sha = exhibit_core::Sha256Digest::of(&big).to_hex();
    assert!(stored.iter().any(|(p, s)| p == "disk.img" && *s == sha), "bit for bit: {stored:?}");
}

fn head_offset(url: &str, token: &str) -> u64 {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-I", "-H", &format!("Authorization: Bearer {token}"), "-H", "Tus-Resumable: 1.0.0", url])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    text.lines()
        .find_map(|l| l.strip_prefix("upload-offset:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no offset: {text}"))
}

#[test]
fn bad_rows_fail_alone_and_a_token_file_others_can_read_is_refused() {
    let sb = Sandbox::new();
    let (server, alice, token_file) = world(&sb);
    let desk = sb.data().join("desk");
    std::fs::create_dir_all(desk.join("folder")).unwrap();
    std::fs::write(desk.join("folder/page1.tif"), b"page").unwrap();
    std::fs::write(desk.join("ok.txt"), b"a good file\n").unwrap();
    std::fs::write(sb.data().join("secret.txt"), b"not evidence").unwrap();
    let manifest = desk.join("items.csv");
    std::fs::write(
        &manifest,
        format!(
            "exhibit,case,path\n\
             JS/1,{CASE},ok.txt\n\
             JS/2,{CASE},folder\n\
             JS/3,{CASE},../secret.txt\n\
             ../../etc,{CASE},ok.txt\n\
             JS/5,,ok.txt\n"
        ),
    )
    .unwrap();
    let out = bounded(&mut submit(&sb, &manifest, &server.base, &token_file), Duration::from_secs(120));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{text}\n{}", stderr(&out));
    let line =
        |n: &str| text.lines().find(|l| l.starts_with(&format!("{n}:"))).unwrap_or_else(|| panic!("{text}")).to_owned();
    assert!(line("line 2").ends_with("done"), "{text}");
    assert!(line("line 3").contains("failed: path") && line("line 3").contains("not a file"), "{text}");
    assert!(line("line 4").contains("failed: path \"../secret.txt\""), "{text}");
    assert!(line("line 5").contains("failed: invalid exhibit reference \"../../etc\""), "{text}");
    assert!(line("line 6").contains("failed: no case"), "{text}");
    assert_eq!(originals(&server, &alice).len(), 1, "only the good row's file");

    // A token file others can read: refused before anything is sent.
    std::fs::set_permissions(&token_file, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = bounded(&mut submit(&sb, &manifest, &server.base, &token_file), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("can be read by others (mode 644); make it its owner's only: chmod 600"),
        "{}",
        stderr(&out)
    );

    // No server there: exit 2, saying the same command resumes.
    std::fs::set_permissions(&token_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::write(desk.join("new.txt"), b"another file\n").unwrap();
    std::fs::write(&manifest, format!("exhibit,case,path\nJS/6,{CASE},new.txt\n")).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let out = bounded(&mut submit(&sb, &manifest, &format!("http://{closed}"), &token_file), Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("run `exhibit submit"), "{}", stderr(&out));
}

#[test]
fn over_https_submit_trusts_the_ca_cert_given_and_refuses_an_unknown_issuer() {
    let sb = Sandbox::new();
    let (ca, cert, key) = ca_and_leaf(sb.dir.path());
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let alice = token(&sb, "Force A", "alice", "submitter");
    let tls = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let server = crate::serve::serve_with(&sb, &tls, &[]);
    let created = std::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca.to_str().unwrap()])
        .args(["-H", "Content-Type: application/json", "-H", &format!("Authorization: Bearer {alice}")])
        .args(["-d", &format!("{{\"case\":\"{CASE}\"}}"), &format!("{}/v1/cases", server.base)])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&created.stdout), "201");
    let token_file = sb.data().join("alice.token");
    std::fs::write(&token_file, &alice).unwrap();
    std::fs::set_permissions(&token_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let desk = sb.data().join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    std::fs::write(desk.join("a.txt"), content(6, 20_000)).unwrap();
    let manifest = desk.join("items.csv");
    std::fs::write(&manifest, "exhibit,path\nJS/1,a.txt\n").unwrap();

    let mut unknown = submit(&sb, &manifest, &server.base, &token_file);
    let out = bounded(unknown.args(["--case", CASE]), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("UnknownIssuer") && stderr(&out).contains("--ca-cert"), "{}", stderr(&out));

    let mut trusted = submit(&sb, &manifest, &server.base, &token_file);
    let out = bounded(trusted.args(["--case", CASE]).arg("--ca-cert").arg(&ca), Duration::from_secs(60));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.starts_with("line 2: exhibit JS/1: accepted:") && text.trim_end().ends_with("done"), "{text}");
}

/// A CA and a server certificate it signed for 127.0.0.1, as a force's
/// private CA issues them (rustls refuses a self-signed CA certificate
/// as the server's own); the paths of the CA's certificate, the server's
/// and its key (0600).
fn ca_and_leaf(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let path = |name: &str| dir.join(name);
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[&["req", "-x509"][..], &ec, &["-days", "1", "-subj", "/CN=Test CA", "-keyout", "ca.key", "-out", "ca.pem"]]
            .concat(),
    );
    openssl(&[&["req"][..], &ec, &["-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"]].concat());
    std::fs::write(path("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    std::fs::set_permissions(path("server.key"), std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    (path("ca.pem"), path("server.pem"), path("server.key"))
}
