//! Tokens from the loopback TSA verify with exhibit and with openssl; a
//! token from another CA or over another digest does not.

use exhibit_timestamp::loopback::KeyKind;
use exhibit_timestamp::{ParsedToken, TimestampErrorKind, TsaTrust};

use crate::{client, openssl_verify, tsa};

#[test]
fn tokens_verify_with_exhibit_and_openssl_for_ec_and_rsa_keys() {
    for key in [KeyKind::EcP256, KeyKind::Rsa2048] {
        let (dir, tsa) = tsa(key);
        let trust = TsaTrust::load(&tsa.ca_file(), None).unwrap();
        let digest = [0x5a; 32];
        let issued = client(&tsa.url()).timestamp(digest, Some(&trust)).unwrap();
        let checked = trust.verify(&ParsedToken::from_response(&issued.response).unwrap()).unwrap();
        assert_eq!(checked.imprint, digest, "{key:?}");
        assert!(checked.signer.contains("exhibit test TSA"), "{}", checked.signer);
        let file = dir.path().join("stored.tsr");
        std::fs::write(&file, &issued.response).unwrap();
        let (ok, out) = openssl_verify(&file, &digest, &tsa.ca_file());
        assert!(ok && out.contains("Verification: OK"), "{key:?}: {out}");
        let (ok, _) = openssl_verify(&file, &[0x5b; 32], &tsa.ca_file());
        assert!(!ok, "openssl accepts the token for another digest");
    }
}

#[test]
fn a_token_from_another_ca_with_the_same_names_is_refused() {
    let (_a_dir, a) = tsa(KeyKind::EcP256);
    let (_b_dir, b) = tsa(KeyKind::EcP256);
    let trust_a = TsaTrust::load(&a.ca_file(), None).unwrap();
    let issued = client(&b.url()).timestamp([1; 32], None).unwrap();
    let err = trust_a.verify(&issued.token).unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Untrusted, "{err}");
    assert!(err.to_string().contains("does not chain"), "{err}");
    // The client refuses it too when asked to check.
    let err = client(&b.url()).timestamp([1; 32], Some(&trust_a)).unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Untrusted, "{err}");
}

#[test]
fn the_tsa_certificate_alone_is_not_a_ca() {
    let (_dir, tsa) = tsa(KeyKind::EcP256);
    // Trusting the leaf as a root must not let it sign: it is no CA.
    let trust = TsaTrust::load(&tsa.tsa_cert(), None).unwrap();
    let issued = client(&tsa.url()).timestamp([2; 32], None).unwrap();
    assert!(trust.verify(&issued.token).is_err());
}

#[test]
fn altered_tokens_fail_their_signature_or_digest_check() {
    let (_dir, tsa) = tsa(KeyKind::EcP256);
    let trust = TsaTrust::load(&tsa.ca_file(), None).unwrap();
    let issued = client(&tsa.url()).timestamp([3; 32], Some(&trust)).unwrap();
    let at = issued.response.windows(32).position(|w| w == [3; 32]).unwrap();
    let mut bytes = issued.response.clone();
    bytes[at] ^= 1;
    let token = ParsedToken::from_response(&bytes).unwrap();
    let err = trust.verify(&token).unwrap_err();
    assert!(err.to_string().contains("message digest"), "{err}");
    // Flip each byte of the last 60 (inside the signature): never a pass, never a panic.
    for i in bytes.len() - 60..bytes.len() {
        let mut b = issued.response.clone();
        b[i] ^= 0x40;
        if let Ok(token) = ParsedToken::from_response(&b) {
            assert!(trust.verify(&token).is_err(), "byte {i} flipped still verifies");
        }
    }
}

#[test]
fn certificate_files_that_are_not_pem_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let err = TsaTrust::load(&bad, None).unwrap_err();
    assert_eq!(err.kind(), TimestampErrorKind::Config);
    assert!(err.to_string().contains("ca.pem"), "{err}");
    let err = TsaTrust::load(&dir.path().join("missing.pem"), None).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");
}
