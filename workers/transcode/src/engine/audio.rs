//! The audio lane: decode, resample to what the encoder takes, cut into the
//! encoder's frame size, and encode. Timestamps count samples from the first
//! decoded frame, so the output is continuous even where the source skips.

use std::collections::BTreeMap;

use ff::{ChannelLayout, Rational, Rescale, codec, filter, format::Sample, frame};
use ffmpeg_next as ff;

use super::{Ctx, Sink, ff_err, open_decoder};
use crate::error::TranscodeError;
use crate::policy::{AudioCodec, AudioSettings};
use crate::probe::US;
use crate::report::SourceStreamStats;

/// Decoded audio shape the resampling graph was built for.
type Shape = (u32, Sample, u64);

pub(crate) struct AudioLane {
    ist: usize,
    ist_tb: Rational,
    ost: usize,
    ost_tb: Rational,
    enc_tb: Rational,
    decoder: ff::decoder::Audio,
    encoder: ff::encoder::Audio,
    graph: Option<(filter::Graph, Shape)>,
    out_rate: u32,
    out_format: Sample,
    out_layout: ChannelLayout,
    frame_size: Option<u32>,
    offset: i64,
    in_rate: u32,
    next_in_pts: Option<i64>,
    samples: u64,
    first_us: Option<i64>,
    max_channels: u16,
    pub settings: BTreeMap<String, String>,
}

impl AudioLane {
    pub fn new(cx: &mut Ctx<'_>, ist: usize, a: &AudioSettings) -> Result<Self, TranscodeError> {
        let stream = cx.ictx.stream(ist).ok_or_else(|| TranscodeError::internal("audio stream", "vanished"))?;
        let ist_tb = stream.time_base();
        let offset = cx.start_us.rescale(US, ist_tb);
        let decoder = open_decoder(&stream, 1, cx.limits.max_frame_pixels)?.audio().map_err(ff_err("audio decoder"))?;
        let (in_rate, in_channels) = (decoder.rate(), decoder.channels());
        if in_rate == 0 || in_channels == 0 {
            return Err(TranscodeError::new(
                crate::ErrorKind::Corrupt,
                "audio stream declares no sample rate or channels",
            ));
        }
        let name = match a.codec {
            AudioCodec::Aac => "aac",
            AudioCodec::Flac => "flac",
            AudioCodec::Mp3 => "libmp3lame",
        };
        let codec = ff::encoder::find_by_name(name)
            .ok_or_else(|| TranscodeError::internal("encoder", format!("{name} is not in this libavcodec")))?;
        let caps = codec.audio().map_err(ff_err(name))?;
        let layout = caps
            .channel_layouts()
            .map(|l| l.best(i32::from(in_channels)))
            .unwrap_or_else(|| ChannelLayout::default(i32::from(in_channels)));
        let rate = pick_rate(caps.rates().map(|r| r.collect()).unwrap_or_default(), in_rate);
        let formats: Vec<Sample> = caps.formats().map(|f| f.collect()).unwrap_or_default();
        let format = pick_format(a.codec, &formats, decoder.format());
        let mut ost = cx.octx.add_stream(codec).map_err(ff_err("add audio stream"))?;
        let ost_index = ost.index();
        let mut enc = codec::Context::new_with_codec(codec).encoder().audio().map_err(ff_err("audio encoder"))?;
        enc.set_rate(rate as i32);
        enc.set_channel_layout(layout);
        enc.set_channels(layout.channels());
        enc.set_format(format);
        enc.set_time_base(Rational(1, rate as i32));
        super::add_codec_flags(&mut enc, cx.codec_flags);
        let mut settings = BTreeMap::new();
        let mut opts = ff::Dictionary::new();
        if let Some(b) = a.bitrate.filter(|_| a.codec != AudioCodec::Flac) {
            enc.set_bit_rate(b as usize);
            settings.insert("audio_bitrate".into(), b.to_string());
        }
        if let Some(level) = a.compression_level.filter(|_| a.codec == AudioCodec::Flac) {
            opts.set("compression_level", &level.to_string());
            settings.insert("compression_level".into(), level.to_string());
        }
        settings.insert("audio_codec".into(), name.into());
        settings.insert("sample_rate".into(), rate.to_string());
        settings.insert("channels".into(), layout.channels().to_string());
        let encoder = enc.open_with(opts).map_err(ff_err(name))?;
        ost.set_parameters(&encoder);
        let variable = codec.capabilities().contains(codec::capabilities::Capabilities::VARIABLE_FRAME_SIZE);
        let frame_size = (!variable && encoder.frame_size() > 0).then(|| encoder.frame_size());
        Ok(Self {
            ist,
            ist_tb,
            ost: ost_index,
            ost_tb: Rational(1, rate as i32),
            enc_tb: Rational(1, rate as i32),
            decoder,
            encoder,
            graph: None,
            out_rate: rate,
            out_format: format,
            out_layout: layout,
            frame_size,
            offset,
            in_rate,
            next_in_pts: None,
            samples: 0,
            first_us: None,
            max_channels: cx.limits.max_channels,
            settings,
        })
    }

    pub fn input_stream(&self) -> usize {
        self.ist
    }

    pub fn after_header(&mut self, octx: &ff::format::context::Output) {
        if let Some(s) = octx.stream(self.ost) {
            self.ost_tb = s.time_base();
        }
    }

    pub fn send(&mut self, sink: &mut Sink<'_>, packet: Option<&ff::Packet>) -> Result<(), TranscodeError> {
        super::feed_decoder(&mut self.decoder, sink, packet, (self.ist, self.ist_tb, self.offset));
        let mut decoded = frame::Audio::empty();
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
            self.encoder.send_eof().map_err(ff_err("audio encoder flush"))?;
            self.drain_encoder(sink)?;
        }
        Ok(())
    }

    fn on_frame(&mut self, sink: &mut Sink<'_>, f: &mut frame::Audio) -> Result<(), TranscodeError> {
        if f.rate() == 0 || f.channels() == 0 {
            return Err(TranscodeError::new(
                crate::ErrorKind::Corrupt,
                format!("decoded audio has {} channels at {} Hz", f.channels(), f.rate()),
            ));
        }
        if f.channels() > self.max_channels {
            return Err(TranscodeError::limit(format!(
                "decoded audio has {} channels, over transcode.max_channels ({})",
                f.channels(),
                self.max_channels
            )));
        }
        if f.is_corrupt() || f.has_decode_errors() {
            let at = f.timestamp().map(|t| (t - self.offset).rescale(self.ist_tb, US));
            sink.issues.push(Some(self.ist), at, None, "corrupt-frame", "decoder flagged the frame".into());
        }
        if f.channel_layout().is_empty() || f.channel_layout().channels() != i32::from(f.channels()) {
            f.set_channel_layout(ChannelLayout::default(i32::from(f.channels())));
        }
        let shape = (f.rate(), f.format(), f.channel_layout().bits());
        if self.graph.as_ref().is_some_and(|(_, s)| *s != shape) {
            sink.issues.push(
                Some(self.ist),
                self.first_us,
                None,
                "format-change",
                format!("audio changed to {shape:?}"),
            );
        }
        if self.graph.as_ref().is_none_or(|(_, s)| *s != shape) {
            let new_tb = Rational(1, f.rate() as i32);
            let start = match self.next_in_pts {
                Some(p) => p.rescale(Rational(1, self.in_rate as i32), new_tb),
                None => f.timestamp().map_or(0, |t| (t - self.offset).rescale(self.ist_tb, new_tb).max(0)),
            };
            self.in_rate = f.rate();
            self.next_in_pts = Some(start);
            self.graph = Some((self.build_graph(shape)?, shape));
        }
        let pts = self.next_in_pts.unwrap_or(0);
        self.first_us.get_or_insert_with(|| pts.rescale(Rational(1, self.in_rate as i32), US));
        f.set_pts(Some(pts));
        self.next_in_pts = Some(pts + f.samples() as i64);
        self.samples += f.samples() as u64;
        if let Some((g, _)) = self.graph.as_mut() {
            let mut src = g.get("in").ok_or_else(|| TranscodeError::internal("filter", "no source"))?;
            src.source().add(f).map_err(ff_err("audio filter"))?;
        }
        self.drain_graph(sink)
    }

    fn build_graph(&self, (rate, format, bits): Shape) -> Result<filter::Graph, TranscodeError> {
        let mut g = filter::Graph::new();
        let fmt_name = crate::probe::sample_name(ff::ffi::AVSampleFormat::from(format) as i32).unwrap_or_default();
        let args = format!("time_base=1/{rate}:sample_rate={rate}:sample_fmt={fmt_name}:channel_layout=0x{bits:x}");
        let find = |n: &str| filter::find(n).ok_or_else(|| TranscodeError::internal("filter", format!("{n} missing")));
        g.add(&find("abuffer")?, "in", &args).map_err(ff_err("abuffer"))?;
        g.add(&find("abuffersink")?, "out", "").map_err(ff_err("abuffersink"))?;
        if let Some(mut o) = g.get("out") {
            o.set_sample_format(self.out_format);
            o.set_channel_layout(self.out_layout);
            o.set_sample_rate(self.out_rate);
        }
        let spec = format!("aresample={}", self.out_rate);
        g.output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&spec))
            .map_err(ff_err("audio filter graph"))?;
        g.validate().map_err(ff_err("audio filter graph"))?;
        if let (Some(n), Some(mut o)) = (self.frame_size, g.get("out")) {
            o.sink().set_frame_size(n);
        }
        Ok(g)
    }

    fn drain_graph(&mut self, sink: &mut Sink<'_>) -> Result<(), TranscodeError> {
        let Some((g, _)) = self.graph.as_mut() else { return Ok(()) };
        let mut out = g.get("out").ok_or_else(|| TranscodeError::internal("filter", "no sink"))?;
        let mut filtered = frame::Audio::empty();
        while out.sink().frame(&mut filtered).is_ok() {
            self.encoder.send_frame(&filtered).map_err(ff_err("audio encode"))?;
            let mut packet = ff::Packet::empty();
            while self.encoder.receive_packet(&mut packet).is_ok() {
                packet.set_stream(self.ost);
                packet.rescale_ts(self.enc_tb, self.ost_tb);
                sink.mux(&packet, "write audio packet")?;
            }
        }
        Ok(())
    }

    fn drain_encoder(&mut self, sink: &mut Sink<'_>) -> Result<(), TranscodeError> {
        let mut packet = ff::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.ost);
            packet.rescale_ts(self.enc_tb, self.ost_tb);
            sink.mux(&packet, "write audio packet")?;
        }
        Ok(())
    }

    pub fn stats(&self) -> SourceStreamStats {
        let rate = i64::from(self.in_rate.max(1));
        SourceStreamStats {
            stream: self.ist,
            kind: "audio".into(),
            frames: 0,
            samples: self.samples,
            decodable_duration_us: i64::try_from(u128::from(self.samples) * 1_000_000 / rate as u128)
                .unwrap_or(i64::MAX),
            first_us: self.first_us.unwrap_or(0),
        }
    }
}

/// The source rate when the encoder takes it, else the closest higher one.
fn pick_rate(supported: Vec<i32>, source: u32) -> u32 {
    if supported.is_empty() || supported.contains(&(source as i32)) {
        return source;
    }
    let mut rates: Vec<u32> = supported.into_iter().filter(|r| *r > 0).map(|r| r as u32).collect();
    rates.sort_unstable();
    rates.iter().copied().find(|r| *r >= source).or(rates.last().copied()).unwrap_or(source)
}

/// FLAC keeps 16-bit sources at 16 bits and everything else at 32; lossy
/// encoders take their first listed format.
fn pick_format(codec: AudioCodec, supported: &[Sample], source: Sample) -> Sample {
    use ff::format::sample::Type;
    if codec == AudioCodec::Flac {
        let s16 = matches!(source, Sample::U8(_) | Sample::I16(_));
        let want = if s16 { Sample::I16(Type::Packed) } else { Sample::I32(Type::Packed) };
        if supported.contains(&want) {
            return want;
        }
    }
    supported.first().copied().unwrap_or(Sample::F32(Type::Planar))
}
