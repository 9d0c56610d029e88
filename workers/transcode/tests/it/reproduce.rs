//! Acceptance 3: a re-run gives the same SHA-256 for the H.264 access copy
//! and the FFV1 preservation copy.

use exhibit_transcode::{DecodedHash, ErrorKind, Limits, reproduce};

use crate::support::{fixture, policy_with_preservation, run};

#[test]
fn h264_and_ffv1_outputs_reproduce_bit_for_bit() {
    let policy = policy_with_preservation();
    let input = fixture("mpeg4_mp3.avi");
    let (_dir, first) = run(&input, &policy);
    let rules: Vec<&str> = first.outputs.iter().map(|o| o.rule.as_str()).collect();
    assert_eq!(rules, ["video-access", "video-preservation"]);
    assert!(first.outputs.iter().all(|o| o.deterministic));
    let scratch = tempfile::tempdir().unwrap();
    let report = reproduce(&input, &policy, &Limits::default(), &first, scratch.path()).unwrap();
    assert!(report.matched, "{report:#?}");
    assert!(report.outputs.iter().all(|o| o.compared == "sha256"));
    assert!(report.library_changes.is_empty(), "{report:?}");
    assert!(first.libraries.contains_key("libavcodec") && first.libraries.contains_key("libx264"));
}

#[test]
fn reproduce_refuses_another_policy_version() {
    let mut policy = policy_with_preservation();
    let input = fixture("voicemail_u8.wav");
    let (_dir, first) = run(&input, &policy);
    policy.version.push_str("-changed");
    let scratch = tempfile::tempdir().unwrap();
    let err = reproduce(&input, &policy, &Limits::default(), &first, scratch.path()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Mismatch);
}

#[test]
fn decoded_content_is_hashed_only_where_the_bytes_may_differ() {
    let input = fixture("mpeg4_mp3.avi");
    let (_dir, plain) = run(&input, &policy_with_preservation());
    assert!(plain.outputs.iter().all(|o| o.deterministic && o.decoded_sha256.is_none()), "{:?}", plain.outputs);

    // Automatic threads make x264's bytes machine-dependent: reproduce then
    // compares decoded content, which does not depend on threads.
    let mut auto = policy_with_preservation();
    auto.threads = 0;
    let (_dir, first) = run(&input, &auto);
    assert!(first.outputs.iter().all(|o| !o.deterministic && o.decoded_sha256.as_ref().is_some_and(|h| h.len() == 64)));
    let scratch = tempfile::tempdir().unwrap();
    let report = reproduce(&input, &auto, &Limits::default(), &first, scratch.path()).unwrap();
    assert!(report.matched, "{report:#?}");
    assert!(report.outputs.iter().all(|o| o.compared == "decoded-sha256"));
}

#[test]
fn policy_can_ask_for_the_decoded_hash_of_every_output() {
    let input = fixture("mpeg4_mp3.avi");
    let mut always = policy_with_preservation();
    always.decoded_hash = DecodedHash::Always;
    let (_dir, first) = run(&input, &always);
    let (_dir2, second) = run(&input, &always);
    let hashes = |o: &exhibit_transcode::TranscodeOutcome| -> Vec<Option<String>> {
        o.outputs.iter().map(|x| x.decoded_sha256.clone()).collect()
    };
    assert!(hashes(&first).iter().all(Option::is_some));
    assert_eq!(hashes(&first), hashes(&second));
    // The access copy is lossy, the preservation copy lossless: different content.
    assert_ne!(hashes(&first)[0], hashes(&first)[1]);
}
