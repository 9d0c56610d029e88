//! Decoding an output while it is written. Every packet the encoders hand to
//! the muxer is also sent, through a byte-bounded queue, to one validation
//! thread that decodes it in full, counts frames and samples, and hashes the
//! decoded data. This uses the CPU the encoders leave idle instead of
//! decoding the finished file afterwards; [`super::validate`] then checks
//! cheaply that the file holds exactly these packets.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use ff::frame;
use ffmpeg_next as ff;
use sha2::{Digest, Sha256};

use super::ff_err;
use crate::error::TranscodeError;

/// Most compressed bytes waiting for the validation thread; the encoder
/// waits beyond this, so a slow decode cannot grow memory without bound.
const QUEUE_BYTES: usize = 8 << 20;
/// Packets are handed over in batches of this many, or of
/// [`BATCH_BYTES`], so the threads do not wake each other for every packet.
const BATCH_PACKETS: usize = 64;
const BATCH_BYTES: usize = 1 << 20;

/// What decoding one output stream found.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub video: bool,
    pub frames: u64,
    pub samples: u64,
    pub errors: u64,
    pub shape: [u32; 2],
    /// Frame timestamps (stream time base): first, greatest, and the
    /// duration the frame with the greatest one carried.
    pub first_pts: Option<i64>,
    pub max_pts: i64,
    pub max_pts_duration: i64,
    /// Packets sent, and the span of their timestamps.
    pub packets: u64,
    pub packet_pts: Option<(i64, i64)>,
    /// SHA-256 of the decoded data, when asked for.
    pub hash: Option<Vec<u8>>,
}

enum Dec {
    Video(ff::decoder::Video),
    Audio(ff::decoder::Audio),
}

struct Track {
    dec: Dec,
    out: Decoded,
    hash: Option<Sha256>,
}

/// Packets handed over together, with their total size.
#[derive(Default)]
struct Batch {
    packets: Vec<ff::Packet>,
    bytes: usize,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Batch>,
    bytes: usize,
    closed: bool,
}

/// A queue of packet batches bounded by their total size.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
}

impl Shared {
    fn push(&self, b: Batch) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        while !q.items.is_empty() && q.bytes + b.bytes > QUEUE_BYTES && !q.closed {
            q = self.changed.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
        q.bytes += b.bytes;
        q.items.push_back(b);
        self.changed.notify_all();
    }

    /// The next batch, or `None` once closed and empty.
    fn pop(&self) -> Option<Batch> {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(b) = q.items.pop_front() {
                q.bytes -= b.bytes;
                self.changed.notify_all();
                return Some(b);
            }
            if q.closed {
                return None;
            }
            q = self.changed.wait(q).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn close(&self) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        self.changed.notify_all();
    }
}

/// The validation thread of one output.
pub(crate) struct Checker {
    shared: Arc<Shared>,
    batch: Batch,
    thread: Option<JoinHandle<Vec<Option<Decoded>>>>,
}

impl Checker {
    /// Opens a decoder for each audio and video stream of `octx` (call it
    /// after the header is written, when codec parameters are final) and
    /// starts the thread. With `hash`, the decoded data is hashed too.
    pub fn start(octx: &ff::format::context::Output, hash: bool) -> Result<Self, TranscodeError> {
        let tracks = octx.streams().map(|s| open_track(&s, hash)).collect::<Result<Vec<_>, _>>()?;
        let shared = Arc::new(Shared::default());
        let queue = Arc::clone(&shared);
        let span = tracing::info_span!("validate-decode");
        let thread = std::thread::Builder::new()
            .name("validate".into())
            .spawn(move || span.in_scope(|| run(&queue, tracks)))
            .map_err(|e| TranscodeError::io("cannot start the validation thread", e))?;
        Ok(Self { shared, batch: Batch::default(), thread: Some(thread) })
    }

    /// Queues a copy of `p` (already in its output stream's time base).
    /// Packets without payload are skipped: muxers take them as header
    /// updates (FLAC's final STREAMINFO), not as media.
    pub fn send(&mut self, p: &ff::Packet) {
        if p.size() == 0 {
            return;
        }
        self.batch.bytes += p.size();
        self.batch.packets.push(p.clone());
        if self.batch.packets.len() >= BATCH_PACKETS || self.batch.bytes >= BATCH_BYTES {
            self.shared.push(std::mem::take(&mut self.batch));
        }
    }

    /// Flushes the decoders and returns what each output stream decoded,
    /// by stream index (`None` for streams that are neither audio nor video).
    pub fn finish(mut self) -> Result<Vec<Option<Decoded>>, TranscodeError> {
        self.shared.push(std::mem::take(&mut self.batch));
        self.shared.close();
        let thread = self.thread.take().ok_or_else(|| TranscodeError::internal("validation", "already finished"))?;
        thread.join().map_err(|_| TranscodeError::internal("validation", "the decoding thread panicked"))
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        self.shared.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn open_track(s: &ff::format::stream::Stream, hash: bool) -> Result<Option<Track>, TranscodeError> {
    let medium = s.parameters().medium();
    if !matches!(medium, ff::media::Type::Video | ff::media::Type::Audio) {
        return Ok(None);
    }
    let mut ctx = ff::codec::Context::from_parameters(s.parameters()).map_err(ff_err("validation decoder"))?;
    // One thread: this decode runs beside the encoders, in their idle time.
    ctx.set_threading(ff::codec::threading::Config { count: 1, ..Default::default() });
    let mut dec = ctx.decoder();
    dec.set_packet_time_base(s.time_base());
    let dec = if medium == ff::media::Type::Video {
        Dec::Video(dec.video().map_err(ff_err("output video decoder"))?)
    } else {
        Dec::Audio(dec.audio().map_err(ff_err("output audio decoder"))?)
    };
    let video = matches!(dec, Dec::Video(_));
    let hash = hash.then(Sha256::new);
    Ok(Some(Track { dec, out: Decoded { video, ..Default::default() }, hash }))
}

fn run(queue: &Shared, mut tracks: Vec<Option<Track>>) -> Vec<Option<Decoded>> {
    for p in std::iter::from_fn(|| queue.pop()).flat_map(|b| b.packets) {
        if let Some(Some(t)) = tracks.get_mut(p.stream()) {
            t.out.packets += 1;
            if let Some(pts) = p.pts().or(p.dts()) {
                t.out.packet_pts = Some(t.out.packet_pts.map_or((pts, pts), |(a, b)| (a.min(pts), b.max(pts))));
            }
            feed(t, Some(&p));
        }
    }
    tracks
        .into_iter()
        .map(|t| {
            t.map(|mut t| {
                feed(&mut t, None);
                t.out.hash = t.hash.take().map(|h| h.finalize().to_vec());
                t.out
            })
        })
        .collect()
}

fn feed(t: &mut Track, packet: Option<&ff::Packet>) {
    let out = &mut t.out;
    match &mut t.dec {
        Dec::Video(d) => {
            let sent = match packet {
                Some(p) => d.send_packet(p),
                None => d.send_eof(),
            };
            out.errors += u64::from(sent.is_err());
            let mut f = frame::Video::empty();
            while d.receive_frame(&mut f).is_ok() {
                out.frames += 1;
                out.errors += u64::from(f.is_corrupt() || f.has_decode_errors());
                out.shape = [f.width(), f.height()];
                let pts = f.timestamp().unwrap_or(0);
                out.first_pts = Some(out.first_pts.map_or(pts, |x| x.min(pts)));
                if out.frames == 1 || pts >= out.max_pts {
                    out.max_pts = pts;
                    out.max_pts_duration = frame_duration(&f);
                }
                if let Some(h) = t.hash.as_mut() {
                    hash_video(h, &f);
                }
            }
        }
        Dec::Audio(d) => {
            let sent = match packet {
                Some(p) => d.send_packet(p),
                None => d.send_eof(),
            };
            out.errors += u64::from(sent.is_err());
            let mut f = frame::Audio::empty();
            while d.receive_frame(&mut f).is_ok() {
                out.samples += f.samples() as u64;
                out.errors += u64::from(f.is_corrupt() || f.has_decode_errors());
                out.shape = [f.rate(), u32::from(f.channels())];
                if let Some(h) = t.hash.as_mut() {
                    hash_audio(h, &f);
                }
            }
        }
    }
}

/// The frame's own duration in its stream's time base.
fn frame_duration(f: &frame::Video) -> i64 {
    // SAFETY: a decoded frame; `pkt_duration` is a plain field (`duration` in newer FFmpeg).
    #[allow(deprecated)]
    unsafe {
        (*f.as_ptr()).pkt_duration
    }
}

/// Hashes the visible bytes of each plane, row by row (strides vary).
fn hash_video(hash: &mut Sha256, f: &frame::Video) {
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

fn hash_audio(hash: &mut Sha256, f: &frame::Audio) {
    // SAFETY: pure function of the sample format.
    let bps = unsafe { ff::ffi::av_get_bytes_per_sample(ff::ffi::AVSampleFormat::from(f.format())) };
    let bps = usize::try_from(bps).unwrap_or(0);
    let per_plane = if f.is_planar() { f.samples() * bps } else { f.samples() * bps * usize::from(f.channels()) };
    for plane in 0..f.planes() {
        let data = f.data(plane);
        hash.update(&data[..per_plane.min(data.len())]);
    }
}

/// One SHA-256 over the outputs' streams in index order, each contributing
/// its index and the SHA-256 of its decoded data, so the result does not
/// depend on how the streams' packets interleaved. `None` when the streams
/// were decoded without hashing.
pub(crate) fn combined_hash(decoded: &[Option<Decoded>]) -> Option<String> {
    let mut all = Sha256::new();
    for (i, d) in decoded.iter().enumerate() {
        if let Some(d) = d {
            all.update((i as u32).to_le_bytes());
            all.update(d.hash.as_ref()?);
        }
    }
    Some(hex::encode(all.finalize()))
}
