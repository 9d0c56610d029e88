//! `exhibit admin` and `exhibit serve` as an operator runs them: organisations
//! and tokens bootstrapped from the command line (the token alone on
//! stdout), a case ingested with the CLI given to an organisation, the
//! server started on a free port, reached with curl, a revoked token
//! refused, and SIGTERM stopping it with exit 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::{Sandbox, stderr};

const CASE: &str = "2024/00123/POL";

pub struct Running {
    pub child: Child,
    pub base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `exhibit serve` on a free port and reads its address from stderr.
pub fn serve(sb: &Sandbox) -> Running {
    serve_with(sb, &[], &[])
}

/// As [`serve`], with more arguments and environment variables.
pub fn serve_with(sb: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = sb
        .exhibit()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exhibit serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve exited before listening").unwrap();
        if let Some(addr) = line.strip_prefix("exhibit serve: listening on ") {
            break addr.trim().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Running { child, base }
}

/// `curl` with the token; returns (status, body).
pub fn curl(token: &str, url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-H", &format!("Authorization: Bearer {token}"), url])
        .output()
        .expect("run curl");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn admin_bootstraps_tokens_and_serve_answers_with_them() {
    let sb = Sandbox::new();
    let sources = sb.sources();
    for case in [CASE, "CLI-2"] {
        let out = sb.ingest(case, &sources);
        assert!(out.status.success(), "ingest: {}", stderr(&out));
    }
    for args in [&["admin", "org", "add", "Force A"][..], &["admin", "org", "add", "Force B"][..]] {
        let out = sb.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let dup = sb.run(&["admin", "org", "add", "force a"]);
    assert_eq!(dup.status.code(), Some(2), "a taken name: {}", stderr(&dup));
    let out = sb.run(&["admin", "case", "add", "--org", "Force A", CASE]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A case's name is its owner's: one ID, one owner; one name per owner.
    let out = sb.run(&["admin", "case", "add", "--org", "Force B", CASE]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already belongs to Force A"), "the owner is named: {}", stderr(&out));
    // A case the store does not hold (a typo) is not given to anyone.
    let out = sb.run(&["admin", "case", "add", "--org", "Force B", "no/such/typo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no case no/such/typo is in the store"), "{}", stderr(&out));
    let out = sb.run(&["admin", "case", "add", "--org", "Force A", "--name", "2024/00123/pol", "CLI-2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("already has a case named 2024/00123/pol; give this one another name with --name"));
    let out = sb.run(&["admin", "case", "add", "--org", "Force B", "--name", CASE, "CLI-2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = String::from_utf8(sb.run(&["admin", "case", "list"]).stdout).unwrap();
    assert_eq!(listed, format!("case\towner\tname\n{CASE}\tForce A\t{CASE}\nCLI-2\tForce B\t{CASE}\n"));

    let token_of = |org: &str, user: &str| {
        let out = sb.run(&["admin", "token", "add", "--org", org, "--role", "reviewer", "--user", user]);
        assert!(out.status.success(), "{}", stderr(&out));
        let stdout = String::from_utf8(out.stdout.clone()).unwrap();
        assert_eq!(stdout.lines().count(), 1, "the token alone on stdout: {stdout:?}");
        let id = stderr(&out).split_whitespace().nth(3).unwrap().to_owned();
        (stdout.trim().to_owned(), id)
    };
    let (alice, alice_id) = token_of("Force A", "alice");
    let (bob, _) = token_of("Force B", "bob");
    assert!(alice.starts_with(&format!("exh_{alice_id}_")), "{alice} {alice_id}");
    let bad = sb.run(&["admin", "token", "add", "--org", "Force A", "--role", "chief"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = sb.run(&["admin", "token", "add", "--org", "Nobody", "--role", "admin"]);
    assert_eq!(bad.status.code(), Some(2));
    let store_files = std::fs::read_dir(sb.data().join(".exhibit")).unwrap().count();
    assert!(store_files >= 1, "the access state is beside the store");

    let server = serve(&sb);
    let (status, body) = curl(&alice, &format!("{}/v1/cases", server.base));
    assert_eq!(status, 200, "{body}");
    let cases: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(cases["cases"][0]["case"], CASE);
    let (status, body) = curl(&alice, &format!("{}/v1/cases/2024%2F00123%2FPOL/artefacts", server.base));
    assert_eq!(status, 200, "{body}");
    let (status, body) = curl(&bob, &format!("{}/v1/cases/2024%2F00123%2FPOL", server.base));
    assert_eq!(status, 200, "Force B's own case of that name: {body}");
    assert!(!body.contains("CLI-2") && body.contains("\"owner\":\"Force B\""), "{body}");
    let (status, _) = curl(&bob, &format!("{}/v1/cases/2024%2F00123%2FPOL?owner=Force%20A", server.base));
    assert_eq!(status, 404, "another force's case");

    let out = sb.run(&["admin", "token", "revoke", &alice_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (status, body) = curl(&alice, &format!("{}/v1/cases", server.base));
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("token_revoked"), "{body}");
    let out = sb.run(&["admin", "token", "revoke", "000000000000"]);
    assert_eq!(out.status.code(), Some(2), "an unknown token: {}", stderr(&out));
    // The list names every token by ID, with its state, and no secret.
    let out = sb.run(&["admin", "token", "list"]);
    let listed = String::from_utf8(out.stdout).unwrap();
    let alice_line = listed.lines().find(|l| l.starts_with(&alice_id)).unwrap_or_else(|| panic!("{listed}"));
    assert!(alice_line.contains("\tForce A\talice\treviewer\trevoked "), "{alice_line}");
    assert!(listed.lines().any(|l| l.contains("\tForce B\tbob\treviewer\tactive\tnever")), "{listed}");
    assert!(!listed.contains(&alice) && !listed.contains(&bob), "no secret listed: {listed}");
    let only_b = String::from_utf8(sb.run(&["admin", "token", "list", "--org", "Force B"]).stdout).unwrap();
    assert_eq!(only_b.lines().count(), 2, "{only_b}");

    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_eq!(server.child.wait().unwrap().code(), Some(0), "SIGTERM stops it cleanly");
}

/// `[serve]` sets the connection limits `exhibit serve` runs with: a cap
/// of 2 connections per client address closes the third at once, and the
/// two held are served. A 0 or absurd value is a configuration error that
/// names the key, exit 2, before anything listens.
#[test]
fn serve_limits_come_from_the_serve_section_and_bad_ones_are_exit_2() {
    use std::io::{Read as _, Write as _};
    let sb = Sandbox::new();
    for (key, value) in [
        ("HEADER_TIMEOUT_SECS", "0"),
        ("BODY_TIMEOUT_SECS", "0"),
        ("WRITE_STALL_SECS", "0"),
        ("WRITE_STALL_SECS", "86401"),
        ("MAX_CONNECTIONS_PER_CLIENT", "0"),
        ("MAX_CONNECTIONS_PER_CLIENT", "65537"),
    ] {
        let out = sb
            .exhibit()
            .env(format!("EXHIBIT__SERVE__{key}"), value)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{key}={value}: {text}");
        assert!(text.contains(&format!("[serve] {} is {value}", key.to_lowercase())), "{text}");
    }
    let running = serve_with(&sb, &[], &[("EXHIBIT__SERVE__MAX_CONNECTIONS_PER_CLIENT", "2")]);
    let addr = running.base.trim_start_matches("http://").to_owned();
    let held: Vec<_> = (0..2).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    let mut over = std::net::TcpStream::connect(&addr).unwrap();
    over.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut rest = Vec::new();
    let closed = over.read_to_end(&mut rest);
    assert!(closed.is_ok() && rest.is_empty(), "a third connection under a cap of 2: {closed:?}");
    for mut stream in held {
        stream.write_all(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        // Served: every route wants a token, so the answer is 401, not a close.
        assert!(answer.starts_with(b"HTTP/1.1 401"), "{}", String::from_utf8_lossy(&answer[..answer.len().min(200)]));
    }
}
