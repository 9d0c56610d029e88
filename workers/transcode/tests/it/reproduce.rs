//! Acceptance 3: a re-run gives the same SHA-256 for the H.264 access copy
//! and the FFV1 preservation copy.

use exhibit_transcode::{ErrorKind, Limits, reproduce};

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
