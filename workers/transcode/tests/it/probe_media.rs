//! Confirming audio and video for identify: `probe_media` (in the child)
//! names every media fixture's container as ffprobe's `format_name` does
//! and finds a stream that decodes; hostile input (random, truncated, a
//! valid header with garbage after) is refused with a typed reason, never
//! a panic or a hang, and the next probe in this process works.

use std::path::Path;

use exhibit_transcode::{ErrorKind, Limits, MediaProbe, TranscodeError, probe_media, sniff};

use crate::support::{ffprobe, fixture, root};

fn probe_bytes(bytes: &[u8]) -> Result<MediaProbe, TranscodeError> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input.bin");
    std::fs::write(&input, bytes).unwrap();
    probe_media(&input, &Limits::for_probe())
}

/// Deterministic bytes that look random (no `rand` dependency).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Audio and video files under `dir` (its `expected/` outputs aside), by extension.
fn media_files(dir: &Path) -> Vec<std::path::PathBuf> {
    const MEDIA: &[&str] = &["wav", "flv", "3gp", "avi", "mpg", "vob", "mov", "wmv", "ps", "wma"];
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() && entry.file_name() != "expected" {
                dirs.push(path);
            } else if MEDIA.iter().any(|x| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(x))) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn agrees_with_ffprobe(path: &Path) {
    let probe = probe_media(path, &Limits::for_probe()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let Some(expected) = ffprobe(path) else { panic!("ffprobe is not installed") };
    assert_eq!(probe.report.container, expected.format, "{}", path.display());
    let decoded = probe.decoded_stream.unwrap_or_else(|| panic!("{}: nothing decoded", path.display()));
    let stream = &probe.report.streams[decoded];
    assert!(["audio", "video"].contains(&stream.kind.as_str()), "{}: {stream:?}", path.display());
    let codecs: Vec<&str> = probe.report.streams.iter().map(|s| s.codec.as_str()).collect();
    let expected_codecs: Vec<&str> = expected.streams.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(codecs, expected_codecs, "{}", path.display());
}

#[test]
fn every_media_fixture_gets_the_container_ffprobe_names() {
    let files = media_files(&root().join("fixtures/media"));
    assert!(files.len() >= 10, "{files:?}");
    for path in files {
        agrees_with_ffprobe(&path);
    }
}

#[test]
fn every_corpus_media_file_gets_the_container_ffprobe_names() {
    let Some(corpus) = exhibit_testkit::corpus_dir() else { return };
    let files = media_files(&corpus);
    assert!(files.len() >= 8, "{files:?}");
    for path in files {
        agrees_with_ffprobe(&path);
    }
}

#[test]
fn random_bytes_are_not_media() {
    for seed in 0..8 {
        // A demuxer's guess may fail to open (`Corrupt`): refused all the same.
        let err = probe_bytes(&noise(seed, 8192)).unwrap_err();
        assert!(
            matches!(err.kind, ErrorKind::NotMedia | ErrorKind::Unsupported | ErrorKind::Corrupt),
            "seed {seed}: {err}"
        );
    }
}

#[test]
fn an_adts_sync_word_before_random_bytes_is_not_media() {
    // The file: two bytes of ADTS sync, then noise. Some demuxer
    // may open it; no decoder gives a frame.
    for seed in 0..8 {
        let mut bytes = vec![0xFF, 0xF1];
        bytes.extend(noise(seed, 6000));
        let err = probe_bytes(&bytes).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotMedia, "seed {seed}: {err}");
    }
}

#[test]
fn a_valid_header_with_garbage_after_is_refused_or_typed_never_a_crash() {
    // The first 2 KiB of real files (headers, index atoms), then noise.
    for name in ["h263_aac.3gp", "mpeg4_mp3.avi", "mpeg1_mp2.mpg", "wmv2_wma2.wmv", "flv1_mp3.flv", "mpeg4_pcm.mov"] {
        let real = std::fs::read(fixture(name)).unwrap();
        let mut bytes = real[..2048.min(real.len())].to_vec();
        bytes.extend(noise(7, 64 * 1024));
        match probe_bytes(&bytes) {
            Ok(probe) => assert!(probe.decoded_stream.is_some() || probe.over_limit.is_some(), "{name}: {probe:?}"),
            Err(e) => assert!(
                matches!(e.kind, ErrorKind::NotMedia | ErrorKind::Corrupt | ErrorKind::Unsupported),
                "{name}: {e}"
            ),
        }
    }
    // A WAV header declares PCM, and PCM decodes any bytes: it is a WAV.
    let real = std::fs::read(fixture("voicemail_u8.wav")).unwrap();
    let mut wav = real[..44].to_vec();
    wav.extend(noise(3, 16 * 1024));
    assert_eq!(probe_bytes(&wav).unwrap().report.container, "wav");
}

#[test]
fn truncated_media_is_refused_or_typed_never_a_crash() {
    for name in ["h263_aac.3gp", "mpeg4_mp3.avi", "mpeg2_mp2.vob", "wmv2_wma2.wmv", "mpeg4_pcm.mov", "cdda.wav"] {
        let real = std::fs::read(fixture(name)).unwrap();
        for cut in [16, 200, 4096, real.len() / 2] {
            match probe_bytes(&real[..cut.min(real.len())]) {
                Ok(probe) => assert!(!probe.report.container.is_empty(), "{name} cut at {cut}"),
                Err(e) => assert!(
                    matches!(e.kind, ErrorKind::NotMedia | ErrorKind::Corrupt | ErrorKind::Unsupported),
                    "{name} cut at {cut}: {e}"
                ),
            }
        }
    }
    // The worker carries on.
    assert_eq!(probe_media(&fixture("voicemail_u8.wav"), &Limits::for_probe()).unwrap().report.container, "wav");
}

#[test]
fn a_probe_that_runs_too_long_is_killed() {
    let limits = Limits { timeout: std::time::Duration::from_millis(1), ..Limits::for_probe() };
    let err = probe_media(&fixture("mjpeg_pcm.avi"), &limits).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
}

#[test]
fn declared_values_over_the_limits_are_typed_only_when_a_frame_decodes() {
    // A header declaring 16000x16000 frames, then 4 KiB: no frame decodes
    // (the decoder refuses frames over max_frame_pixels), so it is not media.
    let mut y4m = b"YUV4MPEG2 W16000 H16000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    y4m.extend_from_slice(&[0x80; 4096]);
    let err = probe_bytes(&y4m).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotMedia, "{err}");
    assert!(err.reason.contains("16000x16000"), "the limit is named: {err}");
    // ADTS sync and a header declaring more channels than allowed, then
    // noise: typed audio before, and then refused by the transcode.
    for seed in 0..8 {
        let mut adts = vec![0xFF, 0xF1, 0x50, 0x80];
        adts.extend(noise(seed, 30_000));
        let err = probe_bytes(&adts).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotMedia, "seed {seed}: {err}");
    }
    // Real stereo audio over a limit of one channel: a frame decodes, so it
    // is typed, and the limit is noted for the transcode to refuse.
    let limits = Limits { max_channels: 1, ..Limits::for_probe() };
    let probe = probe_media(&fixture("cdda.wav"), &limits).unwrap();
    assert_eq!((probe.report.container.as_str(), probe.decoded_stream), ("wav", Some(0)));
    assert!(probe.over_limit.as_deref().is_some_and(|r| r.contains("channels")), "{probe:?}");
}

#[test]
fn sniffing_names_the_demuxer_from_the_first_bytes() {
    let head = std::fs::read(fixture("h263_aac.3gp")).unwrap();
    let found = sniff(&head[..4096]).unwrap();
    assert_eq!(found.demuxer, "mov,mp4,m4a,3gp,3g2,mj2");
    assert_eq!(found.score, exhibit_transcode::SCORE_MAX);
    // Random bytes: nothing, or a guess at or below libavformat's own
    // "read more" threshold.
    for seed in 0..32 {
        if let Some(guess) = sniff(&noise(seed, 8192)) {
            assert!(guess.score <= exhibit_transcode::SCORE_RETRY, "seed {seed}: {guess:?}");
        }
    }
}
