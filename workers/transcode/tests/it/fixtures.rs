//! Acceptance 1: every legacy fixture gives outputs that ffprobe reads with
//! the expected codecs and duration; the truncated one reports its damage.

use exhibit_transcode::{Container, InputClass, probe};

use crate::support::{ffprobe, fixture, policy, policy_with_preservation, run};

/// Transcodes a video fixture and checks the MP4 access copy.
fn video_case(name: &str, source_codecs: &[&str]) {
    let input = fixture(name);
    let report = probe(&input).unwrap();
    assert_eq!(report.class, InputClass::Video, "{name}");
    let codecs: Vec<&str> = report.streams.iter().map(|s| s.codec.as_str()).collect();
    assert_eq!(codecs, source_codecs, "{name}");
    let (_dir, outcome) = run(&input, &policy());
    assert_eq!(outcome.outputs.len(), 1, "{name}");
    let out = &outcome.outputs[0];
    assert_eq!((out.rule.as_str(), out.container), ("video-access", Container::Mp4));
    assert!(out.validation.passed, "{name}: {:?}", out.validation);
    assert!(!outcome.is_damaged(), "{name}: {:?}", outcome.issues);
    assert!(out.deterministic);
    assert_eq!(out.sha256.len(), 64);
    let Some(p) = ffprobe(&out.path) else { return eprintln!("SKIP ffprobe check: ffprobe not installed") };
    assert!(p.format.contains("mp4"), "{name}: {}", p.format);
    assert_eq!(p.streams, [("video".into(), "h264".into()), ("audio".into(), "aac".into())], "{name}");
    let src = report.duration_us.unwrap() as f64 / 1e6;
    assert!((p.duration - src).abs() < 0.15, "{name}: output {} s, source {src} s", p.duration);
}

#[test]
fn avi_mpeg4_mp3() {
    video_case("mpeg4_mp3.avi", &["mpeg4", "mp3"]);
}

#[test]
fn avi_mjpeg_pcm() {
    video_case("mjpeg_pcm.avi", &["mjpeg", "pcm_s16le"]);
}

#[test]
fn wmv2_wma2() {
    video_case("wmv2_wma2.wmv", &["wmv2", "wmav2"]);
}

#[test]
fn threegp_h263_aac() {
    video_case("h263_aac.3gp", &["h263", "aac"]);
}

#[test]
fn mpeg1_program_stream() {
    video_case("mpeg1_mp2.mpg", &["mpeg1video", "mp2"]);
}

#[test]
fn mpeg2_program_stream() {
    video_case("mpeg2_mp2.vob", &["mpeg2video", "mp2"]);
}

#[test]
fn quicktime_keeps_creation_time_in_probe() {
    video_case("mpeg4_pcm.mov", &["mpeg4", "pcm_s16be"]);
    let report = probe(&fixture("mpeg4_pcm.mov")).unwrap();
    assert_eq!(report.creation_time.as_deref(), Some("2019-05-01T10:00:00.000000Z"));
    assert_eq!(report.tags.get("title").map(String::as_str), Some("exhibit fixture"));
    let v = &report.streams[0];
    assert_eq!((v.width, v.height, v.frame_rate), (Some(160), Some(120), Some([25, 1])));
}

#[test]
fn flv_sorenson_mp3() {
    video_case("flv1_mp3.flv", &["mp3", "flv1"]);
}

#[test]
fn cdda_wav_gives_flac_and_aac() {
    let input = fixture("cdda.wav");
    assert_eq!(probe(&input).unwrap().class, InputClass::Cdda);
    let (_dir, outcome) = run(&input, &policy());
    let rules: Vec<&str> = outcome.outputs.iter().map(|o| o.rule.as_str()).collect();
    assert_eq!(rules, ["cdda-preservation", "cdda-access"]);
    for o in &outcome.outputs {
        assert!(o.validation.passed, "{}: {:?}", o.rule, o.validation);
        assert_eq!(o.source[0].samples, 88_200);
    }
    let flac = &outcome.outputs[0].validation.streams[0];
    assert_eq!((flac.codec.as_str(), flac.samples, flac.shape), ("flac", 88_200, [44_100, 2]));
    if let Some(p) = ffprobe(&outcome.outputs[0].path) {
        assert_eq!(p.streams, [("audio".into(), "flac".into())]);
        assert!((p.duration - 2.0).abs() < 0.02);
    }
    if let Some(p) = ffprobe(&outcome.outputs[1].path) {
        assert_eq!(p.streams, [("audio".into(), "aac".into())]);
        assert!((p.duration - 2.0).abs() < 0.03, "{}", p.duration);
    }
}

#[test]
fn lossless_voicemail_gets_access_and_preservation() {
    let input = fixture("voicemail_u8.wav");
    let (_dir, outcome) = run(&input, &policy());
    let rules: Vec<&str> = outcome.outputs.iter().map(|o| o.rule.as_str()).collect();
    assert_eq!(rules, ["audio-access", "audio-preservation"]);
    assert!(outcome.outputs.iter().all(|o| o.validation.passed), "{:?}", outcome.outputs);
    assert_eq!(outcome.outputs[1].validation.streams[0].samples, 16_000);
}

#[test]
fn preservation_copy_is_ffv1_flac_matroska() {
    let (_dir, outcome) = run(&fixture("mjpeg_pcm.avi"), &policy_with_preservation());
    let pres = outcome.outputs.iter().find(|o| o.rule == "video-preservation").unwrap();
    assert_eq!(pres.codecs, ["ffv1", "flac"]);
    assert!(pres.validation.passed, "{:?}", pres.validation);
    if let Some(p) = ffprobe(&pres.path) {
        assert!(p.format.contains("matroska"));
        assert_eq!(p.streams, [("video".into(), "ffv1".into()), ("audio".into(), "flac".into())]);
    }
}

#[test]
fn truncated_avi_reports_its_damaged_range() {
    let (_dir, outcome) = run(&fixture("truncated_mpeg4_mp3.avi"), &policy());
    assert!(outcome.is_damaged(), "{outcome:#?}");
    let out = &outcome.outputs[0];
    assert!(out.validation.passed, "{:?}", out.validation);
    let video = outcome.damaged.iter().find(|r| r.stream == 0).expect("a damaged video range");
    // About 60% of a 2.04 s clip survives; the rest is missing.
    assert!((1_000_000..1_600_000).contains(&video.start_us), "{video:?}");
    assert!(video.end_us >= 2_000_000, "{video:?}");
    assert!(video.kinds.iter().any(|k| k == "truncated"), "{video:?}");
    if let Some(p) = ffprobe(&out.path) {
        assert_eq!(p.streams[0].1, "h264");
    }
}
