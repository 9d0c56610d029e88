//! bin/cue fixtures: a MODE1/2352 data track wrapping an ISO and a sine
//! AUDIO track, as two files and as one file with an INDEX 00 pregap.

use std::io::Read;

use exhibit_media_core::{Limits, MediaErrorKind, read_exact_at};
use exhibit_media_sources::{CueImage, TrackMode, open_cue};

use crate::support::{fixture, recorded, sha256, sha256_bytes};

fn open(name: &str) -> CueImage {
    open_cue(&fixture(name), &Limits::default()).expect("opens")
}

fn check_tracks(image: &CueImage, pregap: u64) {
    let t = image.tracks();
    assert_eq!(t.len(), 2);
    assert_eq!((t[0].number, t[0].mode, t[0].start, t[0].file_offset), (1, TrackMode::Mode1Raw, 0, 0));
    assert_eq!((t[1].number, t[1].mode, t[1].length, t[1].pregap), (2, TrackMode::Audio, 150, pregap));
    assert_eq!(t[1].start, t[0].length + 150);
}

fn check_data_track(image: &CueImage) {
    let view = image.data_track_view(1).expect("data view");
    assert_eq!(view.size(), image.tracks()[0].length * 2048);
    assert_eq!(sha256(view.as_ref()), recorded("cue/sources.sha256", "data.iso"));
    let mut pvd = [0u8; 6];
    read_exact_at(view.as_ref(), 16 * 2048, &mut pvd).expect("volume descriptor");
    assert_eq!(&pvd, b"\x01CD001");
}

fn check_audio_track(image: &CueImage) {
    let mut wav = Vec::new();
    image.audio_track_wav(2).expect("wav").read_to_end(&mut wav).expect("streams");
    let pcm_len = 150 * 2352u32;
    assert_eq!(wav.len(), 44 + pcm_len as usize);
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[4..8], &(36 + pcm_len).to_le_bytes());
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    assert_eq!(&wav[20..24], &[1, 0, 2, 0]);
    assert_eq!(&wav[24..28], &44_100u32.to_le_bytes());
    assert_eq!(&wav[34..40], b"\x10\x00data");
    assert_eq!(&wav[40..44], &pcm_len.to_le_bytes());
    assert_eq!(sha256_bytes(&wav[44..]), recorded("cue/sources.sha256", "audio.pcm"));
}

#[test]
fn two_files_map_data_and_audio() {
    let image = open("cue/two-files.cue");
    check_tracks(&image, 150);
    assert!(image.tracks()[0].file.ends_with("data track.bin"));
    check_data_track(&image);
    check_audio_track(&image);
}

#[test]
fn one_file_with_an_index_00_pregap() {
    let image = open("cue/one-file.cue");
    check_tracks(&image, 150);
    assert_eq!(image.tracks()[1].file_offset, (image.tracks()[0].length + 150) * 2352);
    check_data_track(&image);
    check_audio_track(&image);
}

#[test]
fn wrong_track_kinds_are_refused() {
    let image = open("cue/two-files.cue");
    assert_eq!(image.data_track_view(2).err().map(|e| e.kind), Some(MediaErrorKind::Unsupported));
    assert_eq!(image.audio_track_wav(1).err().map(|e| e.kind), Some(MediaErrorKind::Unsupported));
    assert!(image.data_track_view(7).is_err());
}

#[test]
fn a_missing_bin_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cue = dir.path().join("x.cue");
    std::fs::write(&cue, "FILE \"gone.bin\" BINARY\n TRACK 01 MODE1/2048\n  INDEX 01 00:00:00\n").expect("write");
    let err = open_cue(&cue, &Limits::default()).err().expect("missing file");
    assert!(err.message.contains("gone.bin"), "{err}");
}

/// A `.bin` cut short (`head -c`) inside the data track: the sheet still
/// opens, the data track keeps the sectors the file holds, the audio track
/// the sheet places past the end is empty, and the cut is named.
#[test]
fn a_bin_shorter_than_its_sheet_is_truncated_not_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixture("cue/one-file.cue"), dir.path().join("one-file.cue")).expect("copy");
    let bin = std::fs::read(fixture("cue/disc image.bin")).expect("bin");
    let keep = 100 * 2352 + 1000;
    std::fs::write(dir.path().join("disc image.bin"), &bin[..keep]).expect("write");
    let image = open_cue(&dir.path().join("one-file.cue"), &Limits::default()).expect("opens truncated");
    let why = image.truncation().expect("the cut is recorded");
    assert!(why.contains("TRACK 01") && why.contains("TRACK 02") && why.contains(&keep.to_string()), "{why}");
    let t = image.tracks();
    assert_eq!((t[0].length, t[1].length), (100, 0));
    let view = image.data_track_view(1).expect("data view");
    let mut head = vec![0u8; 2048];
    read_exact_at(view.as_ref(), 0, &mut head).expect("the sectors that exist read");
    assert_eq!(head, bin[16..16 + 2048], "user data of sector 0");
    assert!(open("cue/one-file.cue").truncation().is_none(), "a whole set is not truncated");
}
