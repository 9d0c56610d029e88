//! The video lane: decode, convert (scale to even size, pixel format), and
//! encode with fixed settings and source timestamps.

use std::collections::BTreeMap;

use ff::{Rational, Rescale, codec, filter, format::Pixel, frame};
use ffmpeg_next as ff;

use super::{Ctx, Sink, ff_err, open_decoder};
use crate::error::TranscodeError;
use crate::policy::{VideoCodec, VideoSettings};
use crate::probe::US;
use crate::report::SourceStreamStats;

/// Frames x264's threaded lookahead keeps ready ahead of the encoder.
const X264_SYNC_LOOKAHEAD: u32 = 1;

/// Decoded frame geometry that the conversion graph was built for.
type Shape = (u32, u32, Pixel);

pub(crate) struct VideoLane {
    ist: usize,
    ist_tb: Rational,
    ost: usize,
    ost_tb: Rational,
    decoder: ff::decoder::Video,
    encoder: ff::encoder::Video,
    graph: Option<(filter::Graph, Shape)>,
    out: Shape,
    offset: i64,
    last_pts: Option<i64>,
    frame_ticks: i64,
    frames: u64,
    first_pts: Option<i64>,
    end_pts: i64,
    max_pixels: u64,
    is_x264: bool,
    pub x264_version: Option<String>,
    pub settings: BTreeMap<String, String>,
}

impl VideoLane {
    pub fn new(cx: &mut Ctx<'_>, ist: usize, v: &VideoSettings) -> Result<Self, TranscodeError> {
        let stream = cx.ictx.stream(ist).ok_or_else(|| TranscodeError::internal("video stream", "vanished"))?;
        let ist_tb = stream.time_base();
        let rate =
            [stream.avg_frame_rate(), stream.rate()].into_iter().find(|r| r.numerator() > 0 && r.denominator() > 0);
        let offset = cx.start_us.rescale(US, ist_tb);
        // As many frame threads as the encoder, as the ffmpeg CLI's
        // `-threads` gives both: decoding then overlaps the calls into the
        // encoder instead of waiting for them. Decoded frames do not depend
        // on the thread count.
        let decoder =
            open_decoder(&stream, cx.threads, cx.limits.max_frame_pixels)?.video().map_err(ff_err("video decoder"))?;
        let (w, h) = (decoder.width(), decoder.height());
        if w == 0 || h == 0 {
            return Err(TranscodeError::new(crate::ErrorKind::Corrupt, "video stream declares no frame size"));
        }
        let (codec_name, out) = match v.codec {
            VideoCodec::Libx264 => {
                let fmt = v.pix_fmt.as_deref().unwrap_or("yuv420p").parse().unwrap_or(Pixel::YUV420P);
                ("libx264", ((w & !1).max(2), (h & !1).max(2), fmt))
            }
            VideoCodec::Ffv1 => ("ffv1", (w, h, lossless_format(decoder.format()))),
        };
        let codec = ff::encoder::find_by_name(codec_name)
            .ok_or_else(|| TranscodeError::internal("encoder", format!("{codec_name} is not in this libavcodec")))?;
        let mut ost = cx.octx.add_stream(codec).map_err(ff_err("add video stream"))?;
        let ost_index = ost.index();
        let mut enc = codec::Context::new_with_codec(codec).encoder().video().map_err(ff_err("video encoder"))?;
        enc.set_width(out.0);
        enc.set_height(out.1);
        enc.set_format(out.2);
        let sar = decoder.aspect_ratio();
        if sar.numerator() > 0 && sar.denominator() > 0 {
            enc.set_aspect_ratio(sar);
        }
        enc.set_time_base(ist_tb);
        enc.set_frame_rate(rate);
        let closed_gop = super::add_codec_flags(&mut enc, cx.codec_flags).contains(codec::Flags::CLOSED_GOP);
        enc.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Frame,
            count: cx.threads,
            ..Default::default()
        });
        let mut settings = BTreeMap::new();
        let mut opts = ff::Dictionary::new();
        match v.codec {
            VideoCodec::Libx264 => {
                let crf = v.crf.unwrap_or(23).to_string();
                let preset = v.preset.clone().unwrap_or_else(|| "medium".into());
                opts.set("crf", &crf);
                opts.set("preset", &preset);
                // How far x264's lookahead thread may run ahead of the
                // encoding threads. x264's default (bframes + 1) holds three
                // more frames (about 3 MiB each at 720p), which the validation
                // decoder needs. Most streams encode to the same bytes either
                // way but short ones may not, so it is recorded.
                let sync = X264_SYNC_LOOKAHEAD.to_string();
                opts.set("x264-params", &format!("sync-lookahead={sync}"));
                settings.insert("x264_sync_lookahead".into(), sync);
                settings.insert("closed_gop".into(), closed_gop.to_string());
                settings.insert("crf".into(), crf);
                settings.insert("preset".into(), preset);
            }
            VideoCodec::Ffv1 => {
                let slices = v.slices.unwrap_or(4).to_string();
                enc.set_gop(1);
                opts.set("level", "3");
                opts.set("slicecrc", "1");
                opts.set("slices", &slices);
                settings.insert("level".into(), "3".into());
                settings.insert("slices".into(), slices);
                enc.set_color_range(decoder.color_range());
            }
        }
        settings.insert("video_codec".into(), codec_name.into());
        settings.insert("pix_fmt".into(), pix_name(out.2));
        settings.insert("size".into(), format!("{}x{}", out.0, out.1));
        settings.insert("threads".into(), cx.threads.to_string());
        let encoder = enc.open_with(opts).map_err(ff_err(codec_name))?;
        ost.set_parameters(&encoder);
        let frame_ticks = rate.map(|r| 1i64.rescale(r.invert(), ist_tb)).filter(|t| *t > 0).unwrap_or(1);
        Ok(Self {
            ist,
            ist_tb,
            ost: ost_index,
            ost_tb: ist_tb,
            decoder,
            encoder,
            graph: None,
            out,
            offset,
            last_pts: None,
            frame_ticks,
            frames: 0,
            first_pts: None,
            end_pts: 0,
            max_pixels: cx.limits.max_frame_pixels,
            is_x264: v.codec == VideoCodec::Libx264,
            x264_version: None,
            settings,
        })
    }

    pub fn input_stream(&self) -> usize {
        self.ist
    }

    /// Nominal frame duration in microseconds.
    pub fn frame_us(&self) -> i64 {
        self.frame_ticks.rescale(self.ist_tb, US).max(1)
    }

    pub fn after_header(&mut self, octx: &ff::format::context::Output) {
        if let Some(s) = octx.stream(self.ost) {
            self.ost_tb = s.time_base();
        }
    }

    pub fn send(&mut self, sink: &mut Sink<'_>, packet: Option<&ff::Packet>) -> Result<(), TranscodeError> {
        super::feed_decoder(&mut self.decoder, sink, packet, (self.ist, self.ist_tb, self.offset));
        let mut decoded = frame::Video::empty();
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            self.on_frame(sink, &mut decoded)?;
        }
        if packet.is_none() {
            if let Some((g, _)) = self.graph.as_mut() {
                if let Some(mut c) = g.get("in") {
                    let _ = c.source().flush();
                }
                self.drain_graph(sink)?;
            }
            self.encoder.send_eof().map_err(ff_err("video encoder flush"))?;
            self.drain_encoder(sink)?;
        }
        Ok(())
    }

    fn on_frame(&mut self, sink: &mut Sink<'_>, f: &mut frame::Video) -> Result<(), TranscodeError> {
        if u64::from(f.width()) * u64::from(f.height()) > self.max_pixels {
            return Err(TranscodeError::limit(format!(
                "a decoded frame is {}x{} pixels, over transcode.max_frame_pixels ({})",
                f.width(),
                f.height(),
                self.max_pixels
            )));
        }
        let mut pts =
            f.timestamp().map(|t| t - self.offset).unwrap_or_else(|| self.last_pts.map_or(0, |l| l + self.frame_ticks));
        if let Some(last) = self.last_pts.filter(|l| pts <= *l) {
            pts = last + 1;
        }
        self.last_pts = Some(pts);
        if f.is_corrupt() || f.has_decode_errors() {
            let at = pts.rescale(self.ist_tb, US);
            sink.issues.push(Some(self.ist), Some(at), None, "corrupt-frame", "decoder flagged the frame".into());
        }
        self.frames += 1;
        self.first_pts.get_or_insert(pts);
        self.end_pts = self.end_pts.max(pts + self.frame_ticks);
        f.set_pts(Some(pts));
        f.set_kind(ff::picture::Type::None);
        let shape = (f.width(), f.height(), f.format());
        if shape == self.out {
            self.graph = None;
            self.encoder.send_frame(f).map_err(ff_err("video encode"))?;
            return self.drain_encoder(sink);
        }
        if self.graph.as_ref().is_none_or(|(_, s)| *s != shape) {
            let g = build_graph(shape, f.aspect_ratio(), self.ist_tb, self.out)?;
            self.graph = Some((g, shape));
        }
        if let Some((g, _)) = self.graph.as_mut() {
            let mut src = g.get("in").ok_or_else(|| TranscodeError::internal("filter", "no source"))?;
            src.source().add(f).map_err(ff_err("video filter"))?;
        }
        self.drain_graph(sink)
    }

    fn drain_graph(&mut self, sink: &mut Sink<'_>) -> Result<(), TranscodeError> {
        let Some((g, _)) = self.graph.as_mut() else { return Ok(()) };
        let mut out = g.get("out").ok_or_else(|| TranscodeError::internal("filter", "no sink"))?;
        let mut filtered = frame::Video::empty();
        while out.sink().frame(&mut filtered).is_ok() {
            self.encoder.send_frame(&filtered).map_err(ff_err("video encode"))?;
            let mut packet = ff::Packet::empty();
            while self.encoder.receive_packet(&mut packet).is_ok() {
                write(sink, &mut packet, (self.ost, self.frame_ticks), self.ist_tb, self.ost_tb)?;
            }
        }
        Ok(())
    }

    fn drain_encoder(&mut self, sink: &mut Sink<'_>) -> Result<(), TranscodeError> {
        let mut packet = ff::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            if self.is_x264 && self.x264_version.is_none() {
                self.x264_version = packet.data().and_then(x264_version);
            }
            write(sink, &mut packet, (self.ost, self.frame_ticks), self.ist_tb, self.ost_tb)?;
        }
        Ok(())
    }

    pub fn stats(&self) -> SourceStreamStats {
        let first = self.first_pts.unwrap_or(0);
        SourceStreamStats {
            stream: self.ist,
            kind: "video".into(),
            frames: self.frames,
            samples: 0,
            decodable_duration_us: if self.frames == 0 { 0 } else { (self.end_pts - first).rescale(self.ist_tb, US) },
            first_us: first.rescale(self.ist_tb, US),
        }
    }
}

fn write(
    sink: &mut Sink<'_>,
    p: &mut ff::Packet,
    lane: (usize, i64),
    from: Rational,
    to: Rational,
) -> Result<(), TranscodeError> {
    let (ost, frame_ticks) = lane;
    // Encoders leave durations unset; without one the MP4 edit list drops the last frame.
    if p.duration() <= 0 {
        p.set_duration(frame_ticks);
    }
    p.set_stream(ost);
    p.rescale_ts(from, to);
    sink.mux(p, "write video packet")
}

fn pix_name(p: Pixel) -> String {
    crate::probe::pixel_name(ff::ffi::AVPixelFormat::from(p) as i32).unwrap_or_else(|| "unknown".into())
}

/// A pixel format FFV1 can hold without loss, close to the source's.
fn lossless_format(src: Pixel) -> Pixel {
    let src = match src {
        Pixel::YUVJ420P => Pixel::YUV420P,
        Pixel::YUVJ422P => Pixel::YUV422P,
        Pixel::YUVJ444P => Pixel::YUV444P,
        Pixel::YUVJ440P => Pixel::YUV440P,
        other => other,
    };
    let supported = ff::encoder::find_by_name("ffv1")
        .and_then(|c| c.video().ok())
        .and_then(|v| v.formats().map(|f| f.collect::<Vec<_>>()))
        .unwrap_or_default();
    if supported.contains(&src) { src } else { Pixel::YUV444P }
}

fn build_graph(input: Shape, sar: Rational, tb: Rational, out: Shape) -> Result<filter::Graph, TranscodeError> {
    let sar = if sar.numerator() > 0 && sar.denominator() > 0 { sar } else { Rational(1, 1) };
    let mut g = filter::Graph::new();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        input.0,
        input.1,
        ff::ffi::AVPixelFormat::from(input.2) as i32,
        tb.numerator(),
        tb.denominator(),
        sar.numerator(),
        sar.denominator()
    );
    let find = |n: &str| filter::find(n).ok_or_else(|| TranscodeError::internal("filter", format!("{n} missing")));
    g.add(&find("buffer")?, "in", &args).map_err(ff_err("buffer filter"))?;
    g.add(&find("buffersink")?, "out", "").map_err(ff_err("buffersink"))?;
    if let Some(mut o) = g.get("out") {
        o.set_pixel_format(out.2);
    }
    // The sink only accepts the output format, so scale converts to it.
    let spec = format!("scale=w={}:h={}:flags=bicubic+accurate_rnd+bitexact", out.0, out.1);
    g.output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(&spec))
        .map_err(ff_err("video filter graph"))?;
    g.validate().map_err(ff_err("video filter graph"))?;
    Ok(g)
}

/// The x264 build string from its SEI, e.g. `core 164 r3095 baee400`.
fn x264_version(data: &[u8]) -> Option<String> {
    let marker = b"x264 - core ";
    let at = data.windows(marker.len()).position(|w| w == marker)? + "x264 - ".len();
    let rest = &data[at..data.len().min(at + 64)];
    let end = rest.windows(3).position(|w| w == b" - ").unwrap_or(rest.len());
    std::str::from_utf8(&rest[..end]).ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn x264_version_is_read_from_sei() {
        let sei = b"\x00\x05x264 - core 164 r3095 baee400 - H.264/MPEG-4 AVC codec";
        assert_eq!(super::x264_version(sei).as_deref(), Some("core 164 r3095 baee400"));
        assert_eq!(super::x264_version(b"nothing"), None);
    }
}
