//! RFC 3161 §2.3 and ESS (RFC 2634/5035): tokens that `openssl ts -verify`
//! rejects must be refused by exhibit too. `openssl ts -reply` will not
//! sign with a certificate whose key usage is wrong, nor leave out the ESS
//! attribute, so these tokens re-sign a real token's `TSTInfo` with
//! `openssl cms -sign` (`-cades` adds ESS signingCertificateV2).

use std::path::Path;
use std::process::Command;

use exhibit_timestamp::loopback::KeyKind;
use exhibit_timestamp::{ParsedToken, TimestampErrorKind, TsaTrust};

use crate::tsa;

fn run(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

fn ok(dir: &Path, args: &[&str]) {
    let (success, text) = run(dir, args);
    assert!(success, "openssl {args:?}: {text}");
}

/// A certificate for the loopback TSA's key with the given EKU line.
fn tsa_cert(dir: &Path, name: &str, eku: &str) {
    std::fs::write(
        dir.join(format!("{name}.cnf")),
        format!("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={eku}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"),
    )
    .unwrap();
    let (ext, out) = (format!("{name}.cnf"), format!("{name}.pem"));
    ok(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-set_serial",
            "2",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &out,
        ],
    );
}

/// A real token from `openssl ts -reply` over `data`, and its `TSTInfo`.
fn real_token(dir: &Path) {
    std::fs::write(dir.join("data"), b"exhibit ledger head").unwrap();
    ok(dir, &["ts", "-query", "-data", "data", "-sha256", "-cert", "-out", "f6.tsq"]);
    ok(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            "f6.tsq",
            "-signer",
            "tsa.pem",
            "-inkey",
            "tsa.key",
            "-token_out",
            "-out",
            "real.tok",
        ],
    );
    ok(dir, &["cms", "-verify", "-noverify", "-inform", "DER", "-in", "real.tok", "-out", "tst.der"]);
}

/// The `TSTInfo` re-signed by `cert` (with ESS signingCertificateV2 if `ess`).
fn resign(dir: &Path, cert: &str, ess: bool, out: &str) {
    let signer = format!("{cert}.pem");
    let mut args =
        vec!["cms", "-sign", "-binary", "-nodetach", "-in", "tst.der", "-econtent_type", "1.2.840.113549.1.9.16.1.4"];
    args.extend([
        "-signer",
        &signer,
        "-inkey",
        "tsa.key",
        "-md",
        "sha256",
        "-nosmimecap",
        "-outform",
        "DER",
        "-out",
        out,
    ]);
    if ess {
        args.push("-cades");
    }
    ok(dir, &args);
}

fn openssl_accepts(dir: &Path, token: &str) -> (bool, String) {
    run(dir, &["ts", "-verify", "-token_in", "-in", token, "-data", "data", "-CAfile", "ca.pem"])
}

fn exhibit_verdict(dir: &Path, token: &str) -> Result<(), exhibit_timestamp::TimestampError> {
    let trust = TsaTrust::load(&dir.join("ca.pem"), None).unwrap();
    let parsed = ParsedToken::from_token(&std::fs::read(dir.join(token)).unwrap())?;
    trust.verify(&parsed).map(|_| ())
}

#[test]
fn a_resigned_token_with_ess_and_a_proper_certificate_is_accepted_by_both() {
    let (dir, _tsa) = tsa(KeyKind::EcP256);
    let d = dir.path();
    real_token(d);
    resign(d, "tsa", true, "control.tok");
    let (accepted, text) = openssl_accepts(d, "control.tok");
    assert!(accepted, "{text}");
    exhibit_verdict(d, "control.tok").unwrap();
}

#[test]
fn a_token_without_the_ess_signing_certificate_is_refused() {
    let (dir, _tsa) = tsa(KeyKind::EcP256);
    let d = dir.path();
    real_token(d);
    resign(d, "tsa", false, "no-ess.tok");
    let (accepted, text) = openssl_accepts(d, "no-ess.tok");
    assert!(!accepted && text.contains("missing signing certificate attribute"), "{text}");
    let err = exhibit_verdict(d, "no-ess.tok").unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Untrusted, "{err}");
    assert!(err.to_string().contains("signingCertificate"), "{err}");
}

#[test]
fn a_token_signed_under_a_non_critical_eku_is_refused() {
    let (dir, _tsa) = tsa(KeyKind::EcP256);
    let d = dir.path();
    real_token(d);
    tsa_cert(d, "soft", "timeStamping");
    resign(d, "soft", true, "soft.tok");
    let (accepted, text) = openssl_accepts(d, "soft.tok");
    assert!(!accepted && text.contains("unsuitable certificate purpose"), "{text}");
    let err = exhibit_verdict(d, "soft.tok").unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Untrusted, "{err}");
    assert!(err.to_string().contains("not critical"), "{err}");
}

#[test]
fn a_token_signed_under_an_eku_with_server_auth_too_is_refused() {
    let (dir, _tsa) = tsa(KeyKind::EcP256);
    let d = dir.path();
    real_token(d);
    tsa_cert(d, "wide", "critical,timeStamping,serverAuth");
    resign(d, "wide", true, "wide.tok");
    let (accepted, text) = openssl_accepts(d, "wide.tok");
    assert!(!accepted && text.contains("unsuitable certificate purpose"), "{text}");
    let err = exhibit_verdict(d, "wide.tok").unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Untrusted, "{err}");
    assert!(err.to_string().contains("only id-kp-timeStamping"), "{err}");
}

#[test]
fn a_token_with_ess_v1_sha1_from_openssl_ts_reply_is_accepted() {
    let (dir, _tsa) = tsa(KeyKind::Rsa2048);
    let d = dir.path();
    let cnf = std::fs::read_to_string(d.join("tsa.cnf"))
        .unwrap()
        .replace("ess_cert_id_alg = sha256", "ess_cert_id_alg = sha1");
    std::fs::write(d.join("tsa.cnf"), cnf).unwrap();
    real_token(d);
    let (accepted, text) = openssl_accepts(d, "real.tok");
    assert!(accepted, "{text}");
    exhibit_verdict(d, "real.tok").unwrap();
}

#[test]
fn flipping_any_byte_of_a_real_token_never_panics() {
    let (dir, _tsa) = tsa(KeyKind::EcP256);
    let d = dir.path();
    real_token(d);
    let trust = TsaTrust::load(&d.join("ca.pem"), None).unwrap();
    let token = std::fs::read(d.join("real.tok")).unwrap();
    trust.verify(&ParsedToken::from_token(&token).unwrap()).unwrap();
    // Some bytes are outside what is signed (the SignedData's own
    // digestAlgorithms list, for one), so a flip there may still verify;
    // the point is that none panics, and that the signed part is covered.
    let mut refused = 0;
    for at in 0..token.len() {
        let mut bad = token.clone();
        bad[at] ^= 0xff;
        if ParsedToken::from_token(&bad).and_then(|t| trust.verify(&t)).is_err() {
            refused += 1;
        }
    }
    assert!(refused > token.len() * 9 / 10, "only {refused} of {} flips refused", token.len());
}
