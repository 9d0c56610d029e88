//! `serve_app` over TLS with a certificate `openssl req -x509` makes at
//! test time, reached by curl with --cacert: handlers see the client's
//! address (the sign-in throttle keys by it), and a client that opens a
//! connection and never starts its handshake holds up nobody.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;

fn certificate(dir: &std::path::Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    (cert.to_str().unwrap().to_owned(), key.to_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn handlers_see_the_client_address_over_tls_and_a_stalled_handshake_blocks_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let config = exhibit_api::tls::load(cert.as_ref(), key.as_ref()).unwrap();
    let app = Router::new()
        .route("/who", get(|ConnectInfo(addr): ConnectInfo<SocketAddr>| async move { addr.ip().to_string() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(exhibit_api::serve_app(listener, Some(config), app, std::future::pending()));

    // A client that connects and says nothing.
    let _stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    let url = format!("https://127.0.0.1:{}/who", addr.port());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl").args(["-sS", "--max-time", "5", "--cacert", &cert, &url]).output().unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "127.0.0.1");
}

#[test]
fn a_key_others_can_read_and_a_mismatched_pair_are_refused_with_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = exhibit_api::tls::load(cert.as_ref(), key.as_ref()).unwrap_err();
    assert_eq!(err.kind(), "key-exposed", "{err}");
    let other = tempfile::tempdir().unwrap();
    let (_, other_key) = certificate(other.path());
    let err = exhibit_api::tls::load(cert.as_ref(), other_key.as_ref()).unwrap_err();
    assert_eq!(err.kind(), "config", "{err}");
    std::fs::write(&other_key, "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n").unwrap();
    let err = exhibit_api::tls::load(cert.as_ref(), other_key.as_ref()).unwrap_err();
    assert_eq!(err.kind(), "read", "{err}");
}
