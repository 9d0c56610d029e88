//! `exhibit serve` over TLS with a certificate made by `openssl req -x509`
//! at test time, spoken to by curl with --cacert: the API answers, plain
//! HTTP and an unverified client are refused, the dashboard's cookie is
//! `__Secure-` and Secure, and a key others can read is refused at start.
//! Then the per-token request rate, as a hostile client meets it.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Sandbox, stderr};
use crate::serve::serve_with;

/// A self-signed certificate for 127.0.0.1 and localhost, and its key (0600).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cert, key)
}

/// curl's exit code, HTTP status, headers and body.
fn curl(args: &[&str]) -> (i32, u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-D", "-", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text.get(text.len().saturating_sub(3)..).and_then(|s| s.parse().ok()).unwrap_or(0);
    (out.status.code().unwrap_or(-1), status, text)
}

fn token(sb: &Sandbox, org: &str, user: &str) -> String {
    let out = sb.run(&["admin", "token", "add", "--org", org, "--role", "reviewer", "--user", user]);
    assert!(out.status.success(), "{}", stderr(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn serve_speaks_tls_from_the_configured_files_and_the_cookie_is_secure() {
    let sb = Sandbox::new();
    let (cert, key) = certificate(sb.dir.path());
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let alice = token(&sb, "Force A", "alice");
    let (cert_s, key_s) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = serve_with(&sb, &["--tls-cert", cert_s, "--tls-key", key_s], &[]);
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let auth = format!("Authorization: Bearer {alice}");
    let (code, status, text) = curl(&["--cacert", cert_s, "-H", &auth, &format!("{base}/v1/cases")]);
    assert_eq!((code, status), (0, 200), "{text}");
    assert!(text.to_lowercase().contains("strict-transport-security: max-age=31536000"), "HSTS under TLS: {text}");
    let (code, _, _) = curl(&["-H", &auth, &format!("{base}/v1/cases")]);
    assert_eq!(code, 60, "a client that cannot verify the certificate stops");
    let plain = base.replace("https://", "http://");
    let (_, status, _) = curl(&["--max-time", "5", &format!("{plain}/v1/cases")]);
    assert_ne!(status, 200, "plain HTTP gets no answer");
    let (code, status, text) = curl(&["--cacert", cert_s, &format!("{base}/dashboard/login")]);
    assert_eq!((code, status), (0, 200), "{text}");
    assert!(text.to_lowercase().contains("strict-transport-security:"), "on the dashboard too: {text}");
    let cookie = text.lines().find(|l| l.to_lowercase().starts_with("set-cookie:")).expect("a session cookie");
    assert!(cookie.contains("__Secure-exhibit_session=") && cookie.contains("Secure"), "{cookie}");
    let (_, status, text) = curl(&["--cacert", cert_s, &format!("{base}/dashboard/")]);
    assert_eq!(status, 308, "the base with a slash goes to the dashboard, not the API's 404: {text}");
    // Still served after the bad clients.
    let (code, status, _) = curl(&["--cacert", cert_s, "-H", &auth, &format!("{base}/v1/cases")]);
    assert_eq!((code, status), (0, 200));
}

#[test]
fn a_tls_key_others_can_read_or_half_a_pair_is_refused_at_start() {
    let sb = Sandbox::new();
    let (cert, key) = certificate(sb.dir.path());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (cert_s, key_s) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let out = sb.run(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", cert_s, "--tls-key", key_s]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    let out = sb.run(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", cert_s]);
    assert_eq!(out.status.code(), Some(2), "--tls-cert needs --tls-key: {}", stderr(&out));
    let out =
        sb.exhibit().args(["serve", "--listen", "127.0.0.1:0"]).env("EXHIBIT__API__TLS_CERT", cert_s).output().unwrap();
    assert!(!out.status.success() && stderr(&out).contains("tls_key"), "{}", stderr(&out));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&cert, "not a certificate").unwrap();
    let out = sb.run(&["serve", "--listen", "127.0.0.1:0", "--tls-cert", cert_s, "--tls-key", key_s]);
    assert!(!out.status.success() && stderr(&out).contains("no certificate"), "{}", stderr(&out));
}

#[test]
fn a_token_past_its_request_rate_gets_429_with_retry_after_and_others_do_not() {
    let sb = Sandbox::new();
    assert!(sb.run(&["admin", "org", "add", "Force A"]).status.success());
    let alice = token(&sb, "Force A", "alice");
    let bob = token(&sb, "Force A", "bob");
    let env = [("EXHIBIT__API__TOKEN_BURST", "3"), ("EXHIBIT__API__TOKEN_REQUESTS_PER_MINUTE", "1")];
    let server = serve_with(&sb, &[], &env);
    let url = format!("{}/v1/cases", server.base);
    // A forger with alice's token ID and a made-up secret spends nothing of hers.
    let id = alice.split('_').nth(1).unwrap();
    for _ in 0..10 {
        let forged = format!("Authorization: Bearer exh_{id}_{}", "A".repeat(43));
        assert_eq!(curl(&["-H", &forged, &url]).1, 401);
    }
    let as_alice = format!("Authorization: Bearer {alice}");
    for _ in 0..3 {
        assert_eq!(curl(&["-H", &as_alice, &url]).1, 200);
    }
    let (_, status, text) = curl(&["-H", &as_alice, &url]);
    assert_eq!(status, 429, "{text}");
    let retry = text.lines().find_map(|l| l.to_lowercase().strip_prefix("retry-after:").map(|v| v.trim().to_owned()));
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(curl(&["-H", &format!("Authorization: Bearer {bob}"), &url]).1, 200, "bob has his own allowance");
}
