//! Output validation: decode every stream of an output in full, count frames
//! and samples, hash the decoded data, and compare durations with what was
//! decodable in the source.

use std::path::Path;

use ff::{Rational, Rescale, frame};
use ffmpeg_next as ff;
use sha2::{Digest, Sha256};

use super::{ff_err, open_decoder};
use crate::error::{ErrorKind, TranscodeError};
use crate::probe::US;
use crate::report::{OutputStreamStats, SourceStreamStats, Validation};

/// Audio duration tolerance from the issue: 20 ms.
const AUDIO_TOLERANCE_US: i64 = 20_000;

enum Dec {
    Video(ff::decoder::Video),
    Audio(ff::decoder::Audio),
}

struct Track {
    dec: Dec,
    tb: Rational,
    stats: OutputStreamStats,
    first: Option<i64>,
    end: i64,
    declared_us: Option<i64>,
    frame_ticks: i64,
}

/// Decodes `path` in full; returns the checks and the decoded-data SHA-256.
pub(crate) fn validate(
    path: &Path,
    source: &[SourceStreamStats],
    frame_us: Option<i64>,
) -> Result<(Validation, String), TranscodeError> {
    let mut ictx = ff::format::input(path)
        .map_err(|e| TranscodeError::new(ErrorKind::Internal, format!("output cannot be reopened: {e}")))?;
    let mut tracks: Vec<Option<Track>> = Vec::new();
    for s in ictx.streams() {
        tracks.push(open_track(&s)?);
    }
    let mut hash = Sha256::new();
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) => return Err(TranscodeError::new(ErrorKind::Internal, format!("output does not demux: {e}"))),
        }
        if let Some(Some(t)) = tracks.get_mut(packet.stream()) {
            feed(t, Some(&packet), packet.stream(), &mut hash);
        }
    }
    for (i, t) in tracks.iter_mut().enumerate() {
        if let Some(t) = t {
            feed(t, None, i, &mut hash);
        }
    }
    let streams: Vec<OutputStreamStats> = tracks
        .into_iter()
        .flatten()
        .map(|mut t| {
            t.stats.start_us = t.first.map_or(0, |f| f.rescale(t.tb, US));
            t.stats.duration_us = match t.dec {
                Dec::Video(_) => t.first.map_or(0, |f| (t.end - f).rescale(t.tb, US)),
                // Lossy encoders pad the last frame; the container's
                // declared duration says where presentation ends.
                Dec::Audio(_) => {
                    let decoded = (t.stats.samples as i64 * 1_000_000) / i64::from(t.stats.shape[0].max(1));
                    t.declared_us.map_or(decoded, |d| d.min(decoded))
                }
            };
            t.stats
        })
        .collect();
    let video_tol = frame_us.unwrap_or(40_000);
    let failures = compare(source, &streams, video_tol);
    let validation = Validation {
        passed: failures.is_empty(),
        failures,
        streams,
        video_tolerance_us: video_tol,
        audio_tolerance_us: AUDIO_TOLERANCE_US,
    };
    Ok((validation, hex::encode(hash.finalize())))
}

fn open_track(s: &ff::format::stream::Stream) -> Result<Option<Track>, TranscodeError> {
    let medium = s.parameters().medium();
    let codec = s.parameters().id().name().to_owned();
    let dec = match medium {
        ff::media::Type::Video => {
            Dec::Video(open_decoder(s, 2, u64::MAX)?.video().map_err(ff_err("output video decoder"))?)
        }
        ff::media::Type::Audio => {
            Dec::Audio(open_decoder(s, 1, u64::MAX)?.audio().map_err(ff_err("output audio decoder"))?)
        }
        _ => return Ok(None),
    };
    let kind = if matches!(dec, Dec::Video(_)) { "video" } else { "audio" };
    let stats = OutputStreamStats {
        kind: kind.into(),
        codec,
        frames: 0,
        samples: 0,
        duration_us: 0,
        start_us: 0,
        shape: [0, 0],
        errors: 0,
    };
    let declared_us = crate::probe::known(s.duration()).map(|d| d.rescale(s.time_base(), US));
    let rate = s.avg_frame_rate();
    let frame_ticks =
        if rate.numerator() > 0 && rate.denominator() > 0 { 1i64.rescale(rate.invert(), s.time_base()) } else { 0 };
    Ok(Some(Track { dec, tb: s.time_base(), stats, first: None, end: 0, declared_us, frame_ticks }))
}

fn feed(t: &mut Track, packet: Option<&ff::Packet>, index: usize, hash: &mut Sha256) {
    match &mut t.dec {
        Dec::Video(d) => {
            let sent = match packet {
                Some(p) => d.send_packet(p),
                None => d.send_eof(),
            };
            t.stats.errors += u64::from(sent.is_err());
            let mut f = frame::Video::empty();
            while d.receive_frame(&mut f).is_ok() {
                t.stats.frames += 1;
                t.stats.errors += u64::from(f.is_corrupt() || f.has_decode_errors());
                t.stats.shape = [f.width(), f.height()];
                let pts = f.timestamp().unwrap_or(0);
                t.first = Some(t.first.map_or(pts, |x| x.min(pts)));
                let dur = if t.frame_ticks > 0 { t.frame_ticks } else { frame_duration(&f).max(1) };
                t.end = t.end.max(pts + dur);
                hash_video(hash, index, &f);
            }
        }
        Dec::Audio(d) => {
            let sent = match packet {
                Some(p) => d.send_packet(p),
                None => d.send_eof(),
            };
            t.stats.errors += u64::from(sent.is_err());
            let mut f = frame::Audio::empty();
            while d.receive_frame(&mut f).is_ok() {
                t.stats.samples += f.samples() as u64;
                t.stats.errors += u64::from(f.is_corrupt() || f.has_decode_errors());
                t.stats.shape = [f.rate(), u32::from(f.channels())];
                if t.first.is_none() {
                    t.first = f.timestamp();
                }
                hash_audio(hash, index, &f);
            }
        }
    }
}

fn frame_duration(f: &frame::Video) -> i64 {
    // SAFETY: a decoded frame; `pkt_duration` is a plain field (`duration` in newer FFmpeg).
    #[allow(deprecated)]
    unsafe {
        (*f.as_ptr()).pkt_duration
    }
}

fn hash_video(hash: &mut Sha256, index: usize, f: &frame::Video) {
    hash.update((index as u32).to_le_bytes());
    let fmt = ff::ffi::AVPixelFormat::from(f.format());
    for plane in 0..f.planes() {
        // SAFETY: pure function of format and width.
        let row = unsafe { ff::ffi::av_image_get_linesize(fmt, f.width() as i32, plane as i32) };
        let (Ok(row), stride) = (usize::try_from(row), f.stride(plane)) else { continue };
        let data = f.data(plane);
        for y in 0..f.plane_height(plane) as usize {
            if let Some(r) = data.get(y * stride..y * stride + row.min(stride)) {
                hash.update(r);
            }
        }
    }
}

fn hash_audio(hash: &mut Sha256, index: usize, f: &frame::Audio) {
    hash.update((index as u32).to_le_bytes());
    // SAFETY: pure function of the sample format.
    let bps = unsafe { ff::ffi::av_get_bytes_per_sample(ff::ffi::AVSampleFormat::from(f.format())) };
    let bps = usize::try_from(bps).unwrap_or(0);
    let per_plane = if f.is_planar() { f.samples() * bps } else { f.samples() * bps * usize::from(f.channels()) };
    for plane in 0..f.planes() {
        let data = f.data(plane);
        hash.update(&data[..per_plane.min(data.len())]);
    }
}

/// The checks the issue asks for, as failure messages.
fn compare(source: &[SourceStreamStats], out: &[OutputStreamStats], video_tol: i64) -> Vec<String> {
    let mut failures = Vec::new();
    for o in out.iter().filter(|o| o.errors > 0) {
        failures.push(format!("output {} stream has {} decode errors", o.kind, o.errors));
    }
    for s in source {
        let Some(o) = out.iter().find(|o| o.kind == s.kind) else {
            failures.push(format!("output has no {} stream", s.kind));
            continue;
        };
        let tol = if s.kind == "video" { video_tol } else { AUDIO_TOLERANCE_US };
        let diff = (o.duration_us - s.decodable_duration_us).abs();
        if s.kind == "video" && diff > tol {
            failures.push(format!(
                "video duration {} µs differs from the decodable source's {} µs by more than {tol} µs",
                o.duration_us, s.decodable_duration_us
            ));
        }
        // Audio is compared by where it ends: when the source audio starts
        // late, the MP4 muxer cannot hide AAC's 1024 priming samples, which
        // then play (silent) before the first source sample.
        let (out_end, src_end) = (o.start_us + o.duration_us, s.first_us + s.decodable_duration_us);
        if s.kind == "audio" && ((out_end - src_end).abs() > tol || o.start_us > s.first_us + tol) {
            failures.push(format!(
                "audio spans {}..{out_end} µs but the decodable source spans {}..{src_end} µs (tolerance {tol} µs)",
                o.start_us, s.first_us
            ));
        }
        if s.kind == "video" && o.frames != s.frames {
            failures.push(format!("output has {} video frames, the source decoded {}", o.frames, s.frames));
        }
    }
    failures
}
