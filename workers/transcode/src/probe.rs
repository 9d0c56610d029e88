//! Probing: what the source declares, read with libavformat. Nothing here
//! decodes; values are bounded and checked against [`Limits`] before any
//! decoder allocates a frame.

use std::collections::BTreeMap;
use std::path::Path;

use ff::{Rational, Rescale};
use ffmpeg_next as ff;

use crate::error::{ErrorKind, TranscodeError};
use crate::limits::Limits;
use crate::policy::InputClass;
use crate::report::{ProbeReport, StreamInfo};

/// Most tags kept per container or stream.
const MAX_TAGS: usize = 128;
/// Longest tag value kept, in characters.
const MAX_TAG_CHARS: usize = 1024;
/// Microsecond time base.
pub(crate) const US: Rational = Rational(1, 1_000_000);

/// Reads what a media file declares: container, streams, codecs, duration,
/// resolution, frame rate, sample rate, channels and tags.
pub fn probe(input: &Path) -> Result<ProbeReport, TranscodeError> {
    crate::init()?;
    let ictx = open_input(input)?;
    report_of(&ictx)
}

/// Opens a source, mapping failures to typed errors.
pub(crate) fn open_input(input: &Path) -> Result<ff::format::context::Input, TranscodeError> {
    let meta =
        std::fs::metadata(input).map_err(|e| TranscodeError::io(&format!("cannot stat {}", input.display()), e))?;
    if !meta.is_file() {
        return Err(TranscodeError::new(ErrorKind::NotMedia, format!("{} is not a regular file", input.display())));
    }
    if meta.len() == 0 {
        return Err(TranscodeError::new(ErrorKind::Empty, format!("{} is empty (0 bytes)", input.display())));
    }
    ff::format::input(input).map_err(|e| match e {
        ff::Error::InvalidData | ff::Error::DemuxerNotFound | ff::Error::Eof => TranscodeError::new(
            ErrorKind::NotMedia,
            format!("{} is not audio or video that libavformat recognises ({e})", input.display()),
        ),
        other => TranscodeError::new(ErrorKind::Corrupt, format!("cannot open {}: {other}", input.display())),
    })
}

/// Builds the report for an open source.
pub(crate) fn report_of(ictx: &ff::format::context::Input) -> Result<ProbeReport, TranscodeError> {
    let streams: Vec<StreamInfo> = ictx.streams().map(|s| stream_info(&s)).collect();
    let tags = bounded_tags(ictx.metadata());
    let creation_time = tags
        .get("creation_time")
        .cloned()
        .or_else(|| streams.iter().find_map(|s| s.tags.get("creation_time").cloned()));
    let format = ictx.format();
    let container = format.name().to_owned();
    if container.ends_with("_pipe") || container == "image2" {
        return Err(TranscodeError::new(
            ErrorKind::Unsupported,
            format!("a still image ({container}) is not audio or video; the policy maps no output"),
        ));
    }
    let (class, lossless_audio) = classify(&container, &streams)?;
    Ok(ProbeReport {
        container,
        container_long_name: format.description().to_owned(),
        duration_us: known(ictx.duration()),
        start_time_us: known(unsafe_start_time(ictx)),
        bit_rate: known(ictx.bit_rate()).filter(|b| *b > 0),
        streams,
        tags,
        creation_time,
        class,
        lossless_audio,
    })
}

fn unsafe_start_time(ictx: &ff::format::context::Input) -> i64 {
    // SAFETY: `ictx` owns a valid, opened AVFormatContext; reading a plain field.
    unsafe { (*ictx.as_ptr()).start_time }
}

/// `None` for AV_NOPTS_VALUE and other negative "unknown" markers.
pub(crate) fn known(v: i64) -> Option<i64> {
    (v != ff::ffi::AV_NOPTS_VALUE && v >= 0).then_some(v)
}

fn rational(r: Rational) -> Option<[i32; 2]> {
    (r.numerator() > 0 && r.denominator() > 0).then_some([r.numerator(), r.denominator()])
}

fn stream_info(s: &ff::format::stream::Stream) -> StreamInfo {
    let params = s.parameters();
    let medium = params.medium();
    // SAFETY: the parameters belong to a stream of an open input context and
    // stay valid for this borrow; we read plain integer fields only.
    let (width, height, format, sample_rate, channels, bit_rate) = unsafe {
        let p = &*params.as_ptr();
        (p.width, p.height, p.format, p.sample_rate, p.channels, p.bit_rate)
    };
    let tb = s.time_base();
    let kind = match medium {
        ff::media::Type::Video => "video",
        ff::media::Type::Audio => "audio",
        ff::media::Type::Subtitle => "subtitle",
        ff::media::Type::Data => "data",
        ff::media::Type::Attachment => "attachment",
        _ => "unknown",
    };
    let video = medium == ff::media::Type::Video;
    let audio = medium == ff::media::Type::Audio;
    StreamInfo {
        index: s.index(),
        kind: kind.to_owned(),
        codec: params.id().name().to_owned(),
        time_base: [tb.numerator(), tb.denominator()],
        duration_us: known(s.duration()).filter(|_| tb.denominator() > 0).map(|d| d.rescale(tb, US)),
        declared_frames: (s.frames() > 0).then_some(s.frames()),
        bit_rate: (bit_rate > 0).then_some(bit_rate),
        width: (video && width > 0).then_some(width as u32),
        height: (video && height > 0).then_some(height as u32),
        pix_fmt: video.then(|| pixel_name(format)).flatten(),
        frame_rate: video.then(|| rational(s.rate())).flatten(),
        avg_frame_rate: video.then(|| rational(s.avg_frame_rate())).flatten(),
        sample_rate: (audio && sample_rate > 0).then_some(sample_rate as u32),
        channels: (audio && channels > 0).then_some(channels.min(u16::MAX as i32) as u16),
        sample_fmt: audio.then(|| sample_name(format)).flatten(),
        attached_picture: s.disposition().contains(ff::format::stream::Disposition::ATTACHED_PIC),
        tags: bounded_tags(s.metadata()),
    }
}

// libavutil's name look-ups, declared over a plain C `int`. A C enum is an
// `int` in the ABI, and both functions bounds-check it and return NULL for
// values they do not know. ffmpeg-sys declares them over Rust enums, and
// turning a value read from the media into a Rust enum that lacks it is
// undefined behaviour, so these declarations keep the raw value raw.
unsafe extern "C" {
    fn av_get_pix_fmt_name(pix_fmt: std::ffi::c_int) -> *const std::ffi::c_char;
    fn av_get_sample_fmt_name(sample_fmt: std::ffi::c_int) -> *const std::ffi::c_char;
}

/// The name libavutil gives a pixel format number, or `None` for a number
/// it does not know (any value is safe to ask about).
pub(crate) fn pixel_name(raw: i32) -> Option<String> {
    // SAFETY: the function takes any int and returns NULL when out of range.
    c_name(unsafe { av_get_pix_fmt_name(raw) })
}

/// The name libavutil gives a sample format number, or `None`.
pub(crate) fn sample_name(raw: i32) -> Option<String> {
    // SAFETY: as above, for sample formats.
    c_name(unsafe { av_get_sample_fmt_name(raw) })
}

fn c_name(p: *const std::ffi::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null names from libavutil are static NUL-terminated strings.
    Some(unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

fn bounded_tags(dict: ff::DictionaryRef<'_>) -> BTreeMap<String, String> {
    dict.iter()
        .take(MAX_TAGS)
        .map(|(k, v)| (k.chars().take(128).collect(), v.chars().take(MAX_TAG_CHARS).collect()))
        .collect()
}

fn is_lossless(codec: &str) -> bool {
    codec.starts_with("pcm_")
        || matches!(codec, "flac" | "alac" | "wavpack" | "ape" | "tta" | "mlp" | "truehd" | "shorten" | "tak")
}

fn classify(container: &str, streams: &[StreamInfo]) -> Result<(InputClass, bool), TranscodeError> {
    let video = streams.iter().any(|s| s.kind == "video" && !s.attached_picture);
    let audio: Vec<&StreamInfo> = streams.iter().filter(|s| s.kind == "audio").collect();
    let lossless = audio.first().is_some_and(|a| is_lossless(&a.codec));
    if video {
        return Ok((InputClass::Video, lossless));
    }
    let Some(first) = audio.first() else {
        return Err(TranscodeError::new(
            ErrorKind::NotMedia,
            format!("{container}: no audio or video stream (streams: {})", streams.len()),
        ));
    };
    let cdda = container == "wav"
        && audio.len() == 1
        && first.codec == "pcm_s16le"
        && first.sample_rate == Some(44_100)
        && first.channels == Some(2);
    Ok((if cdda { InputClass::Cdda } else { InputClass::Audio }, lossless))
}

/// Checks declared values against the limits before decoding.
pub(crate) fn check_limits(report: &ProbeReport, limits: &Limits) -> Result<(), TranscodeError> {
    let max_us = i64::try_from(limits.max_duration.as_micros()).unwrap_or(i64::MAX);
    if let Some(d) = report.duration_us.filter(|d| *d > max_us) {
        return Err(TranscodeError::limit(format!(
            "it declares a duration of {} s, over transcode.max_duration ({} s)",
            d / 1_000_000,
            max_us / 1_000_000
        )));
    }
    for s in &report.streams {
        let pixels = u64::from(s.width.unwrap_or(0)) * u64::from(s.height.unwrap_or(0));
        if pixels > limits.max_frame_pixels {
            return Err(TranscodeError::limit(format!(
                "stream {} declares {}x{} = {pixels} pixels per frame, over transcode.max_frame_pixels ({})",
                s.index,
                s.width.unwrap_or(0),
                s.height.unwrap_or(0),
                limits.max_frame_pixels
            )));
        }
        if let Some(rate) = s.sample_rate.filter(|r| *r > limits.max_sample_rate) {
            return Err(TranscodeError::limit(format!(
                "stream {} declares a sample rate of {rate} Hz, over transcode.max_sample_rate ({})",
                s.index, limits.max_sample_rate
            )));
        }
        if let Some(channels) = s.channels.filter(|c| *c > limits.max_channels) {
            return Err(TranscodeError::limit(format!(
                "stream {} declares {channels} audio channels, over transcode.max_channels ({})",
                s.index, limits.max_channels
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_format_numbers_have_their_libavutil_names() {
        let yuv420p = ff::ffi::AVPixelFormat::AV_PIX_FMT_YUV420P as i32;
        let s16 = ff::ffi::AVSampleFormat::AV_SAMPLE_FMT_S16 as i32;
        assert_eq!(pixel_name(yuv420p).as_deref(), Some("yuv420p"));
        assert_eq!(sample_name(s16).as_deref(), Some("s16"));
    }

    #[test]
    fn format_numbers_outside_the_enums_are_unknown_not_undefined_behaviour() {
        // A stream's format field is whatever the demuxer stored; hostile
        // media can leave any int there.
        for raw in [-1, -2, 1_000, 0x7fff, i32::MAX, i32::MIN] {
            assert_eq!(pixel_name(raw), None, "pixel format {raw}");
            assert_eq!(sample_name(raw), None, "sample format {raw}");
        }
        assert_eq!(sample_name(ff::ffi::AVSampleFormat::AV_SAMPLE_FMT_NB as i32), None);
    }
}
