//! Audio tracks as WAV streams. Data tracks are read through
//! [`exhibit_core::view::CdSectorsAt`], the reader views over a `.bin` use.

use std::io::{Cursor, Read};
use std::sync::Arc;

use exhibit_media_core::{MediaError, ReadAt, ReadSeekAt, SliceAt};

use super::CueTrack;

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
