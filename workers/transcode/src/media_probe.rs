//! Confirming audio and video: open a file with libavformat, read what it
//! declares, and decode until one audio or video stream gives a frame. It
//! runs in the isolated child (rlimits, a timeout, `av_max_alloc`), like a
//! transcode, because opening and decoding hostile media runs demuxer and
//! decoder code on it.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use crate::engine::open_decoder;
use crate::error::{ErrorKind, TranscodeError};
use crate::limits::Limits;
use crate::probe::{check_limits, open_input, report_of};
use crate::report::ProbeReport;

/// Most packets read while looking for a decodable frame.
const MAX_PACKETS: usize = 4096;
/// Consecutive unreadable packets after which the demuxer is given up on.
const MAX_BAD_PACKETS: u32 = 64;

/// What the parent asks the child to probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProbeRequest {
    pub input: PathBuf,
    pub limits: Limits,
}

/// What libavformat and libavcodec made of a file that is audio or video.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaProbe {
    /// What the container declares (demuxer, streams, codecs, tags).
    pub report: ProbeReport,
    /// The stream that decoded a frame. Always there since a probe decodes
    /// a frame of every file it types (`None` in manifests of releases that
    /// typed a file whose declared values were over a limit undecoded).
    pub decoded_stream: Option<usize>,
    /// The limit the declared values cross, if any: a frame decoded, so it
    /// is media, but a transcode refuses it with this reason.
    pub over_limit: Option<String>,
    /// The libavformat version that read it, e.g. `59.27.100`.
    pub libavformat: String,
}

/// Probes `input` in the isolated child: `Ok` when libavformat opens it as
/// audio or video and a stream decodes (even when its declared values are
/// over `limits`: typing must agree with what a decoder accepts); an error of kind `NotMedia`, `Unsupported`, `Corrupt`,
/// `Timeout` or `Crashed` when no demuxer and decoder accept it; `Io` or
/// `Internal` when the probe itself could not run.
pub fn probe_media(input: &Path, limits: &Limits) -> Result<MediaProbe, TranscodeError> {
    // libavformat takes a URL: an absolute path can never read as `proto:...`.
    let input = std::path::absolute(input)
        .map_err(|e| TranscodeError::io(&format!("cannot resolve {}", input.display()), e))?;
    crate::child::run_probe(&ProbeRequest { input, limits: limits.clone() })
}

/// The child's side of [`probe_media`].
pub(crate) fn run(req: &ProbeRequest) -> Result<MediaProbe, TranscodeError> {
    crate::init()?;
    let mut ictx = open_input(&req.input)?;
    let report = report_of(&ictx)?;
    let libavformat = crate::library_versions().remove("libavformat").unwrap_or_default();
    // Declared values over a limit do not stop the probe: one frame is
    // decoded anyway, by decoders that refuse frames over
    // `max_frame_pixels`, in a child under rlimits. A header with noise
    // after it (ADTS sync declaring 40 channels) is then not media, as a
    // transcode would find it, rather than audio that fails to convert.
    let over_limit = check_limits(&report, &req.limits).err().map(|e| e.reason);
    let decoded = first_decoded_stream(&mut ictx, &report, &req.limits).map_err(|e| match &over_limit {
        Some(limit) => TranscodeError::new(e.kind, format!("{}; its header also declares: {limit}", e.reason)),
        None => e,
    })?;
    Ok(MediaProbe { report, decoded_stream: Some(decoded), over_limit, libavformat })
}

/// The first audio or video stream (cover art aside) that gives a frame.
fn first_decoded_stream(
    ictx: &mut ff::format::context::Input,
    report: &ProbeReport,
    limits: &Limits,
) -> Result<usize, TranscodeError> {
    let mut decoders = open_decoders(ictx, report, limits)?;
    let mut frame = ff::frame::Video::empty();
    let mut bad_run = 0u32;
    for _ in 0..MAX_PACKETS {
        let mut packet = ff::Packet::empty();
        match packet.read(ictx) {
            Ok(()) => bad_run = 0,
            Err(ff::Error::InvalidData) if bad_run < MAX_BAD_PACKETS => {
                bad_run += 1;
                continue;
            }
            Err(_) => break,
        }
        let Some((index, decoder)) = decoders.iter_mut().find(|(i, _)| *i == packet.stream()) else {
            continue;
        };
        if decoder.send_packet(&packet).is_ok() && decoder.receive_frame(&mut frame).is_ok() {
            return Ok(*index);
        }
    }
    for (index, decoder) in &mut decoders {
        if decoder.send_eof().is_ok() && decoder.receive_frame(&mut frame).is_ok() {
            return Ok(*index);
        }
    }
    Err(TranscodeError::new(
        ErrorKind::NotMedia,
        format!("libavformat reads it as {}, but no stream decodes", report.container),
    ))
}

/// A decoder for each audio or video stream that libavcodec has one for.
fn open_decoders(
    ictx: &ff::format::context::Input,
    report: &ProbeReport,
    limits: &Limits,
) -> Result<Vec<(usize, ff::decoder::Opened)>, TranscodeError> {
    let wanted = |s: &&crate::report::StreamInfo| matches!(s.kind.as_str(), "audio" | "video") && !s.attached_picture;
    let mut decoders = Vec::new();
    for info in report.streams.iter().filter(wanted) {
        let Some(stream) = ictx.stream(info.index) else { continue };
        let Some(codec) = ff::codec::decoder::find(stream.parameters().id()) else { continue };
        let Ok(decoder) = open_decoder(&stream, 1, limits.max_frame_pixels) else { continue };
        if let Ok(opened) = decoder.open_as(codec) {
            decoders.push((info.index, opened));
        }
    }
    if decoders.is_empty() {
        let codecs: Vec<&str> = report.streams.iter().filter(wanted).map(|s| s.codec.as_str()).collect();
        return Err(TranscodeError::new(
            ErrorKind::NotMedia,
            format!("libavformat reads it as {}, but no decoder opens its streams ({})", report.container, {
                codecs.join(", ")
            }),
        ));
    }
    Ok(decoders)
}
