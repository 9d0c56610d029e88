//! Audio and video typed by what libavformat finds, through the functions
//! the identify stage calls (`identify_bytes`, `av_candidate`,
//! `confirm_av`): every A/V file in `fixtures/` and the corpus gets the
//! container `ffprobe -show_format` names; nothing else in `fixtures/` is
//! claimed as audio or video; random bytes that only look like audio are
//! unidentified, with the reason.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

use exhibit_core::manifest::MediaType;
use exhibit_intake::{IdentifyPolicy, av_candidate, confirm_av, identify_bytes};

const SAMPLE: u64 = 64 * 1024;
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");

/// What identify records for the file at `path` (media images aside).
fn identify(path: &Path) -> MediaType {
    let mut file = std::fs::File::open(path).unwrap();
    let size = file.metadata().unwrap().len();
    let mut head = Vec::new();
    (&mut file).take(SAMPLE).read_to_end(&mut head).unwrap();
    let mut tail = head.clone();
    if size > SAMPLE {
        tail.clear();
        file.seek(SeekFrom::Start(size - SAMPLE)).unwrap();
        file.read_to_end(&mut tail).unwrap();
    }
    let media = identify_bytes(&head, &tail, size, &IdentifyPolicy::default());
    match av_candidate(&media, &head) {
        Some(candidate) => confirm_av(media, candidate, path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        None => media,
    }
}

fn ffprobe_format(path: &Path) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json", "-show_format"])
        .arg(path)
        .output()
        .expect("ffprobe is installed (scripts/setup-debian.sh)");
    assert!(out.status.success(), "ffprobe cannot read {}", path.display());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["format"]["format_name"].as_str().unwrap().to_owned()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn is_av(path: &Path) -> bool {
    const AV: &[&str] = &["wav", "flv", "3gp", "avi", "mpg", "vob", "mov", "wmv", "ps", "wma"];
    AV.iter().any(|x| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(x)))
}

fn agrees_with_ffprobe(path: &Path) -> MediaType {
    let media = identify(path);
    let av = media.av.as_ref().unwrap_or_else(|| panic!("{}: not confirmed: {media:?}", path.display()));
    assert_eq!(av.container, ffprobe_format(path), "{}", path.display());
    assert!(av.probed_by.starts_with("libavformat "), "{av:?}");
    assert!(av.decoded_stream.is_some(), "{}: {av:?}", path.display());
    assert_eq!(media.detected_by, av.probed_by);
    assert!(media.mime.starts_with("audio/") || media.mime.starts_with("video/"), "{}: {media:?}", path.display());
    assert_eq!(media.unidentified, None);
    media
}

#[test]
fn every_av_fixture_is_typed_by_its_container_as_ffprobe_names_it() {
    let expected = [
        ("cdda.wav", "audio/x-wav"),
        ("flv1_mp3.flv", "video/x-flv"),
        ("h263_aac.3gp", "video/3gpp"),
        ("mjpeg_pcm.avi", "video/x-msvideo"),
        ("mpeg1_mp2.mpg", "video/mpeg"),
        ("mpeg2_mp2.vob", "video/mpeg"),
        ("mpeg4_mp3.avi", "video/x-msvideo"),
        ("mpeg4_pcm.mov", "video/quicktime"),
        ("truncated_mpeg4_mp3.avi", "video/x-msvideo"),
        ("voicemail_u8.wav", "audio/x-wav"),
        ("wmv2_wma2.wmv", "video/x-ms-asf"),
    ];
    let files: Vec<PathBuf> =
        files_under(&Path::new(FIXTURES).join("media")).into_iter().filter(|p| is_av(p)).collect();
    assert_eq!(files.len(), expected.len(), "{files:?}");
    for path in files {
        let media = agrees_with_ffprobe(&path);
        let name = path.file_name().unwrap().to_str().unwrap();
        let mime = expected.iter().find(|(n, _)| *n == name).map(|(_, m)| *m);
        assert_eq!(Some(media.mime.as_str()), mime, "{name}");
    }
    // The 3GP's container and codecs are recorded apart.
    let gp = identify(&Path::new(FIXTURES).join("media/h263_aac.3gp"));
    let av = gp.av.unwrap();
    assert_eq!(av.brand.as_deref(), Some("3gp4"), "{av:?}");
    let codecs: Vec<(&str, &str)> = av.streams.iter().map(|s| (s.kind.as_str(), s.codec.as_str())).collect();
    assert_eq!(codecs, [("video", "h263"), ("audio", "aac")]);
    assert_eq!(gp.pronom.map(|p| p.puid).as_deref(), Some("fmt/357"), "the PUID stays");
}

#[test]
fn every_av_corpus_file_is_typed_by_its_container_as_ffprobe_names_it() {
    let Some(corpus) = exhibit_testkit::corpus_dir() else { return };
    let expected = [
        ("bbb_176x144_128kbps_15fps_h263.3gp", "video/3gpp"),
        ("bbb_mono_8kHz_12.2kbps_amrnb.3gp", "audio/3gpp"),
        ("sample.avi", "video/x-msvideo"),
        ("sample.wav", "audio/x-wav"),
        ("sample_h262_mpeg_audio.ps", "video/mpeg"),
        ("sample_ima_adpcm.wav", "audio/x-wav"),
        ("silence-1.wma", "audio/x-ms-wma"),
        ("silence-2s-PCM-44100-16-ID3v23.wav", "audio/x-wav"),
    ];
    let files: Vec<PathBuf> = files_under(&corpus).into_iter().filter(|p| is_av(p)).collect();
    assert_eq!(files.len(), expected.len(), "{files:?}");
    for path in files {
        let media = agrees_with_ffprobe(&path);
        let name = path.file_name().unwrap().to_str().unwrap();
        let mime = expected.iter().find(|(n, _)| *n == name).map(|(_, m)| *m);
        assert_eq!(Some(media.mime.as_str()), mime, "{name}");
    }
}

#[test]
fn nothing_else_in_fixtures_is_claimed_as_audio_or_video() {
    for path in files_under(Path::new(FIXTURES)).into_iter().filter(|p| !is_av(p)) {
        // Disk images are typed by exhibit-media before any of this.
        let file = exhibit_media::FileAt::open(&path).unwrap();
        if exhibit_media::classify(&file).is_some() {
            continue;
        }
        let media = identify(&path);
        assert!(media.av.is_none() && media.unidentified.is_none(), "{}: {media:?}", path.display());
        assert!(!media.mime.starts_with("audio/") && !media.mime.starts_with("video/"), "{}", path.display());
    }
}

#[test]
fn bytes_that_only_look_like_aac_or_mp3_are_unidentified_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let noise: Vec<u8> = (0u32..6000).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for (name, prefix, claimed) in [
        ("f000123.bin", &b"\xFF\xF1"[..], "audio/aac"),
        ("voice.mp3", &b"ID3\x03\x00\x00\x00\x00\x00\x00"[..], "audio/mpeg"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, [prefix, &noise].concat()).unwrap();
        let media = identify(&path);
        assert_eq!(media.mime, "application/octet-stream", "{name}: {media:?}");
        let why = media.unidentified.as_deref().unwrap_or_default();
        assert!(why.contains(&format!("its signature says {claimed}")), "{name}: {why}");
        assert!(why.contains("no demuxer or decoder accepts it"), "{name}: {why}");
        assert_eq!(media.av, None);
    }
}

#[test]
fn an_unknown_type_that_libavformat_opens_is_found() {
    // Raw YUV4MPEG2 video: neither infer 0.16 nor PRONOM's signatures know
    // it; libavformat's probe does, and typed by its demuxer it goes to
    // the transcode stage.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("capture");
    let mut y4m = b"YUV4MPEG2 W16 H16 F25:1 Ip A1:1 C420jpeg\n".to_vec();
    for _ in 0..3 {
        y4m.extend_from_slice(b"FRAME\n");
        y4m.extend_from_slice(&[0x80; 16 * 16 * 3 / 2]);
    }
    std::fs::write(&path, &y4m).unwrap();
    let signatures = identify_bytes(&y4m, &y4m, y4m.len() as u64, &IdentifyPolicy::default());
    assert_eq!(signatures.mime, "application/octet-stream", "{signatures:?}");
    let media = identify(&path);
    assert_eq!(media.av.as_ref().map(|a| a.container.as_str()), Some("yuv4mpegpipe"), "{media:?}");
    assert_eq!(media.mime, "video/x-yuv4mpegpipe");
}
