//! The work done inside the child process: probe, then one decode-encode
//! pass per policy rule, decoding each output in full as it is written, then
//! a check that the finished file holds what was decoded.

mod audio;
mod check;
mod issues;
mod validate;
mod video;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ff::Rescale;
use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, TranscodeError};
use crate::limits::Limits;
use crate::policy::{Container, Policy, Rule};
use crate::probe::{US, check_limits, open_input, report_of};
use crate::report::{
    FLAG_DAMAGED, FLAG_NOT_DETERMINISTIC, FLAG_VALIDATION_FAILED, OutputReport, ProbeReport, SourceStreamStats,
    TranscodeOutcome,
};
use audio::AudioLane;
use issues::Issues;
use video::VideoLane;

/// Consecutive unreadable packets after which the demuxer is given up on.
const MAX_CONSECUTIVE_DEMUX_ERRORS: u32 = 1000;

/// What the parent sends the child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChildRequest {
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub policy: Policy,
    pub limits: Limits,
}

/// Where an output for `rule` goes, and its temporary name while written.
pub(crate) fn output_paths(out_dir: &Path, rule: &Rule) -> (PathBuf, PathBuf) {
    let ext = rule.container.extension();
    (out_dir.join(format!("{}.{ext}", rule.name)), out_dir.join(format!(".{}.{ext}.partial", rule.name)))
}

/// Shared state for setting up the lanes of one pass.
pub(crate) struct Ctx<'a> {
    ictx: &'a ff::format::context::Input,
    octx: &'a mut ff::format::context::Output,
    limits: &'a Limits,
    threads: usize,
    start_us: i64,
    codec_flags: ff::codec::Flags,
}

/// Where lanes write packets and report problems.
pub(crate) struct Sink<'a> {
    octx: &'a mut ff::format::context::Output,
    issues: &'a mut Issues,
    check: &'a mut check::Checker,
}

impl Sink<'_> {
    /// Hands an encoded packet (in its output stream's time base) to the
    /// validation decoder and to the muxer.
    pub fn mux(&mut self, p: &ff::Packet, what: &'static str) -> Result<(), TranscodeError> {
        self.check.send(p);
        p.write_interleaved(self.octx).map_err(ff_err(what))
    }
}

pub(crate) fn ff_err(what: &'static str) -> impl Fn(ff::Error) -> TranscodeError {
    move |e| TranscodeError::internal(what, e)
}

/// Adds `flags` to those the codec context already has. libavcodec gives a
/// context its codec's own defaults when it is made (libx264's closed GOPs,
/// for one), as the ffmpeg CLI keeps them; replacing them would quietly
/// change the encode. Returns the flags now set.
pub(crate) fn add_codec_flags(ctx: &mut ff::codec::Context, flags: ff::codec::Flags) -> ff::codec::Flags {
    // SAFETY: `ctx` owns a valid AVCodecContext; `flags` is a plain int field.
    let defaults = unsafe { (*ctx.as_ptr()).flags };
    let all = ff::codec::Flags::from_bits_retain(defaults as u32) | flags;
    ctx.set_flags(all);
    all
}

/// Opens a decoder with the pixel limit set inside libavcodec, so oversized
/// frames are refused before they are allocated.
pub(crate) fn open_decoder(
    stream: &ff::format::stream::Stream,
    threads: usize,
    max_pixels: u64,
) -> Result<ff::codec::decoder::Decoder, TranscodeError> {
    let mut ctx = ff::codec::Context::from_parameters(stream.parameters()).map_err(ff_err("decoder parameters"))?;
    ctx.set_threading(ff::codec::threading::Config {
        kind: ff::codec::threading::Type::Frame,
        count: threads,
        ..Default::default()
    });
    // SAFETY: `ctx` owns a valid, not yet opened AVCodecContext; max_pixels is a plain field.
    unsafe { (*ctx.as_mut_ptr()).max_pixels = i64::try_from(max_pixels).unwrap_or(i64::MAX) };
    let mut dec = ctx.decoder();
    dec.set_packet_time_base(stream.time_base());
    Ok(dec)
}

/// Result of one pass.
struct Pass {
    source: Vec<SourceStreamStats>,
    issues: Issues,
    frame_us: Option<i64>,
    x264: Option<String>,
    settings: BTreeMap<String, String>,
    decoded: Vec<Option<check::Decoded>>,
}

/// Runs a whole job: the child's entry point.
pub(crate) fn run_job(req: &ChildRequest) -> Result<TranscodeOutcome, TranscodeError> {
    crate::init()?;
    let probe = report_of(&open_input(&req.input)?)?;
    check_limits(&probe, &req.limits)?;
    let rules = req.policy.rules_for(probe.class, probe.lossless_audio);
    if rules.is_empty() {
        return Err(TranscodeError::new(
            ErrorKind::Unsupported,
            format!("policy {} maps no output for class {:?}", req.policy.version, probe.class),
        ));
    }
    let mut outcome = TranscodeOutcome {
        probe,
        policy_version: req.policy.version.clone(),
        outputs: Vec::new(),
        issues: Vec::new(),
        issues_dropped: 0,
        damaged: Vec::new(),
        flags: Vec::new(),
        libraries: crate::library_versions(),
        child_max_rss_kib: None,
    };
    let mut all_issues = Issues::default();
    let mut frame_us: BTreeMap<usize, i64> = BTreeMap::new();
    for rule in rules {
        let (path, tmp) = output_paths(&req.out_dir, rule);
        let pass = encode(req, &outcome.probe, rule, &tmp).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        let validation = validate::validate(&tmp, &pass.decoded, &pass.source, pass.frame_us);
        let (validation, decoded_sha256) = validation.inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        std::fs::rename(&tmp, &path).map_err(|e| TranscodeError::io("cannot move output into place", e))?;
        if let Some(x) = pass.x264 {
            outcome.libraries.insert("libx264".into(), x);
        }
        for s in pass.source.iter().filter(|s| s.kind == "video") {
            frame_us.insert(s.stream, pass.frame_us.unwrap_or(40_000));
        }
        let deterministic = req.policy.deterministic(rule);
        let codecs = validation.streams.iter().map(|s| s.codec.clone()).collect();
        outcome.outputs.push(OutputReport {
            rule: rule.name.clone(),
            path,
            container: rule.container,
            codecs,
            sha256: String::new(),
            size: 0,
            decoded_sha256,
            deterministic,
            source: pass.source,
            validation,
            settings: pass.settings,
        });
        all_issues.merge(pass.issues);
    }
    finish(&mut outcome, all_issues, &frame_us);
    Ok(outcome)
}

/// Adds truncation checks, damaged ranges and flags.
fn finish(outcome: &mut TranscodeOutcome, mut issues: Issues, frame_us: &BTreeMap<usize, i64>) {
    let mut seen = std::collections::BTreeSet::new();
    let stats: Vec<SourceStreamStats> = outcome.outputs.iter().flat_map(|o| o.source.clone()).collect();
    for s in stats {
        if !seen.insert(s.stream) {
            continue;
        }
        let probed = outcome.probe.streams.get(s.stream);
        let mut declared = probed.and_then(|p| p.duration_us).or(outcome.probe.duration_us);
        // A container such as AVI states a frame count that survives truncation.
        if let (Some(n), Some(f)) = (probed.and_then(|p| p.declared_frames), frame_us.get(&s.stream)) {
            declared = declared.max(Some(n.saturating_mul(*f)));
        }
        // Declared durations are often a little off; only a gap of several
        // frames (or a quarter second of audio) counts as missing data.
        let slack = frame_us.get(&s.stream).map_or(250_000, |f| (3 * f).max(250_000));
        issues::check_truncation(&mut issues, &s, declared, slack);
    }
    outcome.damaged = issues::damaged_ranges(&issues.list, |s| frame_us.get(&s).copied().unwrap_or(20_000));
    outcome.issues = issues.list;
    outcome.issues_dropped = issues.dropped;
    if !outcome.issues.is_empty() || outcome.issues_dropped > 0 {
        outcome.flags.push(FLAG_DAMAGED.into());
    }
    if outcome.outputs.iter().any(|o| !o.validation.passed) {
        outcome.flags.push(FLAG_VALIDATION_FAILED.into());
    }
    if outcome.outputs.iter().any(|o| !o.deterministic) {
        outcome.flags.push(FLAG_NOT_DETERMINISTIC.into());
    }
}

/// One decode-encode pass for one rule.
fn encode(req: &ChildRequest, probe: &ProbeReport, rule: &Rule, tmp: &Path) -> Result<Pass, TranscodeError> {
    let mut ictx = open_input(&req.input)?;
    let vidx = rule.video.as_ref().and_then(|_| best_video(&ictx));
    let aidx = rule.audio.as_ref().and_then(|_| ictx.streams().best(ff::media::Type::Audio).map(|s| s.index()));
    if vidx.is_none() && aidx.is_none() {
        return Err(TranscodeError::new(ErrorKind::Unsupported, format!("rule {}: no stream to encode", rule.name)));
    }
    let mut octx = ff::format::output_as(tmp, rule.container.muxer()).map_err(ff_err("output"))?;
    let mut flags = ff::codec::Flags::BITEXACT;
    if octx.format().flags().contains(ff::format::Flags::GLOBAL_HEADER) {
        flags |= ff::codec::Flags::GLOBAL_HEADER;
    }
    let mut cx = Ctx {
        ictx: &ictx,
        octx: &mut octx,
        limits: &req.limits,
        threads: usize::from(req.policy.threads),
        start_us: probe.start_time_us.unwrap_or(0),
        codec_flags: flags,
    };
    let mut video = match (vidx, &rule.video) {
        (Some(i), Some(v)) => Some(VideoLane::new(&mut cx, i, v)?),
        _ => None,
    };
    let mut audio = match (aidx, &rule.audio) {
        (Some(i), Some(a)) => Some(AudioLane::new(&mut cx, i, a)?),
        _ => None,
    };
    let mut opts = ff::Dictionary::new();
    opts.set("fflags", "+bitexact");
    if matches!(rule.container, Container::Mp4 | Container::M4a) {
        opts.set("movflags", "+faststart");
    }
    octx.write_header_with(opts).map_err(ff_err("write header"))?;
    if let Some(v) = video.as_mut() {
        v.after_header(&octx);
    }
    if let Some(a) = audio.as_mut() {
        a.after_header(&octx);
    }
    let mut checker = check::Checker::start(&octx, req.policy.hashes_decoded(rule))?;
    let mut issues = Issues::default();
    let mut sink = Sink { octx: &mut octx, issues: &mut issues, check: &mut checker };
    demux(&mut ictx, &mut sink, &mut video, &mut audio, &req.limits, probe.start_time_us.unwrap_or(0))?;
    if let Some(v) = video.as_mut() {
        v.send(&mut sink, None)?;
    }
    if let Some(a) = audio.as_mut() {
        a.send(&mut sink, None)?;
    }
    octx.write_trailer().map_err(ff_err("write trailer"))?;
    let decoded = checker.finish()?;
    let mut settings = BTreeMap::new();
    let mut source = Vec::new();
    if let Some(v) = &video {
        settings.extend(v.settings.clone());
        source.push(v.stats());
    }
    if let Some(a) = &audio {
        settings.extend(a.settings.clone());
        source.push(a.stats());
    }
    let frame_us = video.as_ref().map(|v| v.frame_us());
    let x264 = video.and_then(|v| v.x264_version);
    Ok(Pass { source, issues, frame_us, x264, settings, decoded })
}

fn best_video(ictx: &ff::format::context::Input) -> Option<usize> {
    let attached =
        |s: &ff::format::stream::Stream| s.disposition().contains(ff::format::stream::Disposition::ATTACHED_PIC);
    ictx.streams()
        .best(ff::media::Type::Video)
        .filter(|s| !attached(s))
        .or_else(|| ictx.streams().find(|s| s.parameters().medium() == ff::media::Type::Video && !attached(s)))
        .map(|s| s.index())
}

/// Reads every packet and hands it to its lane, recording what fails.
fn demux(
    ictx: &mut ff::format::context::Input,
    sink: &mut Sink<'_>,
    video: &mut Option<VideoLane>,
    audio: &mut Option<AudioLane>,
    limits: &Limits,
    start_us: i64,
) -> Result<(), TranscodeError> {
    let max_us = i64::try_from(limits.max_duration.as_micros()).unwrap_or(i64::MAX);
    let mut last_us: Option<i64> = None;
    let mut bad_run = 0u32;
    loop {
        let mut packet = ff::Packet::empty();
        match packet.read(ictx) {
            Ok(()) => bad_run = 0,
            Err(ff::Error::Eof) => return Ok(()),
            Err(e) => {
                bad_run += 1;
                sink.issues.push(None, last_us, None, "demux-error", e.to_string());
                if e == ff::Error::InvalidData && bad_run < MAX_CONSECUTIVE_DEMUX_ERRORS {
                    continue;
                }
                return Ok(());
            }
        }
        let idx = packet.stream();
        let tb = ictx.stream(idx).map(|s| s.time_base()).unwrap_or(ff::Rational(1, 1));
        let at = packet.pts().or(packet.dts()).filter(|_| tb.denominator() > 0).map(|t| t.rescale(tb, US) - start_us);
        if let Some(at) = at {
            if at > max_us {
                return Err(TranscodeError::limit(format!(
                    "the media runs past transcode.max_duration ({} s)",
                    max_us / 1_000_000
                )));
            }
            last_us = Some(at);
        }
        if packet.is_corrupt() {
            sink.issues.push(
                Some(idx),
                at,
                Some(packet.position() as i64),
                "corrupt-packet",
                "demuxer flagged the packet".into(),
            );
        }
        if let Some(v) = video.as_mut().filter(|v| v.input_stream() == idx) {
            v.send(sink, Some(&packet))?;
        } else if let Some(a) = audio.as_mut().filter(|a| a.input_stream() == idx) {
            a.send(sink, Some(&packet))?;
        }
    }
}

/// Feeds a packet (or, with `None`, the end of stream) to a decoder. A
/// packet the decoder refuses is recorded as a decode issue of input stream
/// `ist` at the packet's time, and decoding goes on.
pub(crate) fn feed_decoder(
    decoder: &mut ff::decoder::Opened,
    sink: &mut Sink<'_>,
    packet: Option<&ff::Packet>,
    (ist, ist_tb, offset): (usize, ff::Rational, i64),
) {
    let res = match packet {
        Some(p) => decoder.send_packet(p),
        None => decoder.send_eof(),
    };
    if let Err(e) = res {
        let at = packet.and_then(|p| p.pts()).map(|t| (t - offset).rescale(ist_tb, US));
        sink.issues.push(Some(ist), at, packet.map(|p| p.position() as i64), "decode-error", e.to_string());
    }
}
