//! Sniffing in process: which libavformat demuxer claims the first bytes of
//! a file, and how sure it is (`av_probe_input_format3`). Only the
//! demuxers' probe functions run here: pattern checks over one bounded,
//! zero-padded buffer, with no I/O, no demuxer state and no decoding.
//! Opening a container and decoding run in the child ([`crate::probe_media`]).

use std::ffi::{CStr, c_int};

use ffmpeg_next::ffi;

/// libavformat's score for a certain match (`AVPROBE_SCORE_MAX`).
pub const SCORE_MAX: i32 = 100;
/// The score above which libavformat itself stops reading more data to
/// decide (`AVPROBE_SCORE_RETRY`): lower scores are guesses.
pub const SCORE_RETRY: i32 = SCORE_MAX / 4;
/// Most leading bytes the demuxers are shown.
pub const SNIFF_LIMIT: usize = 1 << 20;
/// Zero bytes libavformat requires after the buffer (`AVPROBE_PADDING_SIZE`).
const PADDING: usize = 32;

/// The demuxer that claims a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// Demuxer name, as ffprobe's `format_name` prints it (`avi`, `mov,mp4,m4a,3gp,3g2,mj2`).
    pub demuxer: String,
    /// Demuxer description.
    pub long_name: String,
    /// How sure it is, 1 to [`SCORE_MAX`].
    pub score: i32,
}

impl Sniffed {
    /// Whether the demuxer reads still images (`image2`, `png_pipe`...),
    /// which are not audio or video.
    pub fn is_still_image(&self) -> bool {
        self.demuxer == "image2" || self.demuxer.ends_with("_pipe")
    }
}

/// The demuxer whose probe scores the content that starts with `head`
/// highest, if any scores above zero. Looks at the first [`SNIFF_LIMIT`]
/// bytes; the file name is not shown, so the extension adds nothing.
pub fn sniff(head: &[u8]) -> Option<Sniffed> {
    if head.is_empty() || crate::init().is_err() {
        return None;
    }
    let len = head.len().min(SNIFF_LIMIT);
    let mut buf = Vec::with_capacity(len + PADDING);
    buf.extend_from_slice(&head[..len]);
    buf.resize(len + PADDING, 0);
    let probe = ffi::AVProbeData {
        filename: c"".as_ptr(),
        buf: buf.as_mut_ptr(),
        buf_size: c_int::try_from(len).ok()?,
        mime_type: std::ptr::null(),
    };
    let mut score: c_int = 0;
    // SAFETY: `probe` points at `len` bytes followed by PADDING zero bytes,
    // all owned by `buf`, which outlives the call; the filename is a static
    // empty C string. The function only reads them and writes `score`.
    let format = unsafe { ffi::av_probe_input_format3(&probe, 1, &mut score) };
    if format.is_null() || score <= 0 {
        return None;
    }
    // SAFETY: a non-null result is one of libavformat's static demuxer
    // descriptions, whose name and long name are static C strings or null.
    let (name, long_name) = unsafe { ((*format).name, (*format).long_name) };
    Some(Sniffed { demuxer: c_text(name)?, long_name: c_text(long_name).unwrap_or_default(), score })
}

fn c_text(p: *const std::ffi::c_char) -> Option<String> {
    // SAFETY: `p` is null or a static NUL-terminated string from libavformat.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wav_header_is_certain_and_nothing_is_nothing() {
        let mut wav = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x44\xac\x00\x00".to_vec();
        wav.extend_from_slice(b"\x88\x58\x01\x00\x02\x00\x10\x00data\x00\x00\x00\x00");
        let found = sniff(&wav).expect("a WAV header");
        assert_eq!(found.demuxer, "wav");
        assert!(found.score > SCORE_RETRY, "{found:?}");
        assert_eq!(sniff(&[]), None);
    }

    #[test]
    fn still_images_are_told_apart() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00";
        let found = sniff(png).expect("a PNG header");
        assert!(found.is_still_image(), "{found:?}");
    }

    #[test]
    fn a_buffer_over_the_limit_is_cut_not_copied_whole() {
        let big = vec![0u8; SNIFF_LIMIT + 10];
        // Zeros claim nothing for certain; the point is no panic and no
        // read past the padded copy.
        let _ = sniff(&big);
    }
}
