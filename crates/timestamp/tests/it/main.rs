//! Integration tests of exhibit-timestamp against a loopback TSA made from
//! `openssl ts -reply`, and checks of its tokens with `openssl ts -verify`.

mod ess_eku;
mod hostile;
mod roundtrip;

use std::path::Path;
use std::time::Duration;

use exhibit_timestamp::TsaClient;
use exhibit_timestamp::loopback::{KeyKind, LoopbackTsa};

/// A loopback TSA in a fresh folder.
pub fn tsa(key: KeyKind) -> (tempfile::TempDir, LoopbackTsa) {
    let dir = tempfile::tempdir().unwrap();
    let tsa = LoopbackTsa::start(dir.path(), key).unwrap();
    (dir, tsa)
}

/// A client with a short timeout.
pub fn client(url: &str) -> TsaClient {
    TsaClient::new(url, Duration::from_secs(10), None).unwrap()
}

/// Runs `openssl ts -verify` on a stored response; returns success and output.
pub fn openssl_verify(response: &Path, digest: &[u8; 32], ca: &Path) -> (bool, String) {
    let out = std::process::Command::new("openssl")
        .args(["ts", "-verify", "-digest", &hex::encode(digest), "-in"])
        .arg(response)
        .arg("-CAfile")
        .arg(ca)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}
