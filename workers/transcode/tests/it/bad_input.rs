//! Acceptance 4: hostile inputs fail with a typed reason, and the worker
//! (this process) carries on.

use std::time::Duration;

use exhibit_transcode::{ErrorKind, Limits, transcode};

use crate::support::{fixture, policy};

fn fails(bytes: &[u8], limits: &Limits) -> exhibit_transcode::TranscodeError {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.bin");
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out");
    let err = transcode(&input, &policy(), &out, limits).unwrap_err();
    let left: Vec<_> = std::fs::read_dir(&out).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "failed job left files behind: {left:?}");
    err
}

#[test]
fn not_media_is_refused() {
    let err = fails(b"Dear Sir, this is a witness statement and not a video.\n", &Limits::default());
    assert_eq!(err.kind(), ErrorKind::NotMedia, "{err}");
}

#[test]
fn zero_byte_file_is_refused() {
    let err = fails(b"", &Limits::default());
    assert_eq!(err.kind(), ErrorKind::Empty, "{err}");
}

#[test]
fn huge_declared_frame_size_is_refused_before_decoding() {
    // A YUV4MPEG2 header declaring 16000x16000 frames, then a tiny frame.
    let mut y4m = b"YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    y4m.extend_from_slice(&[0x80; 4096]);
    let err = fails(&y4m, &Limits::default());
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
    assert!(err.reason.contains("16000x16000"), "{err}");
}

#[test]
fn duration_limit_is_enforced() {
    let limits = Limits { max_duration: Duration::from_secs(1), ..Limits::default() };
    let dir = tempfile::tempdir().unwrap();
    let err = transcode(&fixture("mpeg4_mp3.avi"), &policy(), dir.path(), &limits).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LimitExceeded, "{err}");
}

#[test]
fn timeout_kills_the_child_and_the_worker_carries_on() {
    let limits = Limits { timeout: Duration::from_millis(1), ..Limits::default() };
    let dir = tempfile::tempdir().unwrap();
    let err = transcode(&fixture("mjpeg_pcm.avi"), &policy(), dir.path(), &limits).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // The next job, in the same process, works.
    let dir2 = tempfile::tempdir().unwrap();
    transcode(&fixture("voicemail_u8.wav"), &policy(), dir2.path(), &Limits::default()).unwrap();
}

#[test]
fn memory_limit_failure_is_typed() {
    // 64 MiB of address space cannot even load libavcodec's dependencies.
    let limits = Limits { max_address_space: 64 << 20, ..Limits::default() };
    let dir = tempfile::tempdir().unwrap();
    let err = transcode(&fixture("mjpeg_pcm.avi"), &policy(), dir.path(), &limits).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Crashed | ErrorKind::Internal | ErrorKind::Io), "{err}");
}

#[test]
fn existing_outputs_are_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("video-access.mp4"), b"keep me").unwrap();
    let err = transcode(&fixture("mpeg4_mp3.avi"), &policy(), dir.path(), &Limits::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(std::fs::read(dir.path().join("video-access.mp4")).unwrap(), b"keep me");
}
