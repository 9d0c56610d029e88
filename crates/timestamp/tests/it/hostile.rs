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
        (Mode::Reject, TimestampErrorKind::Refused, "status 2"),
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
