//! Track views: user data of data sectors as a flat medium, and audio
//! sectors wrapped in a WAV header.

use std::io::{self, Cursor, Read};
use std::sync::Arc;

use exhibit_media_core::{MediaError, ReadAt, ReadSeekAt, SliceAt};

use super::CueTrack;

/// User bytes per data sector (mode 1 and mode 2 form 1).
const USER: u64 = 2048;

/// A data track's user data: sector `i` of the view is bytes
/// `[user, user + 2048)` of raw sector `i` of the track.
pub(crate) struct TrackView {
    file: Arc<dyn ReadAt>,
    base: u64,
    sector_size: u64,
    user: u64,
    size: u64,
}

impl TrackView {
    pub(crate) fn new(file: Arc<dyn ReadAt>, track: &CueTrack, user: u64) -> Self {
        let sector_size = track.mode.sector_size();
        Self { file, base: track.file_offset, sector_size, user, size: track.length.saturating_mul(USER) }
    }
}

impl ReadAt for TrackView {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset.saturating_add(done as u64);
            if pos >= self.size {
                break;
            }
            let (sector, within) = (pos / USER, pos % USER);
            let n = usize::try_from(USER - within).unwrap_or(usize::MAX).min(buf.len() - done);
            let at = self.base + sector * self.sector_size + self.user + within;
            let got = self.file.read_at(at, &mut buf[done..done + n])?;
            if got == 0 {
                break;
            }
            done += got;
        }
        Ok(done)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

/// The 44-byte RIFF/WAVE header for `data_len` bytes of CD audio.
pub(crate) fn wav_header(data_len: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    let fields: [(usize, &[u8]); 12] = [
        (0, b"RIFF"),
        (4, &data_len.saturating_add(36).to_le_bytes()),
        (8, b"WAVEfmt "),
        (16, &16u32.to_le_bytes()),
        (20, &1u16.to_le_bytes()),
        (22, &2u16.to_le_bytes()),
        (24, &44_100u32.to_le_bytes()),
        (28, &176_400u32.to_le_bytes()),
        (32, &4u16.to_le_bytes()),
        (34, &16u16.to_le_bytes()),
        (36, b"data"),
        (40, &data_len.to_le_bytes()),
    ];
    for (at, bytes) in fields {
        if let Some(dst) = h.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
    h
}

/// A WAV stream of an audio track: the header, then its sectors as stored
/// (CD-DA is already 16-bit little-endian interleaved stereo).
pub(crate) fn wav_stream(file: Arc<dyn ReadAt>, track: &CueTrack) -> Result<impl Read + Send + use<>, MediaError> {
    let len = track.length.saturating_mul(track.mode.sector_size());
    let data_len = u32::try_from(len)
        .ok()
        .filter(|l| l.checked_add(36).is_some())
        .ok_or_else(|| MediaError::unsupported(format!("track {} is too long for a WAV file", track.number)))?;
    let pcm = SliceAt::new(file, track.file_offset, len);
    Ok(Cursor::new(wav_header(data_len)).chain(ReadSeekAt::new(Arc::new(pcm)).take(len)))
}
