//! Acquisition sources: everything exhibit reads media *from* before a file
//! system parser sees it.
//!
//! - [`detect`]: raw image, EWF-E01 set or cue sheet, by content.
//! - [`open_ewf`]: an EWF-E01 set as a [`ReadAt`] whose every chunk read is
//!   checksum-verified, with the stored MD5/SHA-1 and case metadata.
//! - [`open_cue`]: a bin/cue disc; data tracks as 2048-byte-sector media,
//!   audio tracks as WAV streams.
//! - [`acquire`]: images a [`BlockDevice`] (read-only), retrying and
//!   zero-filling bad sectors, with a GNU ddrescue mapfile of the result.
//!
//! ```no_run
//! use exhibit_media_core::{Limits, ReadAt};
//! use exhibit_media_sources::{SourceFormat, detect, open_ewf};
//! let path = std::path::Path::new("evidence.E01");
//! if detect(path)? == SourceFormat::Ewf {
//!     let image = open_ewf(path, &Limits::default())?;
//!     println!("{} bytes, case {:?}", image.size(), image.metadata().case_number);
//! }
//! # Ok::<(), exhibit_media_core::MediaError>(())
//! ```

mod cue;
mod detect;
mod device;
mod ewf;
mod lru;

use std::sync::Arc;

use exhibit_media_core::{BytesAt, Limits, ReadAt};

pub use cue::{CueImage, CueTrack, MAX_CUE_BYTES, TrackMode, cue_binary_files, open_cue, open_cue_with};
pub use detect::{SourceFormat, detect};
pub use device::{
    AcquisitionRecord, BlockDevice, DeviceIdentity, FaultyDevice, LinuxBlockDevice, RetryPolicy, acquire,
};
pub use ewf::{EVF_SIGNATURE, EwfImage, EwfMetadata, EwfVerification, open_ewf, segment_path};

/// Bytes [`fuzz_one`] reads from one input at most, so a small input that
/// inflates enormously ends the case instead of stalling the fuzzer.
const FUZZ_READ_CAP: u64 = 64 << 20;

/// Fuzz entry: opens `data` as a one-segment EWF image and reads all its
/// media, and parses it as a cue sheet; every error is ignored.
pub fn fuzz_one(data: &[u8]) {
    let limits = Limits { max_alloc: 1 << 20, ..Limits::default() };
    let segment: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    if let Ok(image) = EwfImage::from_segments(vec![("fuzz.E01".into(), segment)], &limits) {
        drain(&image, FUZZ_READ_CAP);
    }
    let _ = cue::parse_sheet(data);
}

/// Reads `media` from start to end (at most `cap` bytes), stopping at the
/// first error; returns the bytes read.
pub fn drain(media: &dyn ReadAt, cap: u64) -> u64 {
    let mut buf = vec![0u8; 64 << 10];
    let mut pos = 0u64;
    while pos < media.size().min(cap) {
        match media.read_at(pos, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => pos += n as u64,
        }
    }
    pos
}

/// Whether `text` parses as a cue sheet (for content-based detection of a
/// stored file without opening the `.bin` files it names).
pub fn is_cue_sheet_text(text: &[u8]) -> bool {
    cue::parse_sheet(text).is_ok()
}
