//! A broken or hostile TSA: every bad answer is refused with an error of
//! the right kind, and nothing panics.

use exhibit_timestamp::loopback::{KeyKind, Mode, unreachable_url};
use exhibit_timestamp::{TimestampErrorKind, TsaClient, TsaTrust};

use crate::{client, tsa};

#[test]
fn each_bad_answer_is_refused_with_its_kind() {
    let (_dir, tsa) = tsa(KeyKind::EcP256);
    let trust = TsaTrust::load(&tsa.ca_file(), None).unwrap();
    let cases = [
        (Mode::HttpStatus(500), TimestampErrorKind::Unreachable, "500"),
        (Mode::Reject, TimestampErrorKind::Refused, "status 2 (rejection), failInfo badRequest"),
        (Mode::Garbage, TimestampErrorKind::Malformed, "TimeStampResp"),
        (Mode::Huge, TimestampErrorKind::Malformed, "limit"),
        (Mode::Truncated, TimestampErrorKind::Malformed, "TimeStampResp"),
        (Mode::WrongNonce, TimestampErrorKind::Untrusted, "nonce"),
        (Mode::WrongDigest, TimestampErrorKind::Untrusted, "another digest"),
    ];
    for (mode, kind, words) in cases {
        tsa.set_mode(mode);
        let err = client(&tsa.url()).timestamp([9; 32], Some(&trust)).unwrap_err();
        assert_eq!(err.kind(), kind, "{mode:?}: {err}");
        assert!(err.to_string().contains(words), "{mode:?}: {err}");
    }
    tsa.set_mode(Mode::Sign);
    client(&tsa.url()).timestamp([9; 32], Some(&trust)).unwrap();
}

#[test]
fn a_tsa_that_is_down_is_unreachable() {
    let url = unreachable_url().unwrap();
    let err = client(&url).timestamp([0; 32], None).unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Unreachable, "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[test]
fn only_plain_http_urls_and_oid_policies_are_accepted() {
    use std::time::Duration;
    let t = Duration::from_secs(1);
    for url in ["https://tsa.example/", "ftp://x", "tsa.example"] {
        let err = TsaClient::new(url, t, None).unwrap_err();
        assert_eq!(err.kind(), TimestampErrorKind::Config, "{url}");
    }
    assert!(TsaClient::new("http://127.0.0.1:1/", t, Some("not-an-oid")).is_err());
    assert!(TsaClient::new("http://127.0.0.1:1/", t, Some("1.2.3.4.5")).is_ok());
}

#[test]
fn every_truncation_and_byte_flip_of_a_real_response_is_refused_without_panic() {
    use exhibit_timestamp::ParsedToken;
    let (_dir, tsa) = tsa(KeyKind::EcP256);
    let trust = TsaTrust::load(&tsa.ca_file(), None).unwrap();
    let good = client(&tsa.url()).timestamp([4; 32], Some(&trust)).unwrap().response;
    let verifies = |bytes: &[u8]| ParsedToken::from_response(bytes).is_ok_and(|t| trust.verify(&t).is_ok());
    assert!(verifies(&good));
    for len in 0..good.len() {
        assert!(!verifies(&good[..len]), "a response cut to {len} bytes verifies");
    }
    let mut passed = Vec::new();
    for i in 0..good.len() {
        let mut bytes = good.clone();
        bytes[i] ^= 0x01;
        if verifies(&bytes) {
            passed.push(i);
        }
    }
    // A flip may only pass where it changes nothing signed or used: the
    // PKIStatus (granted / granted with modifications), the SignedData and
    // SignerInfo versions, the unused digestAlgorithms set, NULL
    // parameters (14 of about 900 bytes, seen with `openssl asn1parse`).
    // Never the TSTInfo, the certificate, the signed attributes or the
    // signature.
    assert!(passed.len() < 20, "{passed:?}");
    let tst_at = good.windows(32).position(|w| w == [4; 32]).unwrap();
    assert!(!passed.contains(&tst_at), "a flipped imprint verifies");
    let sig_tail = good.len() - 70..good.len();
    assert!(passed.iter().all(|i| !sig_tail.contains(i)), "a flipped signature byte verifies: {passed:?}");
}

#[test]
fn a_tsa_that_never_answers_times_out() {
    use std::time::{Duration, Instant};
    // The kernel completes the handshake into the backlog; nobody answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsr", silent.local_addr().unwrap());
    let started = Instant::now();
    let err = TsaClient::new(&url, Duration::from_secs(1), None).unwrap().timestamp([0; 32], None).unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Unreachable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "the timeout did not bound the exchange");
    drop(silent);
}
