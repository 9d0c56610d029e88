//! Acceptance 2: conformance on the shared corpus (skipped when absent).
//! Expected counts are the [T] facts of the corpus README.

use crate::support::{corpus, policy, run};

#[test]
fn androidx_sample_avi_has_96_video_samples() {
    let Some(c) = corpus() else { return };
    let (_dir, outcome) = run(&c.join("androidx-media/sample.avi"), &policy());
    let out = &outcome.outputs[0];
    let video = out.source.iter().find(|s| s.kind == "video").unwrap();
    assert_eq!(video.frames, 96);
    assert_eq!(out.validation.streams[0].frames, 96);
    assert!(out.validation.passed, "{:?}", out.validation);
    assert_eq!(outcome.probe.streams[0].width, Some(960));
}

#[test]
fn androidx_h263_3gp_has_15_frames() {
    let Some(c) = corpus() else { return };
    let (_dir, outcome) = run(&c.join("androidx-media/bbb_176x144_128kbps_15fps_h263.3gp"), &policy());
    let out = &outcome.outputs[0];
    assert_eq!(out.source.iter().find(|s| s.kind == "video").unwrap().frames, 15);
    assert_eq!(out.validation.streams[0].frames, 15);
    assert!(out.validation.passed, "{:?}", out.validation);
}

#[test]
fn mutagen_id3_wav_is_two_seconds() {
    let Some(c) = corpus() else { return };
    let (_dir, outcome) = run(&c.join("mutagen/silence-2s-PCM-44100-16-ID3v23.wav"), &policy());
    for o in &outcome.outputs {
        assert!(o.validation.passed, "{}: {:?}", o.rule, o.validation);
        assert_eq!(o.source[0].samples, 88_200);
        assert_eq!(o.source[0].decodable_duration_us, 2_000_000);
    }
}

#[test]
fn androidx_and_mutagen_samples_transcode() {
    let Some(c) = corpus() else { return };
    for name in [
        "androidx-media/bbb_mono_8kHz_12.2kbps_amrnb.3gp",
        "androidx-media/sample_h262_mpeg_audio.ps",
        "androidx-media/sample.wav",
        "androidx-media/sample_ima_adpcm.wav",
        "mutagen/silence-1.wma",
    ] {
        let (_dir, outcome) = run(&c.join(name), &policy());
        assert!(!outcome.outputs.is_empty(), "{name}");
        for o in &outcome.outputs {
            assert!(o.validation.passed, "{name} {}: {:?}", o.rule, o.validation);
        }
    }
}
