//! Output validation. The encoders' packets were decoded in full while the
//! output was written ([`super::check`]); here the finished file is demuxed
//! without decoding to show that it holds exactly those packets, frame and
//! sample counts and durations are worked out as a player would see them, and
//! they are compared with what was decodable in the source.

use std::path::Path;

use ff::{Rational, Rescale};
use ffmpeg_next as ff;

use super::check::{Decoded, combined_hash};
use crate::error::{ErrorKind, TranscodeError};
use crate::probe::US;
use crate::report::{OutputStreamStats, SourceStreamStats, Validation};

/// Audio duration tolerance from the issue: 20 ms.
const AUDIO_TOLERANCE_US: i64 = 20_000;

/// What the file holds for one stream, found by demuxing only.
struct Held {
    codec: String,
    tb: Rational,
    declared_us: Option<i64>,
    frame_ticks: i64,
    packets: u64,
    first_pts: Option<i64>,
    pts_span: Option<(i64, i64)>,
    /// Samples the demuxer tells decoders to drop at the start and at the
    /// end (encoder priming and padding).
    skip: (u64, u64),
}

/// Checks the file at `path` against what its packets decoded to; returns
/// the checks and the decoded-data SHA-256.
pub(crate) fn validate(
    path: &Path,
    decoded: &[Option<Decoded>],
    source: &[SourceStreamStats],
    frame_us: Option<i64>,
) -> Result<(Validation, Option<String>), TranscodeError> {
    let held = demux(path)?;
    let mut failures = Vec::new();
    let mut streams = Vec::new();
    for i in 0..held.len().max(decoded.len()) {
        match (held.get(i).and_then(Option::as_ref), decoded.get(i).and_then(Option::as_ref)) {
            (Some(h), Some(d)) => {
                failures.extend(packet_mismatch(i, h, d));
                streams.push(stats(h, d));
            }
            (None, None) => {}
            _ => failures.push(format!("output stream {i} is not the stream that was encoded")),
        }
    }
    let video_tol = frame_us.unwrap_or(40_000);
    failures.extend(compare(source, &streams, video_tol));
    let validation = Validation {
        passed: failures.is_empty(),
        failures,
        streams,
        video_tolerance_us: video_tol,
        audio_tolerance_us: AUDIO_TOLERANCE_US,
    };
    Ok((validation, combined_hash(decoded)))
}

/// Reads every packet of the file without decoding it.
fn demux(path: &Path) -> Result<Vec<Option<Held>>, TranscodeError> {
    let mut ictx = ff::format::input(path)
        .map_err(|e| TranscodeError::new(ErrorKind::Internal, format!("output cannot be reopened: {e}")))?;
    let mut held: Vec<Option<Held>> = ictx.streams().map(|s| held_of(&s)).collect();
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ff::Error::Eof) => return Ok(held),
            Err(e) => return Err(TranscodeError::new(ErrorKind::Internal, format!("output does not demux: {e}"))),
        }
        if let Some(Some(h)) = held.get_mut(packet.stream()) {
            h.packets += 1;
            if let Some(pts) = packet.pts().or(packet.dts()) {
                h.first_pts.get_or_insert(pts);
                h.pts_span = Some(h.pts_span.map_or((pts, pts), |(a, b)| (a.min(pts), b.max(pts))));
            }
            let (start, end) = skipped_samples(&packet);
            h.skip = (h.skip.0 + start, h.skip.1 + end);
        }
    }
}

fn held_of(s: &ff::format::stream::Stream) -> Option<Held> {
    let medium = s.parameters().medium();
    if !matches!(medium, ff::media::Type::Video | ff::media::Type::Audio) {
        return None;
    }
    let rate = s.avg_frame_rate();
    let frame_ticks =
        if rate.numerator() > 0 && rate.denominator() > 0 { 1i64.rescale(rate.invert(), s.time_base()) } else { 0 };
    Some(Held {
        codec: s.parameters().id().name().to_owned(),
        tb: s.time_base(),
        declared_us: crate::probe::known(s.duration()).map(|d| d.rescale(s.time_base(), US)),
        frame_ticks,
        packets: 0,
        first_pts: None,
        pts_span: None,
        skip: (0, 0),
    })
}

/// Start and end samples a packet's side data tells the decoder to drop.
fn skipped_samples(p: &ff::Packet) -> (u64, u64) {
    let le32 = |b: &[u8]| b.try_into().map_or(0, |b: [u8; 4]| u64::from(u32::from_le_bytes(b)));
    p.side_data()
        .filter(|s| s.kind() == ff::codec::packet::side_data::Type::SkipSamples)
        .filter(|s| s.data().len() >= 8)
        .fold((0, 0), |(a, b), s| (a + le32(&s.data()[0..4]), b + le32(&s.data()[4..8])))
}

/// The file must hold as many packets as were decoded, over the same span.
fn packet_mismatch(i: usize, h: &Held, d: &Decoded) -> Option<String> {
    let span = |s: Option<(i64, i64)>| s.map(|(a, b)| b - a);
    (h.packets != d.packets || span(h.pts_span) != span(d.packet_pts)).then(|| {
        format!(
            "output stream {i} holds {} packets spanning {:?} ticks, but {} packets spanning {:?} were decoded",
            h.packets,
            span(h.pts_span),
            d.packets,
            span(d.packet_pts)
        )
    })
}

/// Counts and durations as decoding the file would give them.
fn stats(h: &Held, d: &Decoded) -> OutputStreamStats {
    let mut s = OutputStreamStats {
        kind: if d.video { "video" } else { "audio" }.into(),
        codec: h.codec.clone(),
        frames: d.frames,
        samples: 0,
        duration_us: 0,
        start_us: 0,
        shape: d.shape,
        errors: d.errors,
    };
    let rate = i64::from(d.shape[0].max(1));
    if d.video {
        let first = d.first_pts.unwrap_or(0);
        // Where the file shifted timestamps, it shifted all of them alike.
        let shift = h.pts_span.zip(d.packet_pts).map_or(0, |((a, _), (b, _))| a - b);
        s.start_us = (first + shift).rescale(h.tb, US);
        let ticks = if h.frame_ticks > 0 { h.frame_ticks } else { d.max_pts_duration.max(1) };
        s.duration_us = if d.frames == 0 { 0 } else { (d.max_pts + ticks - first).rescale(h.tb, US) };
    } else {
        s.samples = d.samples.saturating_sub(h.skip.0 + h.skip.1);
        let skip_start = i64::try_from(h.skip.0).unwrap_or(0).rescale(Rational(1, rate as i32), h.tb);
        s.start_us = h.first_pts.map_or(0, |p| (p + skip_start).rescale(h.tb, US));
        // Lossy encoders pad the last frame; the container's declared
        // duration says where presentation ends.
        let decoded = (s.samples as i64 * 1_000_000) / rate;
        s.duration_us = h.declared_us.map_or(decoded, |d| d.min(decoded));
    }
    s
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
